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
// Writes (quickbooks_writes.cpp):
//   POST /customer|invoice|payment?requestid=K&minorversion=N  {object}: a create, or with
//       "Id" and "SyncToken" an update ("sparse": true changes only the fields sent)
//       -> {"Customer":{…},"time"}; the record then shows in /query and /cdc.
//   GET  /customer|invoice|payment/{id} -> {"Invoice":{…},"time"}
// A requestid seen before answers with the first (successful) answer again and changes
// nothing, whatever the body (Intuit's documented behaviour). Faults as QuickBooks words them:
// 2020 required parameter missing, 2050 string too long, 2500 invalid reference, 6240
// duplicate customer name, 6070 line Amount not Qty × UnitPrice, 5010 stale SyncToken, 610
// object not found. Every write counts in the effect log by the record's external reference
// (Customer.Notes, Invoice/Payment.PrivateNote). Write faults: write_500 (no effect, a 500),
// write_lost (the effect happens, the answer is a 500), write_429 (a throttle).
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
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
  quickbooks_api(quickbooks_options o, oauth_server& auth, clock_fn now, effect_log& effects);

  // `req.path` below /quickbooks/v3/company, e.g. "/1234/query".
  vendor_response handle(const vendor_request& req);
  long control(vendor_collection::action a, const std::string& entity, size_t count);
  // kind: throttle | fault_in_200 | write_500 | write_lost | write_429.
  bool fault(const std::string& kind, size_t count);
  const std::string& realm() const { return opts_.realm; }
  static const std::vector<std::string>& entities();  // Customer, Invoice, Payment
  std::vector<std::string> records(const std::string& entity);

 private:
  void render(size_t e, size_t idx, std::string& out) const;
  // quickbooks_writes.cpp: /{entity}[/{id}] requests, and a record as JSON (stored or rendered).
  vendor_response entity_request(const vendor_request& req, const std::string& op, int64_t now);
  vendor_response write(size_t e, const vendor_request& req, int64_t now);
  nlohmann::json current(size_t e, size_t idx) const;
  void render_stored(size_t e, size_t idx, const nlohmann::json& j, std::string& out) const;

  quickbooks_options opts_;
  oauth_server& auth_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  window_limiter minute_;
  std::vector<std::string> faults_;
  effect_log& effects_;
  // Records written through the API (or changed by a write), by (entity, index): rendered from
  // here instead of from the seed.
  std::map<std::pair<size_t, size_t>, nlohmann::json> stored_;
  std::map<std::string, vendor_response> replies_;  // requestid -> the first successful answer
  std::vector<std::string> write_faults_;
};

}  // namespace ledgersync::sandbox
