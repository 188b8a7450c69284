// `ledgersync sandbox`: a deterministic REST upstream on loopback, so the demo and the tests
// run with no network. It speaks the shape of a Stripe-like list API:
//   GET  /v1/{customers|invoices|payments}?limit=N&cursor=C&updated_since=ISO
//        Authorization: Bearer <api key>      -> {"object":"list","data":[…],"has_more",
//                                                 "next_cursor","total"}
// and takes orders on a control API (no auth; loopback only):
//   POST /_sandbox/fault?kind=401|429|500|slow|malformed|reset&count=N[&retry_after=S][&delay_ms=M]
//   POST /_sandbox/mutate?stream=S&count=N      records change (new version, updated now)
//   POST /_sandbox/invalid?stream=S&count=N     records lose a required field
//   POST /_sandbox/repair?stream=S&count=N      records that lost one get it back (updated now)
//   POST /_sandbox/remove?stream=S&count=N      records vanish, with no deletion marker
//   GET  /_sandbox/stats                        requests served, faults pending
// Errors use Stripe's body: {"error":{"type","code","message"}}.
//
// Beside it, each vendor's own wire format at its own prefix, from the same seed and record count
// (details and bodies in the vendor headers; handlers take a vendor_request, so tests need no
// socket):
//   /xero/api.xro/2.0/{Invoices|Contacts|Payments|BankTransactions|Accounts}   vendor_xero.hpp
//       Bearer token from /oauth/token + xero-tenant-id (GET /_sandbox/xero/tenant tells it);
//       page/pageSize, If-Modified-Since, X-*Limit-Remaining, 60/min per tenant (429 minute).
//   /oauth/{authorize|token|revoke}  OAuth 2.0 for the Xero/QuickBooks/Sage-style clients
//       xero-sandbox, xero-pkce, quickbooks-sandbox, sage-sandbox         vendor_oauth.hpp
//   /stripe/v1/{customers|charges|payment_intents|invoices|balance_transactions|events}
//       Bearer <api key>; limit, starting_after, ending_before, created[...], types[]
//                                                                         vendor_stripe.hpp
//   /sage/v3.1/{contacts|sales_invoices|contact_payments|bank_accounts|ledger_accounts}
//       Bearer token from /oauth/token + X-Business (GET /_sandbox/sage/business tells it);
//       $items/$next/$total, updated_or_created_since, deleted_since     vendor_sage.hpp
//   /quickbooks/v3/company/{realm}/query?query=SELECT … and /cdc?entities=…&changedSince=…
//       Bearer token from /oauth/token; realm from GET /_sandbox/quickbooks/realm; Fault
//       bodies, 500/min per realm (429 Fault 3001)                      vendor_quickbooks.hpp
//   /ecb/stats/eurofxref/eurofxref-daily.xml, …/eurofxref-hist-90d.xml (no auth)   vendor_ecb.hpp
//   /odata/{Customers|Invoices}  @odata.nextLink, Prefer odata.maxpagesize, $filter=Modified
//       ge|gt …, $count; Bearer <api key or access token>               vendor_odata.hpp
// Vendor controls (no auth; loopback only):
//   POST /_sandbox/{mutate|invalid|repair|remove}?stream=xero/Invoices|stripe/customers|
//        sage/contacts|quickbooks/Invoice|odata/Invoices&count=N  (Sage: removed records move to
//        deleted_since; QuickBooks: removed invoices and payments are Deleted in CDC,
//        customers become inactive)
//        Xero: remove voids or deletes (contacts: archives); Stripe: every change adds an event,
//        remove deletes customers only (customer.deleted); the others are never deleted.
//   POST /_sandbox/xero/fault?kind=day_limit&count=N      429 X-Rate-Limit-Problem: day
//   POST /_sandbox/xero/fault?kind=day_remaining&count=N  only N of today's calls left
//   POST /_sandbox/{xero|sage}/fault?kind=write_500|write_lost|write_429&count=N   the next N
//        writes: 500 with no effect; the effect, then 500; a 429 with Retry-After, no effect
//   POST /_sandbox/stripe/fault?kind=rate_limit|lock_timeout&count=N   429, no Retry-After
//   POST /_sandbox/{stripe|quickbooks}/fault?kind=write_500|write_lost|write_429&count=N
//        the next N writes fail (write_lost: the write takes effect, the answer is a 500)
//   POST /_sandbox/oauth/fail_next_refresh                the next refresh is invalid_grant
//   GET  /_sandbox/effects                                what pushes did, per vendor, entity and
//        external reference: {"xero":{"customer":{"C-1":{"creates":1,"updates":0}}}}
//   GET  /_sandbox/xero/tenant                            {"tenant_id":…}
//   GET  /_sandbox/sage/business                          {"business_id":…}
//   POST /_sandbox/quickbooks/fault?kind=throttle|fault_in_200|write_…&count=N
//   GET  /_sandbox/quickbooks/realm                       {"realm":…}
//   POST /_sandbox/statements?format=camt053|mt940|malformed&n=N   writes statement N into
//        --statements-dir (the same N again: a duplicate delivery)      vendor_bank.hpp
// The generic faults of /_sandbox/fault apply to /v1 only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ledgersync::sandbox {

struct server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port
  size_t records = 1000;
  uint64_t seed = 1;
  std::string api_key = "sk_test_sandbox";
  size_t max_page = 1000;
  // Every `churn_every_s` seconds, change `churn` records of each stream (for the demo).
  size_t churn = 0;
  int churn_every_s = 20;
  size_t invalid_at_start = 0;  // records per stream missing a required field from the start
  std::string invalid_stream;   // ...in this stream only ("" = every stream)
  // Where POST /_sandbox/statements writes bank statement files ("" = it is refused).
  std::string statements_dir;
};

class server {
 public:
  explicit server(server_options o);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and starts serving on background threads; returns the port, or 0 with `error` set.
  uint16_t start(std::string& error);

  // Who the vendors' APIs answer for (GET /_sandbox/xero/tenant and the like), for the demo.
  struct vendor_ids {
    std::string xero_tenant, sage_business, quickbooks_realm;
  };
  vendor_ids ids() const;
  void stop();

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace ledgersync::sandbox
