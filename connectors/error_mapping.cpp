// What an upstream's answer means for the sync: the HTTP status decides the category, the body
// supplies the vendor's words for the message. Also the small HTTP value rules (Host, Link,
// Retry-After, totals, HTTP-dates) that connectors and the client share.
#include <algorithm>
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

int64_t parse_http_date(std::string_view v) {
  // IMF-fixdate only, the form RFC 9110 requires senders to use: "Sun, 06 Nov 1994 08:49:37 GMT".
  if (v.size() != 29 || v.substr(3, 2) != ", " || v.substr(25) != " GMT") return -1;
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto number = [&](size_t at, size_t len) {
    int n = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (v[i] < '0' || v[i] > '9') return -1;
      n = n * 10 + (v[i] - '0');
    }
    return n;
  };
  int month = -1;
  for (int m = 0; m < 12; ++m)
    if (v.substr(8, 3) == months[m]) month = m;
  int day = number(5, 2), year = number(12, 4), h = number(17, 2), mi = number(20, 2),
      sec = number(23, 2);
  if (month < 0 || day < 1 || day > 31 || year < 1970 || h > 23 || mi > 59 || sec > 60 ||
      v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' || v[22] != ':')
    return -1;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm));
}

int parse_retry_after(std::string_view v, std::string_view date) {
  constexpr int64_t cap_s = 2 * 24 * 3600;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return -1;
  if (v.front() >= '0' && v.front() <= '9') {
    int64_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return -1;
      n = std::min<int64_t>(n * 10 + (c - '0'), cap_s);
    }
    return static_cast<int>(n);
  }
  auto at = parse_http_date(v), now = parse_http_date(date);
  if (at < 0 || now < 0) return -1;
  return static_cast<int>(std::clamp<int64_t>(at - now, 0, cap_s));
}

int retry_after_of(const http_response& r) {
  return parse_retry_after(r.header("Retry-After"), r.header("Date"));
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

std::string percent_encode(std::string_view s, std::string_view keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
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
  e.retry_after_s = retry_after_of(r);
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
