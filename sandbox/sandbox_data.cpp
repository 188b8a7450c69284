#include "sandbox/sandbox_data.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cstdio>

#include "core/time_util.hpp"

namespace ledgersync::sandbox {

bool read_list_target(std::string_view target, page_query& q, long& limit) {
  auto u = boost::urls::parse_uri_reference(target);
  if (!u) return false;
  auto param = [&](const char* k) {
    auto it = u->params().find(k);
    return it == u->params().end() ? std::string() : std::string((*it).value);
  };
  const std::string prefix = "/v1/";
  std::string path = u->path();
  q.stream = path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : "";
  q.cursor = param("cursor");
  q.updated_since = param("updated_since");
  limit = 10;
  if (auto text = param("limit"); !text.empty()) {
    try {
      limit = std::stol(text);
    } catch (...) {
    }
  }
  return true;
}

namespace {
constexpr int64_t kEpoch2026 = 1767225600000;  // 2026-01-01T00:00:00Z

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

const char* const kCurrencies[] = {"GBP", "EUR", "USD", "CHF"};
const char* const kCities[] = {"London", "Leeds", "Bristol", "Dublin", "Manchester", "Glasgow"};
const char* const kMethods[] = {"card", "bank_transfer", "direct_debit"};
const char* const kPrefix[] = {"cus", "inv", "pay"};
}  // namespace

const std::vector<std::string>& dataset::streams() {
  static const std::vector<std::string> s{"customers", "invoices", "payments"};
  return s;
}

bool dataset::has_stream(const std::string& s) const {
  auto& all = streams();
  return std::find(all.begin(), all.end(), s) != all.end();
}

dataset::dataset(size_t n, uint64_t seed) : n_(n), seed_(seed), states_(3) {
  for (auto& st : states_) {
    st.recs.resize(n);
    for (size_t i = 0; i < n; ++i) {
      st.recs[i].updated_ms = kEpoch2026 + static_cast<int64_t>(i) * 1000;
      st.order.emplace(st.recs[i].updated_ms, static_cast<uint32_t>(i));
    }
  }
  clock_ms_ = kEpoch2026 + static_cast<int64_t>(n) * 1000;
}

dataset::stream_state& dataset::state(const std::string& s) {
  auto& all = streams();
  return states_[static_cast<size_t>(std::find(all.begin(), all.end(), s) - all.begin())];
}

void dataset::render(const std::string& stream, size_t idx, const rec& r, std::string& out) const {
  size_t si = static_cast<size_t>(std::find(streams().begin(), streams().end(), stream) -
                                  streams().begin());
  uint64_t h = mix(seed_ ^ mix(si * 1000003 + idx) ^ (uint64_t(r.version) << 40));
  char id[32];
  std::snprintf(id, sizeof id, "%s_%08zu", kPrefix[si], idx + 1);
  auto updated = format_iso(from_ms(r.updated_ms));
  auto cur = kCurrencies[h % 4];
  char buf[1400];
  int len = 0;
  // ~1 KB per record, like real accounting objects; the notes pad to that size.
  static const std::string notes(520, 'x');
  if (si == 0) {
    len = std::snprintf(
        buf, sizeof buf,
        "{\"id\":\"%s\",\"object\":\"customer\",\"name\":\"Customer %zu Ltd\",%s"
        "\"currency\":\"%s\",\"balance\":%llu,\"phone\":\"+44 20 7946 %04llu\","
        "\"address\":{\"line1\":\"%llu High Street\",\"city\":\"%s\",\"postal_code\":\"EC%lluA "
        "%lluBB\",\"country\":\"GB\"},\"credit_limit\":%llu,\"payment_terms_days\":%llu,"
        "\"metadata\":{\"segment\":\"smb\",\"account_manager\":\"am%llu\"},"
        "\"notes\":\"%s\",\"version\":%u,\"updated_at\":\"%s\"}",
        id, idx + 1,
        r.missing ? ""
                  : ("\"email\":\"billing" + std::to_string(idx + 1) + "@example.com\",").c_str(),
        cur, (unsigned long long)(h % 1000000), (unsigned long long)(h % 10000),
        (unsigned long long)(h % 300 + 1), kCities[h % 6], (unsigned long long)(h % 9 + 1),
        (unsigned long long)(h % 9), (unsigned long long)(h % 50000 + 1000),
        (unsigned long long)(h % 4 * 15 + 15), (unsigned long long)(h % 20), notes.c_str(),
        r.version, updated.c_str());
  } else if (si == 1) {
    len = std::snprintf(
        buf, sizeof buf,
        "{\"id\":\"%s\",\"object\":\"invoice\",\"number\":\"INV-%06zu\","
        "\"customer_id\":\"cus_%08llu\",\"currency\":\"%s\",%s\"amount_due\":%llu,"
        "\"status\":\"%s\",\"issue_date\":\"2026-%02llu-%02lluT00:00:00Z\",\"due_date\":"
        "\"2026-%02llu-28T00:00:00Z\",\"lines\":[{\"description\":\"Services\",\"quantity\":%llu,"
        "\"unit_amount\":%llu},{\"description\":\"Licence\",\"quantity\":1,\"unit_amount\":%llu}],"
        "\"notes\":\"%s\",\"version\":%u,\"updated_at\":\"%s\"}",
        id, idx + 1, (unsigned long long)(h % (n_ ? n_ : 1) + 1), cur,
        r.missing ? "" : ("\"total\":" + std::to_string(h % 500000) + ",").c_str(),
        (unsigned long long)(h % 250000), (h % 3 == 0 ? "paid" : "open"),
        (unsigned long long)(h % 12 + 1), (unsigned long long)(h % 28 + 1),
        (unsigned long long)(h % 12 + 1), (unsigned long long)(h % 40 + 1),
        (unsigned long long)(h % 9000 + 100), (unsigned long long)(h % 5000 + 100), notes.c_str(),
        r.version, updated.c_str());
  } else {
    len = std::snprintf(
        buf, sizeof buf,
        "{\"id\":\"%s\",\"object\":\"payment\",\"invoice_id\":\"inv_%08llu\",\"currency\":\"%s\","
        "%s\"method\":\"%s\",\"reference\":\"REF%012llu\",\"received_at\":\"2026-%02llu-%02lluT09:"
        "30:00Z\",\"fee\":%llu,\"payer\":{\"name\":\"Payer %llu\",\"iban\":\"GB29NWBK6016133192"
        "%04llu\"},\"notes\":\"%s\",\"version\":%u,\"updated_at\":\"%s\"}",
        id, (unsigned long long)(h % (n_ ? n_ : 1) + 1), cur,
        r.missing ? "" : ("\"amount\":" + std::to_string(h % 400000) + ",").c_str(),
        kMethods[h % 3], (unsigned long long)(h % 1000000000000ull),
        (unsigned long long)(h % 12 + 1), (unsigned long long)(h % 28 + 1),
        (unsigned long long)(h % 300), (unsigned long long)(h % 10000),
        (unsigned long long)(h % 10000), notes.c_str(), r.version, updated.c_str());
  }
  out.append(buf, static_cast<size_t>(std::max(0, std::min<int>(len, sizeof buf - 1))));
}

bool dataset::page(const page_query& q, std::string& body) {
  if (!has_stream(q.stream)) {
    body =
        "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Unrecognized request URL\"}}";
    return false;
  }
  int64_t since = 0;
  if (!q.updated_since.empty()) {
    auto t = parse_iso(q.updated_since);
    if (!t) {
      body =
          "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid updated_since: "
          "expected an ISO 8601 date-time\",\"param\":\"updated_since\"}}";
      return false;
    }
    since = to_ms(*t);
  }
  std::pair<int64_t, uint32_t> start{since, 0};
  bool after = false;
  if (!q.cursor.empty()) {
    auto colon = q.cursor.find(':');
    try {
      start = {std::stoll(q.cursor.substr(0, colon)),
               static_cast<uint32_t>(std::stoul(q.cursor.substr(colon + 1)))};
    } catch (...) {
      body = "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid cursor\"}}";
      return false;
    }
    after = true;
  }
  std::lock_guard lock(mu_);
  auto& st = state(q.stream);
  auto it = after ? st.order.upper_bound(start) : st.order.lower_bound(start);
  body.clear();
  body.reserve(q.limit * 1100 + 200);
  body += "{\"object\":\"list\",\"url\":\"/v1/" + q.stream + "\",\"data\":[";
  size_t count = 0;
  std::pair<int64_t, uint32_t> last{};
  for (; it != st.order.end() && count < q.limit; ++it, ++count) {
    if (count) body += ',';
    render(q.stream, it->second, st.recs[it->second], body);
    last = *it;
  }
  bool more = it != st.order.end();
  body += "],\"has_more\":";
  body += more ? "true" : "false";
  body += ",\"next_cursor\":";
  if (more) {  // appended piecewise: `"\"" + std::string` trips a false GCC 12 -Wrestrict
    body.append(1, '"').append(std::to_string(last.first)).append(1, ':');
    body.append(std::to_string(last.second)).append(1, '"');
  } else {
    body += "null";
  }
  if (q.cursor.empty()) {  // a total on the first page, for progress
    auto first = st.order.lower_bound({since, 0});
    body += ",\"total\":" + std::to_string(std::distance(first, st.order.end()));
  }
  body += "}";
  return true;
}

size_t dataset::touch(const std::string& stream, size_t count, int64_t now_ms, bool invalid) {
  if (!has_stream(stream) || n_ == 0) return 0;
  std::lock_guard lock(mu_);
  auto& st = state(stream);
  count = std::min(count, n_);
  for (size_t k = 0; k < count; ++k) {
    // Spread changes over the stream deterministically (a stride coprime to most sizes).
    size_t idx = (st.next_mutate * 7919) % n_;
    ++st.next_mutate;
    auto& r = st.recs[idx];
    if (r.removed) continue;
    st.order.erase({r.updated_ms, static_cast<uint32_t>(idx)});
    clock_ms_ = std::max(clock_ms_ + 1, now_ms);
    r.updated_ms = clock_ms_;
    ++r.version;
    if (invalid) r.missing = true;
    st.order.emplace(r.updated_ms, static_cast<uint32_t>(idx));
  }
  return count;
}

size_t dataset::mutate(const std::string& s, size_t c, int64_t now) {
  return touch(s, c, now, false);
}
size_t dataset::invalidate(const std::string& s, size_t c, int64_t now) {
  return touch(s, c, now, true);
}

size_t dataset::repair(const std::string& stream, size_t count, int64_t now_ms) {
  if (!has_stream(stream)) return 0;
  std::lock_guard lock(mu_);
  auto& st = state(stream);
  size_t done = 0;
  for (size_t idx = 0; idx < st.recs.size() && done < count; ++idx) {
    auto& r = st.recs[idx];
    if (!r.missing || r.removed) continue;
    st.order.erase({r.updated_ms, static_cast<uint32_t>(idx)});
    clock_ms_ = std::max(clock_ms_ + 1, now_ms);
    r.updated_ms = clock_ms_;
    ++r.version;
    r.missing = false;
    st.order.emplace(r.updated_ms, static_cast<uint32_t>(idx));
    ++done;
  }
  return done;
}

size_t dataset::remove(const std::string& stream, size_t count) {
  if (!has_stream(stream)) return 0;
  std::lock_guard lock(mu_);
  auto& st = state(stream);
  size_t done = 0;
  for (size_t idx = st.recs.size(); idx-- > 0 && done < count;) {
    auto& r = st.recs[idx];
    if (r.removed) continue;
    st.order.erase({r.updated_ms, static_cast<uint32_t>(idx)});
    r.removed = true;
    ++done;
  }
  return done;
}

std::string dataset::record_json(const std::string& stream, size_t idx) {
  std::lock_guard lock(mu_);
  std::string out;
  render(stream, idx, state(stream).recs[idx], out);
  return out;
}

}  // namespace ledgersync::sandbox
