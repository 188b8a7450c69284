// Sage Business Cloud Accounting v3.1 as the sandbox serves it below /sage/v3.1:
//   GET /contacts, /sales_invoices, /contact_payments, /bank_accounts, /ledger_accounts
//       ?page=P&items_per_page=N (default 20, at most 200)&attributes=all
//       &updated_or_created_since=ISO | &deleted_since=ISO
//   -> {"$total","$page","$next","$back","$itemsPerPage","$items":[…]}; $next/$back are paths
//      below /sage/v3.1 (null at the ends); a page past the end returns the last page again, as
//      Sage does. Without attributes=all an item is only {id, displayed_as, $path}.
//   deleted_since lists what was deleted since then as {"id","deleted_at"}; otherwise deleted
//   records are left out.
// Requires `Authorization: Bearer <token from oauth_server>` and `X-Business` (missing: 400,
// another business: 404). Errors are Sage's arrays [{"$severity":"error","$dataCode",
// "$message","$source"}]; over `minute_limit` requests in a minute, 429 with Retry-After.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "sandbox/vendor_common.hpp"
#include "sandbox/vendor_oauth.hpp"

namespace ledgersync::sandbox {

struct sage_options {
  size_t records = 100;  // per collection (ledger and bank accounts: a fixed chart)
  uint64_t seed = 1;
  std::string business_id;  // "" = derived from the seed
  size_t minute_limit = 200;
};

class sage_api {
 public:
  sage_api(sage_options o, oauth_server& auth, clock_fn now);

  vendor_response handle(const vendor_request& req);  // path below the prefix
  long control(vendor_collection::action a, const std::string& collection, size_t count);
  const std::string& business_id() const { return opts_.business_id; }
  static const std::vector<std::string>& collections();
  std::vector<std::string> records(const std::string& collection);  // full, deleted included

 private:
  void render(size_t coll, size_t idx, bool full, std::string& out) const;
  std::string id_of(size_t coll, size_t idx) const;

  sage_options opts_;
  oauth_server& auth_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  window_limiter minute_;
};

}  // namespace ledgersync::sandbox
