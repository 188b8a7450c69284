// What an upstream's answer means for the sync: the HTTP status decides the category, the body
// supplies the vendor's words for the message. Also the small HTTP value rules (Host, Link,
// Retry-After, totals, HTTP-dates) that connectors and the client share.
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "connectors/http_types.hpp"
#include "core/time_util.hpp"

namespace ledgersync {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// The vendors' error bodies (UPSTREAM-PROTOCOLS.md): Stripe/OData {"error":{"message"}},
// Xero {"Message"} / {"Detail"}, Sage [{"$message"}], QuickBooks {"Fault":{"Error":[{"Message"}]}}.
std::string vendor_message(const std::string& body) {
  if (body.empty() || body.size() > 65536) return "";
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return "";
  auto str = [](const nlohmann::json& o, const char* k) -> std::string {
    if (o.is_object() && o.contains(k) && o[k].is_string()) return o[k].get<std::string>();
    return "";
  };
  if (j.is_array() && !j.empty()) return str(j[0], "$message");
  if (!j.is_object()) return "";
  if (j.contains("error")) {
    if (j["error"].is_string()) return j["error"].get<std::string>();
    if (auto m = str(j["error"], "message"); !m.empty()) return m;
  }
  if (j.contains("Fault") && j["Fault"].contains("Error") && j["Fault"]["Error"].is_array() &&
      !j["Fault"]["Error"].empty())
    return str(j["Fault"]["Error"][0], "Message");
  for (auto k : {"message", "Message", "Detail", "detail", "Title"})
    if (auto m = str(j, k); !m.empty()) return m;
  return "";
}
}  // namespace

std::string_view http_response::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

std::string origin_of(std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u || !u->has_authority() || u->host().empty()) return "";
  std::string scheme = u->scheme();
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return "";
  std::string host = u->host();
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string port = u->port();
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  return scheme + "://" + host + ":" + port;
}

int parse_retry_after(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty() || v.size() > 9) return -1;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string host_header_for(std::string_view scheme, std::string_view host, std::string_view port) {
  bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  std::string out(host);
  if (!default_port && !port.empty()) out += ":" + std::string(port);
  return out;
}

int64_t total_from_header(std::string_view v) {
  if (auto slash = v.rfind('/'); slash != std::string_view::npos) v.remove_prefix(slash + 1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty() || v.size() > 18) return -1;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string http_date_of(std::string_view iso) {
  auto t = parse_iso(iso);
  if (!t) return "";
  std::time_t secs = std::chrono::floor<std::chrono::seconds>(*t).time_since_epoch().count();
  std::tm tm{};
  if (!gmtime_r(&secs, &tm)) return "";
  // Day and month names are fixed English in HTTP, whatever the process's locale.
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string link_next(std::string_view h) {
  // <url>; rel="next", <url2>; rel="prev"
  size_t pos = 0;
  while (pos < h.size()) {
    auto lt = h.find('<', pos);
    if (lt == std::string_view::npos) break;
    auto gt = h.find('>', lt);
    if (gt == std::string_view::npos) break;
    auto next_entry = h.find('<', gt);
    auto params =
        h.substr(gt + 1, next_entry == std::string_view::npos ? h.npos : next_entry - gt - 1);
    for (auto rel : {"rel=\"next\"", "rel=next"})
      if (params.find(rel) != std::string_view::npos)
        return std::string(h.substr(lt + 1, gt - lt - 1));
    pos = gt + 1;
  }
  return "";
}

error_info classify_response(const http_response& r, const std::string& what) {
  if (r.status == 0) return r.error;
  if (r.status >= 200 && r.status < 300) return {};
  auto vm = vendor_message(r.body);
  std::string msg = what + ": HTTP " + std::to_string(r.status) + (vm.empty() ? "" : " — " + vm);
  error_info e;
  e.message = msg;
  e.retry_after_s = parse_retry_after(r.header("Retry-After"));
  if (r.status == 401 || r.status == 403)
    e.category = error_category::auth;
  else if (r.status == 429)
    e.category = error_category::rate_limited;
  else if (r.status == 408 || r.status == 504)
    e.category = error_category::timeout;
  else if (r.status >= 500)
    e.category = error_category::upstream;
  else
    e.category = error_category::config;  // 400/404/422: our request is wrong, retrying won't help
  return e;
}

}  // namespace ledgersync
