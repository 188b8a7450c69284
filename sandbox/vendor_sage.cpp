#include "sandbox/vendor_sage.hpp"

#include <algorithm>

#include "core/time_util.hpp"

namespace ledgersync::sandbox {

namespace {

enum coll { contacts, sales_invoices, contact_payments, bank_accounts, ledger_accounts };
const char* const kCurrencies[] = {"GBP", "EUR", "USD"};
const char* const kCurrencyNames[] = {"Pound Sterling", "Euro", "US Dollar"};

struct ledger_entry {
  int code;
  const char *name, *type, *type_name;
};
const ledger_entry kLedger[] = {
    {1200, "Current", "BANK", "Bank"},
    {1100, "Trade Debtors", "CURRENT_ASSETS", "Current Assets"},
    {2100, "Trade Creditors", "CURRENT_LIABILITY", "Current Liabilities"},
    {3000, "Ordinary Shares", "EQUITY", "Equity"},
    {4000, "Sales Type A", "SALES", "Sales"},
    {4900, "Other Income", "OTHER_INCOME", "Other Income"},
    {5000, "Cost of sales - goods", "DIRECT_EXPENSES", "Direct Expenses"},
    {7500, "Office costs", "OVERHEADS", "Overheads"}};
constexpr size_t kLedgerSize = sizeof kLedger / sizeof kLedger[0];
constexpr size_t kBankAccounts = 2;

std::string sage_error(const std::string& code, const std::string& message,
                       const std::string& source = "") {
  return "[{\"$severity\":\"error\",\"$dataCode\":\"" + code + "\",\"$message\":\"" +
         json_escape(message) + "\",\"$source\":\"" + json_escape(source) + "\"}]";
}

std::string iso_day(int64_t ms) {
  return format_iso(from_ms(ms - ms % 86'400'000)).substr(0, 10);
}

std::string iso_time(int64_t ms) {
  return format_iso(from_ms(ms / 1000 * 1000)).substr(0, 19) + "Z";
}

std::string link(const std::string& id, const std::string& shown, const std::string& path) {
  return "{\"id\":\"" + id + "\",\"displayed_as\":\"" + json_escape(shown) + "\",\"$path\":\"" +
         path + "\"}";
}

// Enough escaping for what the sandbox's own parameters hold (times with a +zone, names).
std::string escape_query(const std::string& v) {
  std::string out;
  for (char ch : v) {
    if (ch == '+')
      out += "%2B";
    else if (ch == ' ')
      out += "%20";
    else if (ch == '&')
      out += "%26";
    else if (ch == '"')
      out += "%22";
    else if (ch == '\\')
      out += "%5C";
    else
      out += ch;
  }
  return out;
}

// A written record as a list without attributes=all shows it: {id, displayed_as, $path}.
std::string written_summary(const std::string& full) {
  auto j = nlohmann::json::parse(full, nullptr, false);
  if (!j.is_object()) return full;
  return nlohmann::json{{"id", j.value("id", "")},
                        {"displayed_as", j.value("displayed_as", "")},
                        {"$path", j.value("$path", "")}}
      .dump();
}

}  // namespace

const std::vector<std::string>& sage_api::collections() {
  static const std::vector<std::string> c{"contacts", "sales_invoices", "contact_payments",
                                          "bank_accounts", "ledger_accounts"};
  return c;
}

sage_api::sage_api(sage_options o, oauth_server& auth, clock_fn now)
    : sage_api(std::move(o), auth, std::move(now), *new effect_log) {
  own_effects_.reset(&effects_);  // a test's API counts for itself
}

sage_api::sage_api(sage_options o, oauth_server& auth, clock_fn now, effect_log& effects)
    : opts_(std::move(o)),
      auth_(auth),
      now_(std::move(now)),
      minute_(opts_.minute_limit, 60'000),
      effects_(effects),
      written_(collections().size()),
      shadowed_(collections().size()) {
  if (opts_.business_id.empty()) {
    opts_.business_id = stable_uuid(mix64(opts_.seed) ^ 0x5a9e);
    std::erase(opts_.business_id, '-');
  }
  int64_t now_ms = now_();
  for (size_t c = 0; c < collections().size(); ++c) {
    size_t n = c == ledger_accounts ? kLedgerSize
               : c == bank_accounts ? kBankAccounts
                                    : opts_.records;
    colls_.emplace_back(n, now_ms - 60'000, 60'000);
  }
}

std::string sage_api::id_of(size_t c, size_t idx) const {
  auto id = stable_uuid(mix64(opts_.seed ^ 0x5a9e) ^ (uint64_t(c) << 32) ^ idx);
  std::erase(id, '-');  // Sage's ids are 32 hex digits
  return id;
}

void sage_api::render(size_t c, size_t idx, bool full, std::string& out) const {
  const auto& r = colls_[c].recs[idx];
  const size_t n = std::max<size_t>(opts_.records, 1);
  uint64_t h = mix64(opts_.seed ^ mix64(c * 1000003 + idx) ^ (uint64_t(r.version) << 40));
  uint64_t fixed = mix64(opts_.seed ^ mix64(c * 1000003 + idx));
  size_t cur = fixed % 3;
  auto currency =
      link(kCurrencies[cur], std::string(kCurrencyNames[cur]) + " (" + kCurrencies[cur] + ")",
           std::string("/currencies/") + kCurrencies[cur]);
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on "\"" + std::string chains.
  auto money = [](int64_t cents) {
    std::string out(1, '"');
    out.append(cents_text(cents)).append(1, '"');
    return out;
  };
  auto contact_name = [](size_t i) { return "Customer " + std::to_string(i + 1) + " Ltd"; };
  std::string shown = c == contacts           ? contact_name(idx)
                      : c == sales_invoices   ? "SI-" + std::to_string(idx + 1)
                      : c == contact_payments ? std::string("Customer Receipt")
                      : c == bank_accounts    ? (idx ? "Savings (1210)" : "Current (1200)")
                                              : std::string(kLedger[idx].name) + " (" +
                                                 std::to_string(kLedger[idx].code) + ")";
  out += "{\"id\":\"" + id_of(c, idx) + "\",\"displayed_as\":\"" + json_escape(shown) +
         "\",\"$path\":\"/" + collections()[c] + "/" + id_of(c, idx) + "\"";
  if (!full) {
    out += "}";
    return;
  }
  out += ",\"created_at\":\"" + iso_time(r.created_ms) + "\",\"updated_at\":\"" +
         iso_time(r.updated_ms) + "\"";
  auto contact_link = [&](size_t i) {
    return link(id_of(contacts, i), contact_name(i), "/contacts/" + id_of(contacts, i));
  };
  if (c == contacts) {
    out += ",\"contact_types\":[" + link("CUSTOMER", "Customer", "/contact_types/CUSTOMER") + "]" +
           (r.invalid ? "" : ",\"name\":\"" + contact_name(idx) + "\"") + ",\"reference\":\"C" +
           std::to_string(idx + 1) + "\",\"tax_number\":\"GB" +
           std::to_string(100000000 + fixed % 899999999) + "\",\"email\":\"accounts" +
           std::to_string(idx + 1) + "@example.com\",\"main_contact_person\":{\"id\":\"p" +
           std::to_string(idx + 1) +
           "\",\"displayed_as\":\"Jo Bloggs\",\"name\":\"Jo Bloggs\",\"telephone\":\"01632 " +
           std::to_string(960000 + h % 1000) +
           "\",\"mobile\":null,\"email\":null},\"currency\":" + currency +
           ",\"balance\":" + money(static_cast<int64_t>(h % 100000)) + ",\"deletable\":false}";
  } else if (c == sales_invoices) {
    int64_t net = static_cast<int64_t>(h % 500000 + 1000), tax = net / 5, total = net + tax;
    int64_t paid = h % 3 == 0 ? total : h % 3 == 1 ? 0 : total / 2;
    const char* status = paid == total ? "PAID" : paid ? "PART_PAID" : "UNPAID";
    out += ",\"transaction_type\":" +
           link("SALES_INVOICE", "Sales Invoice", "/transaction_types/SALES_INVOICE") +
           ",\"invoice_number\":\"SI-" + std::to_string(idx + 1) +
           "\",\"contact\":" + contact_link(fixed % n) + ",\"date\":\"" + iso_day(r.created_ms) +
           "\",\"due_date\":\"" + iso_day(r.created_ms + 30 * 86'400'000LL) +
           "\",\"reference\":\"PO " + std::to_string(h % 10000) +
           "\",\"net_amount\":" + money(net) + ",\"tax_amount\":" + money(tax) +
           (r.invalid ? "" : ",\"total_amount\":" + money(total)) +
           ",\"total_paid\":" + money(paid) + ",\"outstanding_amount\":" + money(total - paid) +
           ",\"currency\":" + currency + ",\"exchange_rate\":\"1.0\",\"status\":" +
           link(status, status, std::string("/artefact_statuses/") + status) + "}";
  } else if (c == contact_payments) {
    size_t inv = fixed % n;
    out += ",\"transaction_type\":" +
           link("CUSTOMER_RECEIPT", "Customer Receipt", "/transaction_types/CUSTOMER_RECEIPT") +
           ",\"payment_method\":" +
           link("BANK_TRANSFER", "Bank Transfer", "/payment_methods/BANK_TRANSFER") +
           ",\"contact\":" + contact_link(mix64(inv) % n) + ",\"bank_account\":" +
           link(id_of(bank_accounts, 0), "Current (1200)",
                "/bank_accounts/" + id_of(bank_accounts, 0)) +
           ",\"date\":\"" + iso_day(r.created_ms) +
           "\",\"net_amount\":" + money(static_cast<int64_t>(h % 400000 + 100)) +
           ",\"tax_amount\":\"0.00\"" +
           (r.invalid ? "" : ",\"total_amount\":" + money(static_cast<int64_t>(h % 400000 + 100))) +
           ",\"currency\":" + currency + ",\"exchange_rate\":\"1.0\",\"reference\":\"REF" +
           std::to_string(h % 1000000) + "\",\"allocated_artefacts\":[{\"id\":\"a" +
           std::to_string(idx + 1) + "\",\"artefact\":" +
           link(id_of(sales_invoices, inv), "SI-" + std::to_string(inv + 1),
                "/sales_invoices/" + id_of(sales_invoices, inv)) +
           ",\"amount\":" + money(static_cast<int64_t>(h % 400000 + 100)) + "}]}";
  } else if (c == bank_accounts) {
    out += ",\"bank_account_type\":" + link("CHECKING", "Current", "/bank_account_types/CHECKING") +
           ",\"ledger_account\":" +
           link(id_of(ledger_accounts, 0), "Current (1200)",
                "/ledger_accounts/" + id_of(ledger_accounts, 0)) +
           ",\"bank_account_details\":{\"account_name\":\"" + (idx ? "Savings" : "Current") +
           "\",\"account_number\":\"" + std::to_string(10000000 + fixed % 89999999) +
           "\",\"sort_code\":\"60-16-13\"},\"nominal_code\":" + (idx ? "1210" : "1200") +
           ",\"balance\":" + money(static_cast<int64_t>(h % 10000000)) +
           ",\"currency\":" + link("GBP", "Pound Sterling (GBP)", "/currencies/GBP") + "}";
  } else {
    const auto& l = kLedger[idx];
    out += ",\"ledger_account_type\":" +
           link(l.type, l.type_name, std::string("/ledger_account_types/") + l.type) +
           ",\"included_in_chart\":true" +
           (r.invalid ? "" : std::string(",\"name\":\"") + l.name + "\"") + ",\"display_name\":\"" +
           l.name + "\",\"nominal_code\":" + std::to_string(l.code) +
           ",\"visible_in_chart_of_accounts\":true}";
  }
}

vendor_response sage_api::handle(const vendor_request& req) {
  std::lock_guard lock(mu_);
  int64_t now = now_();
  vendor_response r;
  auto fail = [&](int status, std::string body) {
    r.status = status;
    r.body = std::move(body);
    return r;
  };
  if (!auth_.bearer_valid(req))
    return fail(401, sage_error("AuthorizationFailure",
                                "The access token is missing, invalid or has expired."));
  auto business = req.header("x-business");
  if (business.empty())
    return fail(400,
                sage_error("RecordInvalid", "The X-Business header is missing.", "X-Business"));
  if (business != opts_.business_id)
    return fail(
        404, sage_error("RecordNotFound", "No business with that id is accessible.", "X-Business"));
  int64_t retry_ms = 0;
  if (!minute_.take(business, now, retry_ms)) {
    r.set("Retry-After", std::to_string((retry_ms + 999) / 1000));
    return fail(429, sage_error("TooManyRequests", "Too many requests, please try again later."));
  }
  if (req.method != "GET") return write(req, now);
  if (auto one = read_one(req.path)) return *one;
  auto& names = collections();
  std::string name = req.path.empty() ? "" : req.path.substr(1);
  auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end())
    return fail(404, sage_error("RecordNotFound", "No such endpoint: /" + name));
  size_t c = static_cast<size_t>(found - names.begin());
  long page = 1, per = 20;
  if (req.has_param("page")) {
    auto p = read_count(req.param("page"));
    if (!p || *p < 1)
      return fail(422, sage_error("RecordInvalid", "page must be a whole number from 1", "page"));
    page = *p;
  }
  if (req.has_param("items_per_page")) {
    auto p = read_count(req.param("items_per_page"));
    if (!p || *p < 1 || *p > 200)
      return fail(422, sage_error("RecordInvalid", "items_per_page must be between 1 and 200",
                                  "items_per_page"));
    per = *p;
  }
  bool deleted_mode = req.has_param("deleted_since");
  const char* since_param = deleted_mode ? "deleted_since" : "updated_or_created_since";
  int64_t since = INT64_MIN;
  if (req.has_param(since_param)) {
    auto t = parse_iso(req.param(since_param));
    if (!t)
      return fail(422, sage_error("RecordInvalid",
                                  std::string(since_param) + " must be an ISO 8601 date-time",
                                  since_param));
    since = to_ms(*t);
  }
  const auto& recs = colls_[c].recs;
  auto search = req.param("search");
  for (auto& ch : search) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  // (updated, order, body): seeded records by index (body rendered for the page only), written
  // ones after them; a search renders to match.
  std::vector<std::tuple<int64_t, size_t, std::string>> hits;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].deleted != deleted_mode || recs[i].updated_ms < since || shadowed_[c].count(i))
      continue;
    if (!search.empty()) {
      std::string text;
      render(c, i, true, text);
      for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (text.find(search) == std::string::npos) continue;
    }
    hits.emplace_back(recs[i].updated_ms, i, std::string());
  }
  if (!deleted_mode) written_in_list(c, since, search, hits);
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return std::pair(std::get<0>(a), std::get<1>(a)) < std::pair(std::get<0>(b), std::get<1>(b));
  });
  size_t total = hits.size(),
         pages = std::max<size_t>(1, (total + per - 1) / static_cast<size_t>(per));
  page = std::min<long>(page, static_cast<long>(pages));  // past the end: the last page again
  auto other_page = [&](long p) {
    std::string path = "\"/" + name + "?page=" + std::to_string(p);
    for (const auto& [k, v] : req.query)
      if (k != "page") path += "&" + k + "=" + escape_query(v);
    return path + "\"";
  };
  r.body = "{\"$total\":" + std::to_string(total) + ",\"$page\":" + std::to_string(page) +
           ",\"$next\":" + (static_cast<size_t>(page) < pages ? other_page(page + 1) : "null") +
           ",\"$back\":" + (page > 1 ? other_page(page - 1) : "null") +
           ",\"$itemsPerPage\":" + std::to_string(per) + ",\"$items\":[";
  size_t from = static_cast<size_t>(page - 1) * static_cast<size_t>(per);
  bool full = req.param("attributes") == "all";
  for (size_t k = from; k < std::min(total, from + static_cast<size_t>(per)); ++k) {
    if (k > from) r.body += ',';
    size_t at = std::get<1>(hits[k]);
    if (deleted_mode)
      r.body += "{\"id\":\"" + id_of(c, at) + "\",\"deleted_at\":\"" +
                iso_time(recs[at].updated_ms) + "\"}";
    else if (!std::get<2>(hits[k]).empty())
      r.body += full ? std::get<2>(hits[k]) : written_summary(std::get<2>(hits[k]));
    else
      render(c, at, full, r.body);
  }
  r.body += "]}";
  return r;
}

long sage_api::control(vendor_collection::action a, const std::string& collection, size_t count) {
  auto c = index_of(collections(), collection);
  if (!c) return -1;
  std::lock_guard lock(mu_);
  return static_cast<long>(colls_[*c].apply(a, count, now_()).size());
}

std::vector<std::string> sage_api::records(const std::string& collection) {
  std::vector<std::string> out;
  auto c = index_of(collections(), collection);
  if (!c) return out;
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < colls_[*c].recs.size(); ++i) render(*c, i, true, out.emplace_back());
  return out;
}

}  // namespace ledgersync::sandbox
