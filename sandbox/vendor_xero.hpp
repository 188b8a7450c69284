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
// Writes (sandbox/xero_writes.cpp): PUT /Contacts|/Invoices|/Payments creates, POST on the
// collection or on /{Collection}/{id} updates (payments cannot be changed); GET /{Collection}/{id}
// reads one; GET …?where=ContactNumber=="X" (contacts) or Reference=="X" finds written records by
// the application's key. Bad writes are 400 ValidationException with Xero's messages in
// Elements[].ValidationErrors; an Idempotency-Key replays the first answer to the same request
// (no second effect) and refuses another request under it (400). Written records join the
// lists with their own UpdatedDateUTC, and every effect is counted in the effect_log.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
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
  // Writes are counted in `effects`, which must outlive the API.
  xero_api(xero_options o, oauth_server& auth, clock_fn now, effect_log& effects);

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
  // The next `count` writes fail: write_500 (no effect, HTTP 500), write_lost (the effect
  // happens, then HTTP 500), write_429 (a minute-limit 429, no effect). False for another kind.
  bool fault(const std::string& kind, size_t count);

  const std::string& tenant_id() const { return opts_.tenant_id; }
  static const std::vector<std::string>& collections();  // Invoices, Contacts, …, Accounts
  // Every record of `collection` as served (deleted and archived included), for tests.
  std::vector<std::string> records(const std::string& collection);

 private:
  void render(size_t coll, size_t idx, std::string& out) const;
  vendor_response error(int status, std::string body);
  void limit_headers(vendor_response& r, int64_t now);
  // xero_writes.cpp; called with mu_ held, after sign-in and rate limits.
  vendor_response write(const vendor_request& req, int64_t now);
  // GET /{Collection}/{id}; nothing when `path` is not such a path.
  std::optional<vendor_response> read_one(const std::string& path, int64_t now);
  // The written records of `coll` that a list shows, as (updated, order, text); `where` a
  // Field=="value" filter (only written records carry the application's keys).
  void written_in_list(size_t coll, int64_t since, bool archived, const std::string& where,
                       std::vector<std::tuple<int64_t, size_t, std::string>>& out) const;
  struct written {
    std::string id;
    nlohmann::json body;  // amounts as model::exact_number, dumped by model::dump_exact
  };
  written* find_written(size_t coll, const std::string& id);
  // A seeded record made writable: rendered once into a written copy that replaces it.
  written* materialize(size_t coll, const std::string& id);
  int64_t next_update(int64_t now);

  xero_options opts_;
  oauth_server& auth_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  window_limiter minute_, day_, app_minute_;
  size_t day_faults_ = 0;

  std::unique_ptr<effect_log> own_effects_;
  effect_log& effects_;
  std::vector<std::vector<written>> written_;  // per collection, in creation order
  std::vector<std::set<size_t>> shadowed_;     // seeded indices replaced by a written copy
  struct replay {
    std::string request;  // method, path and body of the first request under the key
    vendor_response answer;
  };
  std::map<std::string, replay> idempotency_;
  size_t write_500_ = 0, write_lost_ = 0, write_429_ = 0;
  int64_t last_update_ms_ = 0;
  uint64_t created_ = 0;
};

}  // namespace ledgersync::sandbox
