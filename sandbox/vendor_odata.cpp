#include "sandbox/vendor_odata.hpp"

#include <algorithm>
#include <regex>

#include "core/time_util.hpp"

namespace ledgersync::sandbox {

namespace {

const char* const kCurrencies[] = {"EUR", "GBP", "USD"};

std::string odata_error(const std::string& code, const std::string& message) {
  return "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + json_escape(message) + "\"}}";
}

std::string iso(int64_t ms) {
  return format_iso(from_ms(ms));
}

}  // namespace

const std::vector<std::string>& odata_api::entity_sets() {
  static const std::vector<std::string> s{"Customers", "Invoices"};
  return s;
}

odata_api::odata_api(odata_options o, oauth_server& auth, clock_fn now)
    : opts_(std::move(o)), auth_(auth), now_(std::move(now)) {
  int64_t now_ms = now_();
  for (size_t s = 0; s < entity_sets().size(); ++s)
    colls_.emplace_back(opts_.records, now_ms - 60'000, 60'000);
}

void odata_api::render(size_t s, size_t idx, std::string& out) const {
  const auto& r = colls_[s].recs[idx];
  const size_t n = std::max<size_t>(opts_.records, 1);
  uint64_t h = mix64(opts_.seed ^ mix64(s * 1000003 + idx) ^ (uint64_t(r.version) << 40));
  uint64_t fixed = mix64(opts_.seed ^ mix64(s * 1000003 + idx));
  std::string deleted = r.deleted ? "true" : "false";
  if (s == 0) {
    out +=
        "{\"No\":\"C" + std::to_string(10000 + idx + 1) + "\"" +
        (r.invalid ? std::string() : ",\"Name\":\"Kunde " + std::to_string(idx + 1) + " GmbH\"") +
        ",\"Email\":\"ap" + std::to_string(idx + 1) + "@example.com\",\"CurrencyCode\":\"" +
        kCurrencies[fixed % 3] + "\",\"Balance\":" + cents_text(static_cast<int64_t>(h % 100000)) +
        ",\"IsDeleted\":" + deleted + ",\"Modified\":\"" + iso(r.updated_ms) + "\"}";
  } else {
    int64_t total = static_cast<int64_t>(h % 500000 + 1000);
    int64_t remaining = h % 3 == 0 ? 0 : total;
    std::string created = iso(r.created_ms).substr(0, 10);
    out += "{\"No\":\"SI" + std::to_string(100000 + idx + 1) + "\",\"Customer\":{\"No\":\"C" +
           std::to_string(10000 + fixed % n + 1) + "\"},\"CurrencyCode\":\"" +
           kCurrencies[fixed % 3] + "\"" +
           (r.invalid ? std::string() : ",\"AmountIncludingVAT\":" + cents_text(total)) +
           ",\"Amount\":" + cents_text(total * 100 / 119) +
           ",\"RemainingAmount\":" + cents_text(remaining) + ",\"DocumentDate\":\"" + created +
           "\",\"DueDate\":\"" + iso(r.created_ms + 30 * 86'400'000LL).substr(0, 10) +
           "\",\"Status\":\"" + (remaining ? "open" : "paid") + "\",\"IsDeleted\":" + deleted +
           ",\"Modified\":\"" + iso(r.updated_ms) + "\"}";
  }
}

vendor_response odata_api::handle(const vendor_request& req) {
  std::lock_guard lock(mu_);
  vendor_response r;
  r.set("OData-Version", "4.0");
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    r.status = status;
    r.body = odata_error(code, message);
    return r;
  };
  auto bearer = req.header("authorization");
  std::string token = bearer.rfind("Bearer ", 0) == 0 ? bearer.substr(7) : "";
  if (token.empty() ||
      (token != opts_.api_key && auth_.check_access(token) != oauth_server::token_state::valid))
    return fail(401, "Unauthorized", "The access token is missing or invalid.");
  auto& sets = entity_sets();
  // The service document and $metadata: what a client reads to test a connection.
  if (req.path.empty() || req.path == "/") {
    r.body = "{\"@odata.context\":\"$metadata\",\"value\":[";
    for (size_t i = 0; i < sets.size(); ++i)
      r.body += std::string(i ? "," : "") + "{\"name\":\"" + sets[i] +
                "\",\"kind\":\"EntitySet\",\"url\":\"" + sets[i] + "\"}";
    r.body += "]}";
    return r;
  }
  if (req.path == "/$metadata") {
    r.content_type = "application/xml";
    r.body =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><edmx:Edmx Version=\"4.0\" "
        "xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices><Schema "
        "Namespace=\"Sandbox\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">"
        "<EntityContainer Name=\"Default\">";
    for (auto& set : sets) r.body += "<EntitySet Name=\"" + set + "\"/>";
    r.body += "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>";
    return r;
  }
  std::string name = req.path.substr(1);
  auto found = std::find(sets.begin(), sets.end(), name);
  if (found == sets.end())
    return fail(404, "BadRequest_ResourceNotFound",
                "Resource not found for the segment '" + name + "'.");
  size_t s = static_cast<size_t>(found - sets.begin());

