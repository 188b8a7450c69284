// A bounded stop for the service. Once SIGINT/SIGTERM has begun the stop, the process is gone
// within `limit`, or at once on a second SIGINT/SIGTERM (a second Ctrl-C means "now"). A stop
// that hangs would otherwise keep the data dir's lock and the ports until someone kill -9s it,
// and say nothing about why. Ending it early loses nothing: every commit is durable before it
// is acknowledged, so what is skipped is what a kill -9 would skip, and a line on stderr names
// the stage that did not finish.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace ledgersync {

class stop_watchdog {
 public:
  using clock_fn = std::function<std::chrono::steady_clock::time_point()>;
  // Waits at most the given time for SIGINT/SIGTERM; returns the signal, or 0.
  using wait_fn = std::function<int(std::chrono::milliseconds)>;
  // Ends the process (the service's: writes `why` to stderr, then _exit(code)).
  using expire_fn = std::function<void(const std::string& why)>;

  stop_watchdog(std::chrono::milliseconds limit, clock_fn now, wait_fn wait, expire_fn expire);
  stop_watchdog(const stop_watchdog&) = delete;
  stop_watchdog& operator=(const stop_watchdog&) = delete;
  ~stop_watchdog();  // finish(), then joins

  void start();                   // the stop has begun; call once
  void stage(const char* doing);  // what the stop does now (a string literal)
  void finish();                  // the stop is done: the watchdog stands down
  void run_for_test();            // start()'s loop on the calling thread (tests)

 private:
  void watch();

  std::chrono::milliseconds limit_;
  clock_fn now_;
  wait_fn wait_;
  expire_fn expire_;
  std::atomic<const char*> stage_{"starting the stop"};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// The service's: waits with sigtimedwait for SIGINT/SIGTERM (blocked in every thread of the
// service, so only this wait takes them once the first has been taken), writes why to stderr
// and calls _exit(exit_code).
std::unique_ptr<stop_watchdog> service_stop_watchdog(std::chrono::milliseconds limit,
                                                     int exit_code);

}  // namespace ledgersync
