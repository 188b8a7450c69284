#include "sandbox/vendor_xero.hpp"

#include <algorithm>

#include "core/time_util.hpp"

namespace ledgersync::sandbox {

namespace {

constexpr int64_t kDayMs = 86'400'000;
const char* const kCurrencies[] = {"GBP", "EUR", "USD", "NZD"};
enum coll { invoices, contacts, payments, bank_transactions, accounts };

struct chart_entry {
  const char *code, *name, *type, *cls;
};
// A small UK chart of accounts, as Xero's demo company has it.
const chart_entry kChart[] = {{"090", "Business Bank Account", "BANK", "ASSET"},
                              {"091", "Business Savings Account", "BANK", "ASSET"},
                              {"200", "Sales", "REVENUE", "REVENUE"},
                              {"260", "Other Revenue", "REVENUE", "REVENUE"},
                              {"310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE"},
                              {"400", "Advertising", "OVERHEADS", "EXPENSE"},
                              {"429", "General Expenses", "OVERHEADS", "EXPENSE"},
                              {"610", "Accounts Receivable", "CURRENT", "ASSET"},
                              {"710", "Office Equipment", "FIXED", "ASSET"},
                              {"800", "Accounts Payable", "CURRLIAB", "LIABILITY"},
                              {"820", "VAT", "CURRLIAB", "LIABILITY"},
                              {"970", "Owner A Funds Introduced", "EQUITY", "EQUITY"}};
constexpr size_t kChartSize = sizeof kChart / sizeof kChart[0];

std::string validation_error(const std::string& message) {
  return "{\"ErrorNumber\":10,\"Type\":\"ValidationException\",\"Message\":\"" +
         json_escape(message) + "\",\"Elements\":[]}";
}

}  // namespace

const std::vector<std::string>& xero_api::collections() {
  static const std::vector<std::string> c{"Invoices", "Contacts", "Payments", "BankTransactions",
                                          "Accounts"};
  return c;
}

xero_api::xero_api(xero_options o, oauth_server& auth, clock_fn now)
    : xero_api(std::move(o), auth, std::move(now), *new effect_log) {
  own_effects_.reset(&effects_);  // a test's API counts for itself
}

xero_api::xero_api(xero_options o, oauth_server& auth, clock_fn now, effect_log& effects)
    : opts_(std::move(o)),
      auth_(auth),
      now_(std::move(now)),
      minute_(opts_.minute_limit, 60'000),
      day_(opts_.day_limit, kDayMs),
      app_minute_(opts_.app_minute_limit, 60'000),
      effects_(effects),
      written_(collections().size()),
      shadowed_(collections().size()) {
  if (opts_.tenant_id.empty()) opts_.tenant_id = stable_uuid(mix64(opts_.seed) ^ 0x7e7a);
  int64_t now_ms = now_();
  // Updated a minute apart, the newest a minute ago: history that incremental syncs can split.
  for (size_t c = 0; c < collections().size(); ++c)
    colls_.emplace_back(c == accounts ? kChartSize : opts_.records, now_ms - 60'000, 60'000);
}

void xero_api::render(size_t c, size_t idx, std::string& out) const {
  const auto& r = colls_[c].recs[idx];
  const size_t n = std::max<size_t>(opts_.records, 1);
  auto id_of = [&](size_t cc, size_t i) { return stable_uuid(mix64(opts_.seed) ^ (cc << 32) ^ i); };
  uint64_t h = mix64(opts_.seed ^ mix64(c * 1000003 + idx) ^ (uint64_t(r.version) << 40));
  const char* cur = kCurrencies[h % 4];
  auto updated = "\"UpdatedDateUTC\":\"" + xero_date(r.updated_ms) + "\"";
  int64_t day = r.created_ms - r.created_ms % kDayMs;
  auto contact_ref = [&](size_t i) {
    return "{\"ContactID\":\"" + id_of(contacts, i) + "\",\"Name\":\"Customer " +
           std::to_string(i + 1) + " Ltd\"}";
  };
  if (c == invoices) {
    int64_t sub = static_cast<int64_t>(h % 500000 + 1000), tax = sub / 5, total = sub + tax;
    bool deleted = r.deleted || idx % 20 == 7 || idx % 20 == 13;
    const char* status = !deleted  ? (h % 3 == 0 ? "PAID" : "AUTHORISED")
                         : idx % 2 ? "VOIDED"
                                   : "DELETED";
    int64_t paid = std::string_view(status) == "PAID" ? total : h % 3 == 1 ? 0 : total / 2;
    if (deleted) paid = 0;
    out += "{\"Type\":\"ACCREC\",\"InvoiceID\":\"" + id_of(c, idx) + "\",\"InvoiceNumber\":\"INV-" +
           std::to_string(idx + 1) + "\",\"Reference\":\"PO " + std::to_string(h % 100000) +
           "\",\"Contact\":" + contact_ref(h % n) + ",\"Date\":\"" + xero_date(day) +
           "\",\"DueDate\":\"" + xero_date(day + 30 * kDayMs) + "\",\"Status\":\"" + status +
           "\",\"LineAmountTypes\":\"Exclusive\",\"LineItems\":[{\"Description\":\"Consulting\","
           "\"Quantity\":1.0,\"UnitAmount\":" +
           cents_text(sub) +
           ",\"AccountCode\":\"200\",\"TaxType\":\"OUTPUT2\",\"TaxAmount\":" + cents_text(tax) +
           ",\"LineAmount\":" + cents_text(sub) + "}],\"SubTotal\":" + cents_text(sub) +
           ",\"TotalTax\":" + cents_text(tax) +
           (r.invalid ? "" : ",\"Total\":" + cents_text(total)) +
           ",\"AmountDue\":" + cents_text(total - paid) + ",\"AmountPaid\":" + cents_text(paid) +
           ",\"CurrencyCode\":\"" + cur + "\",\"CurrencyRate\":1.000000," + updated + "}";
  } else if (c == contacts) {
    bool archived = r.deleted || idx % 30 == 29;
    out += "{\"ContactID\":\"" + id_of(c, idx) + "\",\"ContactStatus\":\"" +
           (archived ? "ARCHIVED" : "ACTIVE") + "\"" +
           (r.invalid ? "" : ",\"Name\":\"Customer " + std::to_string(idx + 1) + " Ltd\"") +
           ",\"EmailAddress\":\"billing" + std::to_string(idx + 1) +
           "@example.com\",\"Phones\":[{\"PhoneType\":\"DEFAULT\",\"PhoneNumber\":\"7946 " +
           std::to_string(1000 + h % 9000) +
           "\",\"PhoneAreaCode\":\"20\",\"PhoneCountryCode\":"
           "\"44\"}],\"IsCustomer\":true,\"IsSupplier\":false,\"DefaultCurrency\":\"" +
           cur + "\",\"Balances\":{\"AccountsReceivable\":{\"Outstanding\":" +
           cents_text(static_cast<int64_t>(h % 100000)) + ",\"Overdue\":0.00}}," + updated + "}";
  } else if (c == payments) {
    size_t inv = h % n;
    bool deleted = r.deleted || idx % 25 == 11;
    out += "{\"PaymentID\":\"" + id_of(c, idx) + "\",\"Date\":\"" + xero_date(day) +
           "\",\"BankAmount\":" + cents_text(static_cast<int64_t>(h % 400000 + 100)) +
           (r.invalid ? "" : ",\"Amount\":" + cents_text(static_cast<int64_t>(h % 400000 + 100))) +
           ",\"Reference\":\"REF" + std::to_string(h % 1000000) +
           "\",\"CurrencyRate\":1.000000,"
           "\"PaymentType\":\"ACCRECPAYMENT\",\"Status\":\"" +
           (deleted ? "DELETED" : "AUTHORISED") +
           "\",\"IsReconciled\":false,\"Account\":{\"AccountID\":\"" + id_of(accounts, 0) +
           "\",\"Code\":\"090\"},\"Invoice\":{\"InvoiceID\":\"" + id_of(invoices, inv) +
           "\",\"InvoiceNumber\":\"INV-" + std::to_string(inv + 1) + "\",\"CurrencyCode\":\"" +
           cur + "\",\"Contact\":" + contact_ref(mix64(inv) % n) + "}," + updated + "}";
  } else if (c == bank_transactions) {
    bool deleted = r.deleted || idx % 20 == 9 || idx % 20 == 17;
    const char* status = !deleted ? "AUTHORISED" : idx % 2 ? "VOIDED" : "DELETED";
    int64_t total = static_cast<int64_t>(h % 300000 + 100);
    out += "{\"BankTransactionID\":\"" + id_of(c, idx) + "\",\"BankAccount\":{\"AccountID\":\"" +
           id_of(accounts, 0) +
           "\",\"Code\":\"090\",\"Name\":\"Business Bank Account\"},"
           "\"Type\":\"" +
           (h % 2 ? "RECEIVE" : "SPEND") + "\",\"Reference\":\"BT" + std::to_string(h % 1000000) +
           "\",\"IsReconciled\":" + (h % 3 ? "true" : "false") +
           ",\"Contact\":" + contact_ref(h % n) + ",\"Date\":\"" + xero_date(day) +
           "\",\"Status\":\"" + status +
           "\",\"LineAmountTypes\":\"Inclusive\",\"SubTotal\":" + cents_text(total) +
           ",\"TotalTax\":0.00" + (r.invalid ? "" : ",\"Total\":" + cents_text(total)) +
           ",\"CurrencyCode\":\"" + cur + "\"," + updated + "}";
  } else {
    const auto& a = kChart[idx];
    bool bank = std::string_view(a.type) == "BANK";
    out += "{\"AccountID\":\"" + id_of(c, idx) + "\",\"Code\":\"" + a.code + "\"" +
           (r.invalid ? "" : std::string(",\"Name\":\"") + a.name + "\"") + ",\"Status\":\"" +
           (r.deleted ? "DELETED" : "ACTIVE") + "\",\"Type\":\"" + a.type + "\",\"Class\":\"" +
           a.cls + "\"" + (bank ? ",\"CurrencyCode\":\"GBP\"" : "") +
           ",\"EnablePaymentsToAccount\":false,\"ShowInExpenseClaims\":false," + updated + "}";
  }
}

vendor_response xero_api::error(int status, std::string body) {
  vendor_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

void xero_api::limit_headers(vendor_response& r, int64_t now) {
  r.set("X-DayLimit-Remaining", std::to_string(day_.remaining(opts_.tenant_id, now)));
  r.set("X-MinLimit-Remaining", std::to_string(minute_.remaining(opts_.tenant_id, now)));
  r.set("X-AppMinLimit-Remaining", std::to_string(app_minute_.remaining("app", now)));
}

vendor_response xero_api::handle(const vendor_request& req) {
  std::lock_guard lock(mu_);
  int64_t now = now_();
  auto answer = [&](vendor_response r) {
    limit_headers(r, now);
    return r;
  };
  if (!auth_.bearer_valid(req)) {
    auto r = error(
        401,
        R"({"Title":"Unauthorized","Status":401,"Detail":"AuthenticationUnsuccessful","Instance":")" +
            stable_uuid(mix64(now)) + "\",\"Extensions\":{}}");
    r.set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return answer(r);
  }
  auto tenant = req.header("xero-tenant-id");
  if (tenant.empty())
    return answer(error(
        400,
        R"({"Title":"Bad Request","Status":400,"Detail":"xero-tenant-id header is missing"})"));
  if (tenant != opts_.tenant_id)
    return answer(error(
        403,
        R"({"Type":null,"Title":"Forbidden","Status":403,"Detail":"AuthorizationUnsuccessful","Instance":")" +
            stable_uuid(mix64(now) ^ 1) + "\",\"Extensions\":{}}"));
  int64_t retry_ms = 0;
  auto too_many = [&](const char* problem, int64_t wait_ms) {
    auto r = error(429, "");
    r.content_type = "text/plain";
    r.set("X-Rate-Limit-Problem", problem);
    r.set("Retry-After", std::to_string((wait_ms + 999) / 1000));
    return answer(r);
  };
  if (day_faults_ > 0) {
    --day_faults_;
    return too_many("day", kDayMs - now % kDayMs);
  }
  // A refused call uses up no quota: check every limit before taking from any.
  if (!day_.remaining(opts_.tenant_id, now)) return too_many("day", kDayMs - now % kDayMs);
  if (!minute_.remaining(opts_.tenant_id, now)) return too_many("minute", 60'000 - now % 60'000);
  if (!app_minute_.remaining("app", now)) return too_many("appminute", 60'000 - now % 60'000);
  day_.take(opts_.tenant_id, now, retry_ms);
  minute_.take(opts_.tenant_id, now, retry_ms);
  app_minute_.take("app", now, retry_ms);
  if (req.method != "GET") return answer(write(req, now));
  if (auto one = read_one(req.path, now)) return answer(*one);

  // The connection test's call: the organisation the tenant id names.
  if (req.path == "/Organisation") {
    vendor_response r;
    r.body = "{\"Id\":\"" + stable_uuid(mix64(now) ^ 3) +
             "\",\"Status\":\"OK\",\"ProviderName\":\"ledgersync sandbox\","
             "\"DateTimeUTC\":\"" +
             xero_date(now) + "\",\"Organisations\":[{\"OrganisationID\":\"" + opts_.tenant_id +
             "\",\"Name\":\"Sandbox Trading Ltd\",\"BaseCurrency\":\"GBP\","
             "\"CountryCode\":\"GB\",\"OrganisationType\":\"COMPANY\"}]}";
    return answer(r);
  }
  auto& names = collections();
  auto found =
      std::find(names.begin(), names.end(), req.path.substr(std::min<size_t>(1, req.path.size())));
  if (req.path.empty() || req.path[0] != '/' || found == names.end())
    return answer(error(
        404,
        R"({"Title":"Not Found","Status":404,"Detail":"The resource you're looking for cannot be found"})"));
  size_t c = static_cast<size_t>(found - names.begin());

  int64_t since = 0;
  if (auto ims = req.header("if-modified-since"); !ims.empty()) {
    bool zoned = ims.back() == 'Z' || ims.find('+', 10) != std::string::npos;
    auto t = ims.size() >= 19 ? parse_iso(zoned ? ims : ims + "Z") : std::nullopt;
    if (!t)
      return answer(error(
          400, validation_error("If-Modified-Since must be a UTC time like 2026-11-01T00:00:00")));
    since = to_ms(*t) / 1000 * 1000;  // Xero compares to the second
  }
  long page = 1, size = 100;
  if (c != accounts) {
    if (req.has_param("page")) {
      auto p = read_count(req.param("page"));
      if (!p || *p < 1)
        return answer(error(400, validation_error("page must be a whole number from 1")));
      page = *p;
    }
    if (req.has_param("pageSize")) {
      auto s = read_count(req.param("pageSize"));
      if (!s || *s < 1 || *s > 1000)
        return answer(error(400, validation_error("pageSize must be between 1 and 1000")));
      size = *s;
    }
  }
  bool archived = req.param("includeArchived") == "true";
  auto where = req.param("where");
  // (updated, order, body): seeded records by index (body rendered for the page only),
  // written ones after them.
  std::vector<std::tuple<int64_t, size_t, std::string>> hits;
  const auto& recs = colls_[c].recs;
  for (size_t i = 0; i < recs.size() && where.empty(); ++i) {
    if (recs[i].updated_ms < since || shadowed_[c].count(i)) continue;
    if (c == contacts && !archived && (recs[i].deleted || i % 30 == 29)) continue;
    hits.emplace_back(recs[i].updated_ms, i, std::string());  // rendered if on the page
  }
  written_in_list(c, since, archived, where, hits);
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return std::pair(std::get<0>(a), std::get<1>(a)) < std::pair(std::get<0>(b), std::get<1>(b));
  });
  vendor_response r;
  r.body = "{\"Id\":\"" + stable_uuid(mix64(now) ^ 2) +
           "\",\"Status\":\"OK\",\"ProviderName\":\"ledgersync sandbox\",\"DateTimeUTC\":\"" +
           xero_date(now) + "\",";
  size_t from = 0, to = hits.size();
  if (c != accounts) {
    size_t count = hits.size(), pages = (count + size - 1) / static_cast<size_t>(size);
    from = std::min(count, static_cast<size_t>(page - 1) * static_cast<size_t>(size));
    to = std::min(count, from + static_cast<size_t>(size));
    r.body += "\"pagination\":{\"page\":" + std::to_string(page) +
              ",\"pageSize\":" + std::to_string(size) + ",\"pageCount\":" + std::to_string(pages) +
              ",\"itemCount\":" + std::to_string(count) + "},";
  }
  r.body += "\"" + names[c] + "\":[";
  for (size_t k = from; k < to; ++k) {
    if (k > from) r.body += ',';
    if (std::get<2>(hits[k]).empty())
      render(c, std::get<1>(hits[k]), r.body);
    else
      r.body += std::get<2>(hits[k]);
  }
  r.body += "]}";
  return answer(r);
}

long xero_api::control(vendor_collection::action a, const std::string& collection, size_t count) {
  auto c = index_of(collections(), collection);
  if (!c) return -1;
  std::lock_guard lock(mu_);
  return static_cast<long>(colls_[*c].apply(a, count, now_()).size());
}

void xero_api::fault_day_limit(size_t count) {
  std::lock_guard lock(mu_);
  day_faults_ += count;
}

void xero_api::spend_day_limit(size_t left) {
  std::lock_guard lock(mu_);
  int64_t now = now_(), ignored = 0;
  while (day_.remaining(opts_.tenant_id, now) > left) day_.take(opts_.tenant_id, now, ignored);
}

std::vector<std::string> xero_api::records(const std::string& collection) {
  std::vector<std::string> out;
  auto c = index_of(collections(), collection);
  if (!c) return out;
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < colls_[*c].recs.size(); ++i) render(*c, i, out.emplace_back());
  return out;
}

}  // namespace ledgersync::sandbox
