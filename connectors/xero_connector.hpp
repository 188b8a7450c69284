// The Xero connector (kind xero): invoices, contacts, payments, bank transactions and accounts
// of one Xero organisation (api.xro/2.0) as canonical records (model/map_xero.hpp). Every
// request names the organisation by its `xero-tenant-id`; a pass reads `page=N` until a short
// or empty page or the page count Xero gives (Accounts come whole), and later passes send
// `If-Modified-Since` from the newest UpdatedDateUTC the previous pass committed. Voided and
// deleted documents become tombstones.
//
// Xero's limits (UPSTREAM-PROTOCOLS.md): a 429's X-Rate-Limit-Problem and Retry-After decide the
// wait; a daily limit's wait, hours long, ends the run instead (its error carries the reset),
// and a remaining-quota header at its floor asks the engine to pause before the next request.
#pragma once

#include <cstdint>
#include <string>

#include "connectors/http_types.hpp"
#include "connectors/registry.hpp"

namespace ledgersync {

connector_kind xero_connector_kind();

// What a Xero answer's rate-limit headers mean for the sync. Plain function of the answer,
// tested on its own.
struct xero_limits {
  // The request was refused (429): the error to report, with retry_after_s set to Xero's
  // Retry-After, or to an hour for a daily limit that names no reset.
  error_info refused;
  // Milliseconds to wait before the next request because a remaining count is at its floor
  // (0: none). Only the minute limits are paced this way: when the daily one resets is known
  // only from its 429, which ends the run rather than waiting hours inside it.
  int64_t pause_ms = 0;
  // The same for the app's minute limit (X-AppMinLimit-Remaining), which every integration of
  // the app spends: page_result::shared_pause_ms.
  int64_t shared_pause_ms = 0;
};
xero_limits read_xero_limits(const http_response& r, const std::string& what);

// Why Xero refused (401/403) in words a user can act on, or "" for other answers.
error_info explain_xero_refusal(const http_response& r, const std::string& what);

}  // namespace ledgersync
