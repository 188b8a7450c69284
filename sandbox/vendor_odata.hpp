// An OData v4 service (what ERPs expose) as the sandbox serves it below /odata:
//   GET /Customers, /Invoices  ?$filter=Modified ge|gt <ISO>&$count=true&$top=N&$skip=N
//       Prefer: odata.maxpagesize=N (at most 1000; the default page is 100) is confirmed with
//       Preference-Applied; -> {"@odata.context","@odata.count"?,"value":[…],
//       "@odata.nextLink":"Invoices?$skiptoken=…"} (relative, absent on the last page), ordered
//       by (Modified, No). Removed records stay with IsDeleted true.
// Auth: `Authorization: Bearer <api key or an access token from oauth_server>`. Errors are
// {"error":{"code","message"}}.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "sandbox/vendor_common.hpp"
#include "sandbox/vendor_oauth.hpp"

namespace ledgersync::sandbox {

struct odata_options {
  size_t records = 100;
  uint64_t seed = 1;
  std::string api_key = "sk_test_sandbox";
};

class odata_api {
 public:
  odata_api(odata_options o, oauth_server& auth, clock_fn now);
  vendor_response handle(const vendor_request& req);  // path below /odata
  long control(vendor_collection::action a, const std::string& set, size_t count);
  static const std::vector<std::string>& entity_sets();  // Customers, Invoices
  std::vector<std::string> records(const std::string& set);

 private:
  void render(size_t set, size_t idx, std::string& out) const;

  odata_options opts_;
  oauth_server& auth_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
};

}  // namespace ledgersync::sandbox
