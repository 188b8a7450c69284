// The Xero connector (kind xero): invoices, contacts, payments, bank transactions and accounts
// of one Xero organisation (api.xro/2.0) as canonical records (model/map_xero.hpp). Every
// request names the organisation by its `xero-tenant-id`; a pass reads `page=N` until a short
// or empty page or the page count Xero gives (Accounts come whole), and later passes send
// `If-Modified-Since` from the newest UpdatedDateUTC the previous pass committed. Voided and
// deleted documents become tombstones.
//
// Xero's limits (UPSTREAM-PROTOCOLS.md): a 429's X-Rate-Limit-Problem and Retry-After decide the
// wait (an app-minute 429 holds every integration of the app); a daily limit's wait, hours
// long, ends the run instead (its error carries the reset), and so does an X-DayLimit-Remaining
// of 0, after its page is committed and before any call is refused; a minute's remaining count
// at its floor asks the engine to pause before the next request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "connectors/http_types.hpp"
#include "connectors/registry.hpp"

namespace ledgersync {

connector_kind xero_connector_kind();
// The writing half (connectors/xero_writer.cpp): contacts, invoices, payments.
std::unique_ptr<push_writer> make_xero_writer(const integration_config& config);

// What a Xero answer's rate-limit headers mean for the sync. Plain function of the answer,
// tested on its own.
struct xero_limits {
  // The request was refused (429): the error to report, with retry_after_s set to Xero's
  // Retry-After, or to an hour for a daily limit that names no reset.
  error_info refused;
  // Milliseconds to wait before the next request because a remaining count is at its floor
  // (0: none). Only the minute limits are paced this way: the daily one frees calls hours
  // later, so the run ends rather than waiting inside it (day_spent).
  int64_t pause_ms = 0;
  // The same for the app's minute limit (X-AppMinLimit-Remaining, or a 429 whose
  // X-Rate-Limit-Problem is appminute: its Retry-After), which every integration of the app
  // spends: page_result::shared_pause_ms.
  int64_t shared_pause_ms = 0;
  // X-DayLimit-Remaining is 0: the run ends after this answer's page (page_result::stop_after)
  // with this error, whose retry_after_s holds back the next runs. Ok while calls are left.
  error_info day_spent;
};
xero_limits read_xero_limits(const http_response& r, const std::string& what);

// Why Xero refused (401/403) in words a user can act on, or "" for other answers.
error_info explain_xero_refusal(const http_response& r, const std::string& what);

}  // namespace ledgersync
