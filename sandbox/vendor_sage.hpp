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
// Writes (sandbox/sage_writes.cpp): POST /contacts {"contact":{…}}, /sales_invoices
// {"sales_invoice":{…}}, /contact_payments {"contact_payment":{…}} create (201); PUT
// /{collection}/{id} updates; GET /{collection}/{id} reads one; `search=TEXT` on a list keeps the
// records whose text holds it (as Sage's search matches names and references). No idempotency
// key: a repeated POST makes a second record. Bad writes are 422 with $source naming the field
// ("invoice_lines[0].ledger_account_id"). Written records carry updated_at to the millisecond,
// join the lists, and every effect is counted in the effect_log by its reference.
#pragma once

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

struct sage_options {
  size_t records = 100;  // per collection (ledger and bank accounts: a fixed chart)
  uint64_t seed = 1;
  std::string business_id;  // "" = derived from the seed
  size_t minute_limit = 200;
};

class sage_api {
 public:
  sage_api(sage_options o, oauth_server& auth, clock_fn now);
  // Writes are counted in `effects`, which must outlive the API.
  sage_api(sage_options o, oauth_server& auth, clock_fn now, effect_log& effects);
  // The next `count` writes fail: write_500 (no effect), write_lost (the effect, then 500),
  // write_429 (429 with Retry-After, no effect). False for another kind.
  bool fault(const std::string& kind, size_t count);

  vendor_response handle(const vendor_request& req);  // path below the prefix
  long control(vendor_collection::action a, const std::string& collection, size_t count);
  const std::string& business_id() const { return opts_.business_id; }
  static const std::vector<std::string>& collections();
  std::vector<std::string> records(const std::string& collection);  // full, deleted included

 private:
  void render(size_t coll, size_t idx, bool full, std::string& out) const;
  std::string id_of(size_t coll, size_t idx) const;
  // sage_writes.cpp; called with mu_ held, after sign-in and rate limits.
  vendor_response write(const vendor_request& req, int64_t now);
  std::optional<vendor_response> read_one(const std::string& path);
  // Written records of `coll` updated since `since` whose text holds `search` (case-insensitive,
  // "" = all), as (updated, order, body).
  void written_in_list(size_t coll, int64_t since, const std::string& search,
                       std::vector<std::tuple<int64_t, size_t, std::string>>& out) const;
  struct written {
    std::string id;
    nlohmann::json body;
    int64_t updated_ms = 0;
  };
  written* find_written(size_t coll, const std::string& id);
  written* materialize(size_t coll, const std::string& id);

  sage_options opts_;
  oauth_server& auth_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  window_limiter minute_;

  std::unique_ptr<effect_log> own_effects_;
  effect_log& effects_;
  std::vector<std::vector<written>> written_;
  std::vector<std::set<size_t>> shadowed_;
  size_t write_500_ = 0, write_lost_ = 0, write_429_ = 0;
  int64_t last_update_ms_ = 0;
  uint64_t created_ = 0;
};

}  // namespace ledgersync::sandbox
