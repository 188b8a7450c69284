// QuickBooks Online as the sandbox serves it below /quickbooks/v3/company/{realm}:
//   GET /query?query=SELECT * FROM Customer|Invoice|Payment|Account
//           [WHERE MetaData.LastUpdatedTime >[=] '<ISO>'] [ORDERBY MetaData.LastUpdatedTime
//           [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS n]
//       (MAXRESULTS defaults to 100, at most 1000; SELECT COUNT(*) FROM … gives totalCount)
//       -> {"QueryResponse":{"Invoice":[…],"startPosition","maxResults"},"time"}, ordered by Id
//       (or by LastUpdatedTime, to the second, then Id);
//       inactive (removed) customers and accounts and deleted invoices and payments are left
//       out.
//   GET /cdc?entities=Customer,Invoice&changedSince=<ISO>
//       -> {"CDCResponse":[{"QueryResponse":[{"Customer":[…]},…]}],"time"}; a deleted invoice or
//       payment is {"domain":"QBO","status":"Deleted","Id","MetaData"}.
// Requires `Authorization: Bearer <token from oauth_server>` (401 {"fault":{"error":[…code 3200]}})
// and the sandbox's realm (another: 403). Over `minute_limit` requests a minute per realm, or on
// the throttle fault: 429 Fault 3001 ThrottleExceeded. The fault_in_200 fault answers HTTP 200
// with a Fault body. Errors: {"Fault":{"Error":[{"Message","Detail","code"}],"type"},"time"}.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "sandbox/vendor_common.hpp"
#include "sandbox/vendor_oauth.hpp"

namespace ledgersync::sandbox {

struct quickbooks_options {
  size_t records = 100;
  uint64_t seed = 1;
  std::string realm;  // "" = derived from the seed
  size_t minute_limit = 500;
};

class quickbooks_api {
 public:
  quickbooks_api(quickbooks_options o, oauth_server& auth, clock_fn now);

  // `req.path` below /quickbooks/v3/company, e.g. "/1234/query".
  vendor_response handle(const vendor_request& req);
  long control(vendor_collection::action a, const std::string& entity, size_t count);
  // kind: throttle | fault_in_200.
  bool fault(const std::string& kind, size_t count);
  const std::string& realm() const { return opts_.realm; }
  static const std::vector<std::string>& entities();  // Customer, Invoice, Payment
  std::vector<std::string> records(const std::string& entity);

 private:
  void render(size_t e, size_t idx, std::string& out) const;

  quickbooks_options opts_;
  oauth_server& auth_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  window_limiter minute_;
  std::vector<std::string> faults_;
};

}  // namespace ledgersync::sandbox
