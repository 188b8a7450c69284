// Delivers notifications to webhook subscriptions without ever holding up the caller: notify()
// only queues the event (a bounded queue: beyond max_pending the oldest is dropped and
// counted), and the work happens in run_due(), which a thread of the dispatcher's own runs in
// the service and a test calls directly after moving its clock.
// Each delivery is a POST of the signed payload (notify/signing.hpp) to the subscription's
// URL, allowed only to that URL's own origin and never following a redirect; 2xx is delivered,
// anything else (3xx included) or a transport error is a failed attempt, retried on the
// retry_schedule. Every attempt is written to the subscription's delivery log; a subscription
// whose deliveries keep failing is paused and gets nothing until `webhook resume`.
// Delivery is at least once: a receiver deduplicates by the Ledgersync-Delivery header.
// Thread-safe: notify() and stats() from any thread; run_due() from one thread at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/http_client.hpp"
#include "core/time_util.hpp"
#include "notify/subscriptions.hpp"
#include "storage/secrets.hpp"

namespace ledgersync::notify {

struct retry_settings {
  std::chrono::milliseconds first_delay{1000};
  std::chrono::milliseconds max_delay{5 * 60 * 1000};
  int max_attempts = 8;                      // per delivery, the first included
  int pause_after = 10;                      // failed deliveries in a row that pause a subscription
  std::chrono::milliseconds timeout{10000};  // per attempt
  size_t max_pending = 10000;  // queued events, and separately deliveries awaiting a retry
};

// When to try again and when to give up: plain arithmetic, tested on its own.
class retry_schedule {
 public:
  explicit retry_schedule(retry_settings s = {}) : s_(s) {}
  // After attempt `attempt` (1 = the first) failed: the wait before the next, doubling from
  // first_delay up to max_delay; none when that was the last attempt.
  std::optional<std::chrono::milliseconds> delay_after(int attempt) const;
  bool should_pause(int consecutive_failed_deliveries) const {
    return consecutive_failed_deliveries >= s_.pause_after;
  }
  static bool delivered(int status) { return status >= 200 && status <= 299; }
  const retry_settings& settings() const { return s_; }

 private:
  retry_settings s_;
};

// Wall time for the dispatcher, so tests can move it by hand.
class clock_source {
 public:
  virtual ~clock_source() = default;
  virtual sys_ms now() const = 0;
};

class system_clock_source : public clock_source {
 public:
  sys_ms now() const override;
};

class dispatcher {
 public:
  dispatcher(subscription_store& store, const secret_box& box, http_transport& transport,
             const clock_source& clock, retry_settings settings = {});
  ~dispatcher();
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  // Queues one event for every active subscription that wants `type`; returns at once.
  void notify(const std::string& type, nlohmann::json data);

  // Starts the thread that runs run_due() whenever something is due or arrives; stop() (and
  // the destructor) ends it. Answers still in flight are dropped with the dispatcher.
  void start();
  void stop();

  // Handles the answers that arrived, fans queued events out to their subscriptions and sends
  // every attempt due at clock.now(). Returns when the next retry is due, if one is waiting.
  std::optional<sys_ms> run_due();

  struct counters {
    uint64_t dropped = 0;    // events or retries pushed out of a full queue
    uint64_t delivered = 0;  // deliveries answered 2xx
    uint64_t failed_attempts = 0;
    uint64_t given_up = 0;  // deliveries whose last attempt failed
    uint64_t paused = 0;    // subscriptions paused for failing
    size_t queued = 0, waiting = 0, in_flight = 0;
  };
  counters stats() const;

 private:
  struct job {
    std::string delivery_id, subscription_id, url, event, body;
    int attempt = 0;
    sys_ms due{}, sent{};
  };
  struct answer {
    job j;
    http_response response;
  };
  struct pending_event {
    std::string type, body;
  };
  // What the transport's callbacks touch: shared, so an answer arriving after the dispatcher
  // is gone lands here and is dropped.
  struct shared {
    std::mutex mu;
    std::condition_variable wake;
    std::deque<pending_event> events;
    std::deque<job> waiting;
    std::vector<answer> answers;
    counters c;
    bool stopping = false;
  };

  void handle(answer a);
  void send(job j);
  void loop();

  subscription_store& store_;
  const secret_box& box_;
  http_transport& transport_;
  const clock_source& clock_;
  retry_schedule schedule_;
  std::shared_ptr<shared> s_ = std::make_shared<shared>();
  std::thread worker_;
};

}  // namespace ledgersync::notify
