// Error categories users see in status and the sync log, each with what to do about it.
// Plain data: no CAF, no I/O. Shared by connectors (which classify), integration actors
// (which decide retry/status) and every surface (which print the hint).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ledgersync {

enum class error_category : uint8_t {
  none = 0,
  auth,          // 401/403: credentials rejected; never retried until reconfigured
  timeout,       // upstream too slow; retried with backoff
  upstream,      // 5xx, reset, malformed body; retried with backoff
  rate_limited,  // 429: wait for Retry-After, then go on
  validation,    // a record lacks required fields: set aside, run continues
  config,        // bad URL, unknown connector, bad schedule: refused at save
  storage,       // local disk/database failure: nothing committed, run resumes later
  unreachable,   // no connection at all (DNS, refused, TLS handshake): Disconnected; retried
  tls,           // a certificate refused (theirs or ours): Disconnected; not retried
};

std::string_view category_name(error_category c);
error_category category_from_name(std::string_view name);  // unknown -> none
std::string_view category_hint(error_category c);
bool category_retryable(error_category c);
// Categories users see as "Disconnected": the connection itself is lost (refused credentials, an
// upstream that cannot be reached). A slow or oversized answer comes from an upstream that does
// answer, so it is not one of them.
bool category_disconnects(error_category c);

// A Status-like value that crosses module boundaries instead of exceptions.
struct error_info {
  error_category category = error_category::none;
  std::string message;
  // Set for failures where no HTTP answer came back at all (refused, reset, DNS, timeout):
  // they mean the upstream is unreachable, which users see as "Disconnected".
  bool transport = false;
  int retry_after_s = -1;  // from Retry-After, -1 when absent
  // The same request would fail the same way again (not UTF-8, nested too deep, too large):
  // retrying only spends the vendor's quota, so the run fails at once.
  bool permanent = false;
  // Replaces the category's hint when the cause is known more precisely (which certificate
  // failed how): a `tls` failure has several unrelated remedies.
  std::string specific_hint;
  // The settings (keys of the integration's config) whose change fixes it, when the cause
  // names them: every surface offers to change exactly those (the CLI as its flags, the page
  // as the Configure panel). Empty: the category's own (see settings_to_fix).
  std::vector<std::string> fix_settings;

  bool ok() const { return category == error_category::none; }
  bool retryable() const { return !permanent && category_retryable(category); }
  std::string hint() const {
    return specific_hint.empty() ? std::string(category_hint(category)) : specific_hint;
  }
  // Whether changing the integration's settings is the fix (auth, config, tls), and which.
  bool fixed_by_settings() const;
  std::vector<std::string> settings_to_fix() const;
};

inline error_info make_error_info(error_category c, std::string msg, bool transport = false) {
  error_info e;
  e.category = c;
  e.message = std::move(msg);
  e.transport = transport;
  return e;
}

}  // namespace ledgersync
