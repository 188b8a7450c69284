#include "sandbox/vendor_common.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cstdio>

namespace ledgersync::sandbox {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}
}  // namespace

std::string vendor_request::param(std::string_view k, std::string def) const {
  for (const auto& [key, value] : query)
    if (key == k) return value;
  return def;
}

std::vector<std::string> vendor_request::params(std::string_view k) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : query)
    if (key == k) out.push_back(value);
  return out;
}

bool vendor_request::has_param(std::string_view k) const {
  return std::any_of(query.begin(), query.end(), [&](const auto& p) { return p.first == k; });
}

std::string vendor_request::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

void vendor_response::set(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

std::string vendor_response::header(std::string_view name) const {
  auto want = lower(name);
  for (const auto& [k, v] : headers)
    if (lower(k) == want) return v;
  return {};
}

bool make_request(std::string method, std::string_view raw_target, vendor_request& out) {
  auto target = escape_brackets(raw_target);
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return false;
  out.method = std::move(method);
  out.path = u->path();
  out.query.clear();
  for (auto p : u->params()) out.query.emplace_back(std::string(p.key), std::string(p.value));
  return true;
}

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// Form decoding: '+' is a space, %XY a byte; a malformed escape stays as written.
std::string form_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto part = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    out.emplace_back(form_decode(part.substr(0, eq)), eq == std::string_view::npos
                                                          ? std::string()
                                                          : form_decode(part.substr(eq + 1)));
  }
  return out;
}

std::string escape_brackets(std::string_view target) {
  std::string out;
  for (char c : target) {
    if (c == '[')
      out += "%5B";
    else if (c == ']')
      out += "%5D";
    else
      out += c;
  }
  return out;
}

std::optional<size_t> index_of(const std::vector<std::string>& names, const std::string& name) {
  auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) return std::nullopt;
  return static_cast<size_t>(found - names.begin());
}

std::optional<long> read_count(std::string_view text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string stable_uuid(uint64_t h) {
  uint64_t a = mix64(h), b = mix64(h ^ 0x5bd1e995u);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-a%03llx-%012llx",
                (unsigned long long)(a >> 32), (unsigned long long)((a >> 16) & 0xffff),
                (unsigned long long)(a & 0xfff), (unsigned long long)(b >> 52),
                (unsigned long long)(b & 0xffffffffffffull));
  return buf;
}

std::string stable_token(uint64_t h, size_t n) {
  static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    h = mix64(h + i);
    out += alphabet[h % 62];
  }
  return out;
}

std::string xero_date(int64_t ms) {
  return "/Date(" + std::to_string(ms) + "+0000)/";
}

std::string cents_text(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", cents < 0 ? "-" : "",
                (long long)(std::llabs(cents) / 100), (long long)(std::llabs(cents) % 100));
  return buf;
}

model::decimal product_or_zero(const model::decimal& a, const model::decimal& b) {
  auto p = a.times(b);
  return p.ok() ? *p : model::decimal{};
}

model::decimal sum_or_first(const model::decimal& a, const model::decimal& b) {
  auto s = a.plus(b);
  return s.ok() ? *s : a;
}

bool window_limiter::take(const std::string& key, int64_t now_ms, int64_t& retry_after_ms) {
  int64_t start = now_ms - now_ms % window_ms_;
  retry_after_ms = start + window_ms_ - now_ms;
  auto& [window, count] = used_[key];
  if (window != start) window = start, count = 0;
  if (count >= limit_) return false;
  ++count;
  return true;
}

size_t window_limiter::remaining(const std::string& key, int64_t now_ms) const {
  auto it = used_.find(key);
  if (it == used_.end() || it->second.first != now_ms - now_ms % window_ms_) return limit_;
  return limit_ - std::min(limit_, it->second.second);
}

vendor_collection::vendor_collection(size_t n, int64_t last_ms, int64_t step_ms) : recs(n) {
  for (size_t i = 0; i < n; ++i) {
    recs[i].created_ms = last_ms - static_cast<int64_t>(n - 1 - i) * step_ms;
    recs[i].updated_ms = recs[i].created_ms;
  }
  clock_ms_ = last_ms;
}

std::vector<size_t> vendor_collection::apply(action a, size_t count, int64_t now_ms) {
  std::vector<size_t> changed;
  const size_t n = recs.size();
  for (size_t tries = 0; tries < n && changed.size() < count; ++tries) {
    // Repair walks in index order (it looks for the ones that lost a field); the others spread
    // over the collection with a stride coprime to most sizes.
    size_t idx = a == action::repair ? tries : (next_ * 7919) % n;
    if (a != action::repair) ++next_;
    auto& r = recs[idx];
    if (r.deleted || (a == action::repair && !r.invalid)) continue;
    if (std::find(changed.begin(), changed.end(), idx) != changed.end()) continue;
    clock_ms_ = std::max(clock_ms_ + 1, now_ms);
    r.updated_ms = clock_ms_;
    ++r.version;
    if (a == action::invalid) r.invalid = true;
    if (a == action::repair) r.invalid = false;
    if (a == action::remove) r.deleted = true;
    changed.push_back(idx);
  }
  return changed;
}

bool read_action(std::string_view name, vendor_collection::action& a) {
  using act = vendor_collection::action;
  if (name == "mutate") return a = act::mutate, true;
  if (name == "invalid") return a = act::invalid, true;
  if (name == "repair") return a = act::repair, true;
  if (name == "remove") return a = act::remove, true;
  return false;
}

void effect_log::count(const std::string& vendor, const std::string& entity,
                       const std::string& ref, effect e) {
  std::lock_guard lock(mu_);
  auto& c = counts_[vendor][entity][ref];
  (e == effect::create ? c.first : c.second) += 1;
}

std::string effect_log::to_json() const {
  std::lock_guard lock(mu_);
  std::string out = "{";
  for (const auto& [vendor, entities] : counts_) {
    if (out.size() > 1) out += ',';
    // Appended piece by piece: GCC 12 takes `"..." + std::string&&` for an overlapping copy.
    out += '"';
    out += json_escape(vendor);
    out += "\":{";
    bool first_entity = true;
    for (const auto& [entity, refs] : entities) {
      if (!first_entity) out += ',';
      first_entity = false;
      out += '"';
      out += json_escape(entity);
      out += "\":{";
      bool first_ref = true;
      for (const auto& [ref, c] : refs) {
        if (!first_ref) out += ',';
        first_ref = false;
        out += '"';
        out += json_escape(ref);
        out += "\":{\"creates\":" + std::to_string(c.first) +
               ",\"updates\":" + std::to_string(c.second) + "}";
      }
      out += "}";
    }
    out += "}";
  }
  return out + "}";
}

size_t effect_log::creates(const std::string& vendor, const std::string& entity,
                           const std::string& ref) const {
  std::lock_guard lock(mu_);
  auto v = counts_.find(vendor);
  if (v == counts_.end()) return 0;
  auto e = v->second.find(entity);
  if (e == v->second.end()) return 0;
  auto r = e->second.find(ref);
  return r == e->second.end() ? 0 : r->second.first;
}

}  // namespace ledgersync::sandbox
