// Webhook subscriptions: who is told about which events, and what happened to the last
// deliveries. Kept in DIR/webhooks.json (mode 0600), replaced atomically (temp file, fsync,
// rename) so a reader never sees half of it; the CLI edits it while the service delivers, so
// every call re-reads the file when its modification time, size or inode changed, and every
// change is a read-modify-write under an exclusive lock on DIR/webhooks.json.lock, so the
// service's delivery log and the CLI's `webhook resume` never overwrite each other.
// A subscription's signing secret is sealed with the service's secret_box; it is shown once,
// by add(), and never again (the dispatcher unseals it to sign).
// Thread-safe: one mutex around the cached list.
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/private_file.hpp"
#include "storage/secrets.hpp"

namespace ledgersync::notify {

// The events a subscription may ask for; "*" in add() means all of them.
const std::vector<std::string>& known_events();

// One attempt to deliver one event to one subscription.
struct delivery_record {
  std::string delivery_id;  // the same for every attempt of one delivery
  std::string event;
  std::string at;  // ISO 8601 UTC, when the attempt was sent
  int attempt = 1;
  int status = 0;     // the HTTP status; 0 when no answer came (then `error` says why)
  std::string error;  // transport failure: refused, timeout, ...
  int64_t duration_ms = 0;
  // "delivered"; "retrying" (another attempt follows); "failed" (the last attempt failed);
  // "dropped" (the subscription was paused or removed before it could be sent).
  std::string outcome;
};

struct subscription {
  std::string id;
  std::string url;
  std::vector<std::string> events;
  std::string sealed_secret;
  std::string created_at;
  std::string state = "active";  // active | paused
  std::string paused_reason;
  int consecutive_failures = 0;             // deliveries (not attempts) that failed in a row
  std::vector<delivery_record> deliveries;  // the newest last; at most max_recent

  static constexpr size_t max_recent = 20;
  bool wants(std::string_view event) const;
};

struct notify_error {
  enum kind { none, invalid, not_found, io } what = none;
  std::string message;
};

struct created_subscription {
  subscription sub;
  std::string secret;  // "whsec_" + 64 hex digits; stored only sealed
};

// What the CLI's --json and the HTTP API show of a subscription (never its secret) and of one
// delivery attempt.
nlohmann::json describe(const subscription& s);
nlohmann::json describe(const delivery_record& d);

// Checks a notification URL as upstream URLs are checked: absolute http or https with a host,
// no file:// or other scheme, no fragment. Empty when fine, else why not.
std::string url_problem(std::string_view url);
// "status_changed,run_failed" or "*" to the list, or an error naming the unknown event.
std::optional<std::vector<std::string>> parse_events(std::string_view text, notify_error& err);

class subscription_store {
 public:
  // `box` may be null for callers that never add or sign (list, remove, resume).
  subscription_store(std::string path, const secret_box* box);

  std::optional<created_subscription> add(const std::string& url,
                                          const std::vector<std::string>& events,
                                          notify_error& err);
  std::optional<std::vector<subscription>> list(notify_error& err);
  std::optional<subscription> get(const std::string& id, notify_error& err);
  bool remove(const std::string& id, notify_error& err);
  // A paused subscription back to active, its failure count cleared.
  bool resume(const std::string& id, notify_error& err);
  bool pause(const std::string& id, const std::string& reason, notify_error& err);
  // Appends an attempt to the delivery log (keeping the newest max_recent). A "delivered"
  // outcome clears the failure count, a "failed" one adds to it. Returns the subscription as
  // stored afterwards.
  std::optional<subscription> record_delivery(const std::string& id, const delivery_record& rec,
                                              notify_error& err);
  // The plain signing secret.
  std::optional<std::string> secret_of(const subscription& s, notify_error& err) const;

 private:
  bool refresh(notify_error& err);  // with mu_ held
  bool save(const std::vector<subscription>& subs, notify_error& err);
  // Runs `change` on a fresh copy of the list under the file lock, then saves it.
  template <class F>
  bool modify(notify_error& err, F&& change);

  watched_file file_;
  const secret_box* box_;
  std::mutex mu_;
  std::vector<subscription> subs_;
  std::string load_error_;
};

}  // namespace ledgersync::notify
