// Xero Accounting API (api.xro/2.0) as the sandbox serves it below /xero/api.xro/2.0:
//   GET /Invoices, /Contacts, /Payments, /BankTransactions  ?page=P&pageSize=S (default 100,
//       at most 1000) -> {"Id","Status":"OK","ProviderName","DateTimeUTC",
//       "pagination":{"page","pageSize","pageCount","itemCount"},"<Collection>":[…]}
//   GET /Accounts (not paged: the whole chart)
// ordered by (UpdatedDateUTC, id); `If-Modified-Since: 2026-11-01T00:00:00` (UTC, seconds) keeps
// records updated at or after it. Contacts leave out ARCHIVED ones unless includeArchived=true.
// Requires `Authorization: Bearer <token from oauth_server>` (401 {"Title":"Unauthorized",
// "Status":401,"Detail":"AuthenticationUnsuccessful"}) and `xero-tenant-id` (missing: 400,
// another tenant: 403 AuthorizationUnsuccessful). Every response carries X-DayLimit-Remaining,
// X-MinLimit-Remaining and X-AppMinLimit-Remaining; over 60/min per tenant is 429 with
// X-Rate-Limit-Problem: minute and Retry-After (seconds to the next minute); over the day limit
// (or the day_limit fault) 429 with X-Rate-Limit-Problem: day and Retry-After to UTC midnight;
// the day_remaining fault leaves only N of the day's calls.
// Removed invoices and bank transactions become VOIDED or DELETED, payments and accounts DELETED,
// contacts ARCHIVED; some records start that way.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "sandbox/vendor_common.hpp"
#include "sandbox/vendor_oauth.hpp"

namespace ledgersync::sandbox {

struct xero_options {
  size_t records = 100;  // per collection (Accounts: a fixed chart)
  uint64_t seed = 1;
  std::string tenant_id;  // "" = derived from the seed
  size_t minute_limit = 60;
  size_t day_limit = 5000;
  size_t app_minute_limit = 10000;
};

class xero_api {
 public:
  xero_api(xero_options o, oauth_server& auth, clock_fn now);

  // `req.path` below the prefix, e.g. "/Invoices".
  vendor_response handle(const vendor_request& req);
  // /_sandbox/{mutate,invalid,repair,remove} on a collection; the number changed, or -1 when
  // the collection is unknown.
  long control(vendor_collection::action a, const std::string& collection, size_t count);
  // The next `count` requests get a day-limit 429.
  void fault_day_limit(size_t count);
  // Spends today's quota but `left` calls: X-DayLimit-Remaining counts down from there, and
  // the call after the last is a day-limit 429 (a client that reads the header never makes it).
  void spend_day_limit(size_t left);

  const std::string& tenant_id() const { return opts_.tenant_id; }
  static const std::vector<std::string>& collections();  // Invoices, Contacts, …, Accounts
  // Every record of `collection` as served (deleted and archived included), for tests.
  std::vector<std::string> records(const std::string& collection);

 private:
  void render(size_t coll, size_t idx, std::string& out) const;
  vendor_response error(int status, std::string body);
  void limit_headers(vendor_response& r, int64_t now);

  xero_options opts_;
  oauth_server& auth_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  window_limiter minute_, day_, app_minute_;
  size_t day_faults_ = 0;
};

}  // namespace ledgersync::sandbox
