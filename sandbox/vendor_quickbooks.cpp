#include "sandbox/vendor_quickbooks.hpp"

#include <algorithm>
#include <regex>

#include "core/time_util.hpp"

namespace ledgersync::sandbox {

namespace {

enum entity { customer, invoice, payment, account };
const char* const kCurrencies[] = {"USD", "CAD", "GBP"};

// QuickBooks writes times in the company's zone; the sandbox company is on UTC-07:00.
std::string qbo_time(int64_t ms) {
  return format_iso(from_ms(ms / 1000 * 1000 - 7 * 3'600'000)).substr(0, 19) + "-07:00";
}
std::string qbo_day(int64_t ms) {
  return format_iso(from_ms(ms - 7 * 3'600'000)).substr(0, 10);
}

std::string fault_body(const std::string& type, const std::string& code, const std::string& message,
                       const std::string& detail, int64_t now) {
  return "{\"Fault\":{\"Error\":[{\"Message\":\"" + json_escape(message) + "\",\"Detail\":\"" +
         json_escape(detail) + "\",\"code\":\"" + code + "\"}],\"type\":\"" + type +
         "\"},\"time\":\"" + qbo_time(now) + "\"}";
}

}  // namespace

const std::vector<std::string>& quickbooks_api::entities() {
  static const std::vector<std::string> e{"Customer", "Invoice", "Payment", "Account"};
  return e;
}

quickbooks_api::quickbooks_api(quickbooks_options o, oauth_server& auth, clock_fn now,
                               effect_log& effects)
    : opts_(std::move(o)),
      auth_(auth),
      now_(std::move(now)),
      minute_(opts_.minute_limit, 60'000),
      effects_(effects) {
  if (opts_.realm.empty())
    opts_.realm = std::to_string(4620816365000000000ull + mix64(opts_.seed) % 1000000000ull);
  int64_t now_ms = now_();
  for (size_t e = 0; e < entities().size(); ++e)
    colls_.emplace_back(opts_.records, now_ms - 60'000, 60'000);
}

void quickbooks_api::render(size_t e, size_t idx, std::string& out) const {
  const auto& r = colls_[e].recs[idx];
  if (auto s = stored_.find({e, idx});
      s != stored_.end() && !(r.deleted && e != customer && e != account))
    return render_stored(e, idx, s->second, out);
  const size_t n = std::max<size_t>(opts_.records, 1);
  uint64_t h = mix64(opts_.seed ^ mix64(e * 1000003 + idx) ^ (uint64_t(r.version) << 40));
  uint64_t fixed = mix64(opts_.seed ^ mix64(e * 1000003 + idx));
  std::string cur = kCurrencies[fixed % 3];
  auto id = [&](size_t ee, size_t i) { return std::to_string(ee * 10000 + i + 1); };
  auto meta = "\"MetaData\":{\"CreateTime\":\"" + qbo_time(r.created_ms) +
              "\",\"LastUpdatedTime\":\"" + qbo_time(r.updated_ms) + "\"}";
  // Customers and accounts are never deleted, only made inactive.
  if (r.deleted && e != customer && e != account) {
    out += "{\"domain\":\"QBO\",\"status\":\"Deleted\",\"Id\":\"" + id(e, idx) + "\"," + meta + "}";
    return;
  }
  auto currency = "\"CurrencyRef\":{\"value\":\"" + cur + "\"}";
  auto name = [](size_t i) { return "Customer " + std::to_string(i + 1) + " Inc"; };
  out += "{\"Id\":\"" + id(e, idx) + "\",\"SyncToken\":\"" + std::to_string(r.version - 1) +
         "\",\"domain\":\"QBO\",\"sparse\":false," + meta + "," + currency;
  if (e == customer) {
    out += (r.invalid ? std::string() : ",\"DisplayName\":\"" + name(idx) + "\"") +
           ",\"CompanyName\":\"" + name(idx) + "\",\"PrimaryEmailAddr\":{\"Address\":\"ap" +
           std::to_string(idx + 1) +
           "@example.com\"},\"PrimaryPhone\":{\"FreeFormNumber\":\"(650) 555-" +
           std::to_string(1000 + h % 9000) +
           "\"},\"Balance\":" + cents_text(static_cast<int64_t>(h % 100000)) +
           ",\"Active\":" + (r.deleted ? "false" : "true") + "}";
  } else if (e == invoice) {
    int64_t total = static_cast<int64_t>(h % 500000 + 1000), tax = total / 11;
    int64_t balance = h % 3 == 0 ? 0 : total;
    size_t cust = fixed % n;
    out += ",\"DocNumber\":\"" + std::to_string(1000 + idx + 1) + "\",\"TxnDate\":\"" +
           qbo_day(r.created_ms) + "\",\"DueDate\":\"" + qbo_day(r.created_ms + 30 * 86'400'000LL) +
           "\",\"CustomerRef\":{\"value\":\"" + id(customer, cust) + "\",\"name\":\"" + name(cust) +
           "\"},\"Line\":[{\"Id\":\"1\",\"LineNum\":1,\"Amount\":" + cents_text(total - tax) +
           ",\"DetailType\":\"SalesItemLineDetail\",\"SalesItemLineDetail\":{\"ItemRef\":"
           "{\"value\":\"1\",\"name\":\"Services\"}}},{\"Amount\":" +
           cents_text(total - tax) +
           ",\"DetailType\":\"SubTotalLineDetail\",\"SubTotalLineDetail\":{}}],"
           "\"TxnTaxDetail\":{\"TotalTax\":" +
           cents_text(tax) + "}" +
           (r.invalid ? std::string() : ",\"TotalAmt\":" + cents_text(total)) +
           ",\"Balance\":" + cents_text(balance) + ",\"PrivateNote\":\"PO " +
           std::to_string(h % 10000) + "\"}";
  } else if (e == account) {
    static const char* const classes[] = {"Asset", "Liability", "Equity", "Revenue", "Expense"};
    static const char* const types[] = {"Bank", "Accounts Payable", "Equity", "Income", "Expense"};
    size_t k = fixed % 5;
    out += (r.invalid ? std::string() : ",\"Name\":\"Account " + std::to_string(idx + 1) + "\"") +
           ",\"AcctNum\":\"" + std::to_string(1000 + idx) + "\",\"Classification\":\"" +
           classes[k] + "\",\"AccountType\":\"" + types[k] +
           "\",\"Active\":" + (r.deleted ? "false" : "true") + "}";
  } else {
    size_t inv = fixed % n;
    int64_t amount = static_cast<int64_t>(h % 400000 + 100);
    out += ",\"TxnDate\":\"" + qbo_day(r.created_ms) + "\"" +
           (r.invalid ? std::string() : ",\"TotalAmt\":" + cents_text(amount)) +
           ",\"UnappliedAmt\":0,\"CustomerRef\":{\"value\":\"" + id(customer, mix64(inv) % n) +
           "\"},\"PaymentRefNum\":\"" + std::to_string(h % 100000) +
           "\",\"Line\":[{\"Amount\":" + cents_text(amount) + ",\"LinkedTxn\":[{\"TxnId\":\"" +
           id(invoice, inv) + "\",\"TxnType\":\"Invoice\"}]}]}";
  }
}

vendor_response quickbooks_api::handle(const vendor_request& req) {
  std::lock_guard lock(mu_);
  int64_t now = now_();
  vendor_response r;
  auto fail = [&](int status, std::string body) {
    r.status = status;
    r.body = std::move(body);
    return r;
  };
  if (!auth_.bearer_valid(req))
    return fail(401,
                "{\"fault\":{\"error\":[{\"message\":\"message=AuthenticationFailed; "
                "errorCode=003200; statusCode=401\",\"detail\":\"Token expired or invalid\","
                "\"code\":\"3200\"}],\"type\":\"AUTHENTICATION\"},\"time\":\"" +
                    qbo_time(now) + "\"}");
  // "/{realm}/{query|cdc}"
  auto slash = req.path.find('/', 1);
  std::string realm =
      req.path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string op = slash == std::string::npos ? "" : req.path.substr(slash + 1);
  if (realm != opts_.realm)
    return fail(
        403, fault_body("AuthorizationFault", "3100",
                        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                        "The realm " + realm + " is not connected to this app", now));
  int64_t retry_ms = 0;
  std::string forced;
  if (!faults_.empty()) forced = faults_.front(), faults_.erase(faults_.begin());
  if (forced == "throttle" || !minute_.take(realm, now, retry_ms))
    return fail(429, fault_body("ThrottleExceeded", "3001",
                                "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                                "The request limit was reached.", now));
  if (forced == "fault_in_200")
    return fail(200, fault_body("SystemFault", "10000",
                                "An application error has occurred while processing your request",
                                "System Failure Error: sandbox fault", now));
  if (op != "query" && op != "cdc") return entity_request(req, op, now);
  if (req.method != "GET")
    return fail(405, fault_body("ValidationFault", "405", "Only GET is served here", "", now));

  auto by_name = [&](const std::string& name) -> long {
    auto& all = entities();
    for (size_t i = 0; i < all.size(); ++i)
      if (name.size() == all[i].size() &&
          std::equal(name.begin(), name.end(), all[i].begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return static_cast<long>(i);
    return -1;
  };
  if (op == "query") {
    static const std::regex grammar(
        R"(^\s*SELECT\s+(\*|COUNT\(\*\))\s+FROM\s+(\w+)(\s+WHERE\s+MetaData\.LastUpdatedTime\s*(>=|>)\s*'([^']+)')?(\s+ORDERBY\s+MetaData\.LastUpdatedTime(\s+(ASC|DESC))?)?(\s+STARTPOSITION\s+(\d+))?(\s+MAXRESULTS\s+(\d+))?\s*$)",
        std::regex::icase);
    std::smatch m;
    std::string q = req.param("query");
    if (!std::regex_match(q, m, grammar))
      return fail(400,
                  fault_body("ValidationFault", "4000", "Error parsing query",
                             "QueryParserError: the sandbox understands SELECT */COUNT(*) FROM "
                             "<entity> [WHERE MetaData.LastUpdatedTime > '<ISO>'] [ORDERBY "
                             "MetaData.LastUpdatedTime [ASC|DESC]] [STARTPOSITION n] "
                             "[MAXRESULTS n]",
                             now));
    long e = by_name(m[2]);
    if (e < 0)
      return fail(
          400, fault_body("ValidationFault", "4001", "Invalid query",
                          "QueryValidationError: Entity " + m[2].str() + " is not supported", now));
    int64_t since = INT64_MIN;
    if (m[3].matched) {
      auto t = parse_iso(m[5].str());
      if (!t)
        return fail(400, fault_body("ValidationFault", "4001", "Invalid query",
                                    "QueryValidationError: LastUpdatedTime must be ISO 8601", now));
      since = to_ms(*t) / 1000 * 1000 + (m[4] == ">" ? 1000 : 0);
    }
    long start = m[10].matched ? std::stol(m[10]) : 1, max = m[12].matched ? std::stol(m[12]) : 100;
    if (start < 1 || max < 1 || max > 1000)
      return fail(
          400, fault_body("ValidationFault", "4001", "Invalid query",
                          "QueryValidationError: STARTPOSITION from 1, MAXRESULTS 1 to 1000", now));
    const auto& recs = colls_[static_cast<size_t>(e)].recs;
    std::vector<size_t> hits;
    for (size_t i = 0; i < recs.size(); ++i)
      if (!recs[i].deleted && recs[i].updated_ms / 1000 * 1000 >= since) hits.push_back(i);
    if (m[6].matched) {
      bool desc = m[8].matched && (m[8] == "DESC" || m[8] == "desc");
      std::stable_sort(hits.begin(), hits.end(), [&](size_t a, size_t b) {
        return desc ? recs[a].updated_ms / 1000 > recs[b].updated_ms / 1000
                    : recs[a].updated_ms / 1000 < recs[b].updated_ms / 1000;
      });
    }
    std::string name = entities()[static_cast<size_t>(e)];
    if (m[1] != "*") {
      r.body = "{\"QueryResponse\":{\"totalCount\":" + std::to_string(hits.size()) +
               "},\"time\":\"" + qbo_time(now) + "\"}";
      return r;
    }
    size_t from = std::min(hits.size(), static_cast<size_t>(start - 1));
    size_t to = std::min(hits.size(), from + static_cast<size_t>(max));
    r.body = "{\"QueryResponse\":{";
    if (to > from) {
      r.body += "\"" + name + "\":[";
      for (size_t k = from; k < to; ++k) {
        if (k > from) r.body += ',';
        render(static_cast<size_t>(e), hits[k], r.body);
      }
      r.body += "],\"startPosition\":" + std::to_string(start) +
                ",\"maxResults\":" + std::to_string(to - from);
    }
    r.body += "},\"time\":\"" + qbo_time(now) + "\"}";
    return r;
  }
  if (op == "cdc") {
    auto since_text = req.param("changedSince");
    auto t = parse_iso(since_text);
    if (!t)
      return fail(
          400, fault_body("ValidationFault", "2010", "Request has invalid or unsupported property",
                          "changedSince must be an ISO 8601 date-time", now));
    if (to_ms(*t) < now - 30LL * 86'400'000)
      return fail(
          400, fault_body("ValidationFault", "2010", "Request has invalid or unsupported property",
                          "changedSince may be at most 30 days back", now));
    std::vector<size_t> wanted;
    auto list = req.param("entities");
    for (size_t p = 0; p <= list.size();) {
      auto comma = list.find(',', p);
      auto name = list.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
      long e = by_name(name);
      if (e < 0)
        return fail(400, fault_body("ValidationFault", "2010",
                                    "Request has invalid or unsupported property",
                                    "entities: " + name + " is not supported", now));
      wanted.push_back(static_cast<size_t>(e));
      if (comma == std::string::npos) break;
      p = comma + 1;
    }
    r.body = "{\"CDCResponse\":[{\"QueryResponse\":[";
    size_t budget = 1000;  // CDC answers at most 1000 objects
    for (size_t w = 0; w < wanted.size(); ++w) {
      size_t e = wanted[w];
      if (w) r.body += ',';
      r.body += "{\"" + entities()[e] + "\":[";
      bool first = true;
      const auto& recs = colls_[e].recs;
      for (size_t i = 0; i < recs.size() && budget; ++i) {
        if (recs[i].updated_ms < to_ms(*t)) continue;
        if (!first) r.body += ',';
        first = false;
        render(e, i, r.body);
        --budget;
      }
      r.body += "]}";
    }
    r.body += "]}],\"time\":\"" + qbo_time(now) + "\"}";
    return r;
  }
  return fail(404, fault_body("ValidationFault", "404", "Unsupported operation", "/" + op, now));
}

long quickbooks_api::control(vendor_collection::action a, const std::string& entity, size_t count) {
  auto& all = entities();
  auto found = std::find(all.begin(), all.end(), entity);
  if (found == all.end()) return -1;
  std::lock_guard lock(mu_);
  return static_cast<long>(
      colls_[static_cast<size_t>(found - all.begin())].apply(a, count, now_()).size());
}

bool quickbooks_api::fault(const std::string& kind, size_t count) {
  std::lock_guard lock(mu_);
  if (kind == "write_500" || kind == "write_lost" || kind == "write_429") {
    write_faults_.insert(write_faults_.end(), count, kind);
    return true;
  }
  if (kind != "throttle" && kind != "fault_in_200") return false;
  faults_.insert(faults_.end(), count, kind);
  return true;
}

std::vector<std::string> quickbooks_api::records(const std::string& entity) {
  auto& all = entities();
  auto found = std::find(all.begin(), all.end(), entity);
  std::vector<std::string> out;
  if (found == all.end()) return out;
  std::lock_guard lock(mu_);
  size_t e = static_cast<size_t>(found - all.begin());
  for (size_t i = 0; i < colls_[e].recs.size(); ++i) render(e, i, out.emplace_back());
  return out;
}

}  // namespace ledgersync::sandbox