  int64_t since = INT64_MIN;
  bool strictly = false;
  if (req.has_param("$filter")) {
    static const std::regex grammar(R"(^\s*Modified\s+(ge|gt)\s+(\S+)\s*$)");
    std::smatch m;
    auto f = req.param("$filter");
    std::optional<sys_ms> t;
    if (std::regex_match(f, m, grammar)) t = parse_iso(m[2].str());
    if (!t)
      return fail(400, "BadRequest", "The sandbox's $filter is 'Modified ge|gt <DateTimeOffset>'");
    since = to_ms(*t);
    strictly = m[1] == "gt";
  }
  auto count_of = [&](const char* p, long def, long max) -> std::optional<long> {
    if (!req.has_param(p)) return def;
    auto v = read_count(req.param(p));
    if (!v || *v > max) return std::nullopt;
    return *v;
  };
  auto top = count_of("$top", -1, 1'000'000), skip = count_of("$skip", 0, 1'000'000),
       token_pos = count_of("$skiptoken", 0, 1'000'000);
  if (!top || !skip || !token_pos)
    return fail(400, "BadRequest", "$top, $skip and $skiptoken are whole numbers");
  long page = 100;
  auto prefer = req.header("prefer");
  if (auto at = prefer.find("odata.maxpagesize="); at != std::string::npos) {
    auto digits = prefer.substr(at + 18, prefer.find_first_not_of("0123456789", at + 18) - at - 18);
    if (auto v = read_count(digits); v && *v >= 1) {
      page = std::min<long>(*v, 1000);
      r.set("Preference-Applied", "odata.maxpagesize=" + std::to_string(page));
    }
  }
  const auto& recs = colls_[s].recs;
  std::vector<size_t> hits;
  for (size_t i = 0; i < recs.size(); ++i)
    if (strictly ? recs[i].updated_ms > since : recs[i].updated_ms >= since) hits.push_back(i);
  std::sort(hits.begin(), hits.end(), [&](size_t a, size_t b) {
    return std::pair(recs[a].updated_ms, a) < std::pair(recs[b].updated_ms, b);
  });
  // $skip and $top pick the client's window; the server pages through it with $skiptoken.
  size_t begin = std::min(hits.size(), static_cast<size_t>(*skip));
  size_t end = *top < 0 ? hits.size() : std::min(hits.size(), begin + static_cast<size_t>(*top));
  size_t from = std::min(end, begin + static_cast<size_t>(*token_pos));
  size_t to = std::min(end, from + static_cast<size_t>(page));
  r.body = "{\"@odata.context\":\"$metadata#" + name + "\"";
  if (req.param("$count") == "true") r.body += ",\"@odata.count\":" + std::to_string(end - begin);
  r.body += ",\"value\":[";
  for (size_t k = from; k < to; ++k) {
    if (k > from) r.body += ',';
    render(s, hits[k], r.body);
  }
  r.body += "]";
  if (to < end) {
    std::string link = name + "?$skiptoken=" + std::to_string(to - begin);
    for (const auto& [k, v] : req.query)
      if (k != "$skiptoken") link += "&" + k + "=" + std::regex_replace(v, std::regex(" "), "%20");
    std::string escaped;
    for (char c : link) escaped += c == '+' ? std::string("%2B") : std::string(1, c);
    r.body += ",\"@odata.nextLink\":\"" + json_escape(escaped) + "\"";
  }
  r.body += "}";
  return r;
}

long odata_api::control(vendor_collection::action a, const std::string& set, size_t count) {
  auto& sets = entity_sets();
  auto found = std::find(sets.begin(), sets.end(), set);
  if (found == sets.end()) return -1;
  std::lock_guard lock(mu_);
  return static_cast<long>(
      colls_[static_cast<size_t>(found - sets.begin())].apply(a, count, now_()).size());
}

std::vector<std::string> odata_api::records(const std::string& set) {
  auto& sets = entity_sets();
  auto found = std::find(sets.begin(), sets.end(), set);
  std::vector<std::string> out;
  if (found == sets.end()) return out;
  std::lock_guard lock(mu_);
  size_t s = static_cast<size_t>(found - sets.begin());
  for (size_t i = 0; i < colls_[s].recs.size(); ++i) render(s, i, out.emplace_back());
  return out;
}

}  // namespace ledgersync::sandbox
