// What the vendor sandboxes (vendor_xero, vendor_stripe, vendor_oauth) share: a plain request and
// response that the Beast server converts to and from, so unit tests call a vendor's handler
// directly with no socket; an injectable clock, so rate windows and token expiry run in virtual
// time; the fixed-window limiter behind every vendor's rate limit; and the record states a
// collection keeps (version, updated, invalid, deleted) with the control actions that move them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/decimal.hpp"

namespace ledgersync::sandbox {

// Milliseconds since the Unix epoch; the server passes the system clock, tests a variable.
using clock_fn = std::function<int64_t()>;

struct vendor_request {
  std::string method = "GET";
  std::string path;                                        // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::map<std::string, std::string> headers;              // names in lower case
  std::string body;

  // The first value of query parameter `k`, or `def`.
  std::string param(std::string_view k, std::string def = "") const;
  std::vector<std::string> params(std::string_view k) const;
  bool has_param(std::string_view k) const;
  std::string header(std::string_view lower_name) const;
};

struct vendor_response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void set(std::string name, std::string value);
  std::string header(std::string_view name) const;  // "" when absent; case-insensitive
};

// Builds a request from an origin-form target ("/stripe/v1/customers?limit=3"); false when the
// target does not parse.
bool make_request(std::string method, std::string_view target, vendor_request& out);
// Stripe's clients send "created[gte]=…" with raw brackets, which RFC 3986 does not allow in a
// query: they are percent-encoded before the target is parsed.
std::string escape_brackets(std::string_view target);
// application/x-www-form-urlencoded -> pairs, decoded ('+' is a space).
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);
// Where `name` stands in `names` (a vendor's collections), or nothing.
std::optional<size_t> index_of(const std::vector<std::string>& names, const std::string& name);
// A whole decimal number in `text`, or nothing (no sign, no spaces, no trailing text).
std::optional<long> read_count(std::string_view text);
// JSON string escaping for the few values the sandbox echoes back (ids, parameters).
std::string json_escape(std::string_view s);

uint64_t mix64(uint64_t x);  // splitmix64: deterministic records from a seed
// A UUID-shaped id (Xero's ids) from a hash.
std::string stable_uuid(uint64_t h);
// `n` lower-case base-62ish characters from a hash (Stripe's ids).
std::string stable_token(uint64_t h, size_t n);
// Xero's JSON date: "/Date(1539993600000+0000)/".
std::string xero_date(int64_t ms);
// Integer cents as a JSON number with two decimals: 12345 -> 123.45.
std::string cents_text(int64_t cents);
// Lenient arithmetic for the totals the write sandboxes work out (line amounts, taxes, what is
// due): a product past the model's digits reads as 0, such a sum as its first term.
model::decimal product_or_zero(const model::decimal& a, const model::decimal& b);
model::decimal sum_or_first(const model::decimal& a, const model::decimal& b);

// Counts requests per key in fixed windows of `window_ms` aligned to the epoch (a minute, a
// second, a UTC day), like the vendors' published "N per minute" limits.
class window_limiter {
 public:
  window_limiter(size_t limit, int64_t window_ms) : limit_(limit), window_ms_(window_ms) {}
  // Takes one request; false when the window is full. `retry_after_ms` is the time to the
  // window's end either way.
  bool take(const std::string& key, int64_t now_ms, int64_t& retry_after_ms);
  size_t remaining(const std::string& key, int64_t now_ms) const;
  size_t limit() const { return limit_; }

 private:
  size_t limit_;
  int64_t window_ms_;
  std::map<std::string, std::pair<int64_t, size_t>> used_;  // key -> (window start, count)
};

// One record's moving parts; the vendor renders its body from (seed, index, state).
struct vendor_record {
  uint32_t version = 1;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  bool invalid = false;  // lacks a required field (control: invalid / repair)
  bool deleted = false;  // deleted upstream; how it shows is the vendor's business
};

// The control actions of /_sandbox/{mutate,invalid,repair,remove} on one collection. Changed
// records get updated = max(now, last change + 1 ms), so watermarks always move forward.
class vendor_collection {
 public:
  vendor_collection() = default;
  // `n` records created and updated `step_ms` apart, the last one at `last_ms`.
  vendor_collection(size_t n, int64_t last_ms, int64_t step_ms);
  enum class action { mutate, invalid, repair, remove };
  // The indices changed (spread over the collection deterministically).
  std::vector<size_t> apply(action a, size_t count, int64_t now_ms);
  std::vector<vendor_record> recs;

 private:
  size_t next_ = 0;
  int64_t clock_ms_ = 0;
};

// What the vendors' write endpoints did, for the tests that prove each push had one effect:
// per vendor, entity and external reference (the application's key as the vendor stores it:
// Xero ContactNumber, Stripe metadata[external_id], …), how many records were created and how
// many times one was changed. A request replayed under an idempotency key counts nothing.
// Shared by every vendor of one server; thread-safe.
class effect_log {
 public:
  enum class effect { create, update };
  void count(const std::string& vendor, const std::string& entity, const std::string& ref,
             effect e);
  // {"xero":{"customer":{"C-1":{"creates":1,"updates":0}}}, …}
  std::string to_json() const;
  // Creates of one reference (tests).
  size_t creates(const std::string& vendor, const std::string& entity,
                 const std::string& ref) const;

 private:
  mutable std::mutex mu_;
  // vendor -> entity -> ref -> (creates, updates)
  std::map<std::string, std::map<std::string, std::map<std::string, std::pair<size_t, size_t>>>>
      counts_;
};

// "mutate" | "invalid" | "repair" | "remove" -> action; false for anything else.
bool read_action(std::string_view name, vendor_collection::action& a);

}  // namespace ledgersync::sandbox
