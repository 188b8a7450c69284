// What every vendor mapper returns, and the builder they share: it reads a vendor field, converts
// it to the canonical field's type from the entity table (amount, date, currency, ...) and
// records a problem naming the canonical field when the value cannot be converted. finish()
// adds the validator's findings, so `problems` is the full reason a record is set aside.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/entities.hpp"
#include "model/exact_json.hpp"
#include "model/result.hpp"

namespace ledgersync::model {

struct mapped {
  canonical_record record;
  std::vector<problem> problems;  // empty: the record is valid
  bool tombstone() const { return record.deleted; }
};

// A JSON value at an RFC 6901 pointer, nullptr when absent or null. A malformed pointer finds
// nothing (pointers given in settings are checked when saved, see map_odata).
const nlohmann::json* at(const nlohmann::json& j, std::string_view pointer);
// The string at `pointer`, or its integer's digits; empty when absent.
std::string text_at(const nlohmann::json& j, std::string_view pointer);

class record_builder {
 public:
  // `raw` is the vendor's record text; `src` its parse_exact() tree.
  record_builder(std::string_view entity, std::string source, std::string_view raw,
                 const nlohmann::json& src);

  void id(std::string value);
  // Converts by the canonical field's type: amounts need currency set first (any exponent
  // otherwise, and the validator names the currency); `negate` flips an amount's sign.
  void set(std::string_view field, const nlohmann::json* value, bool negate = false);
  void set_text(std::string_view field, std::string value);  // empty: left absent
  void set_bool(std::string_view field, bool value);
  // Integer minor units (Stripe): 1099 USD -> "10.99".
  void set_minor(std::string_view field, const nlohmann::json* value, bool negate = false);
  // Unix seconds (Stripe) into a date or datetime field.
  void set_unix(std::string_view field, const nlohmann::json* value);
  void fail(std::string_view field, std::string message);
  void deleted(bool yes = true) { rec_.deleted = yes; }
  const std::string& currency() const { return currency_; }

  mapped finish();

 private:
  const field_spec* spec(std::string_view field);
  canonical_record rec_;
  std::vector<problem> problems_;
  std::string currency_;
};

// A mapper's entry: parse the record text exactly and hand the tree to `fn`; a record that is
// not a JSON object is one problem ("record") rather than an exception.
template <class Fn>
mapped map_json_record(std::string_view entity, std::string_view source, std::string_view text,
                       Fn&& fn);

template <class Fn>
mapped map_json_record(std::string_view entity, std::string_view source, std::string_view text,
                       Fn&& fn) {
  auto j = parse_exact(text);
  if (!j.ok() || !j->is_object()) {
    mapped m;
    m.record.entity = entity;
    m.record.source = source;
    m.record.raw = text;
    m.problems.push_back({"record", j.ok() ? "is not a JSON object" : j.error});
    return m;
  }
  return fn(*j);
}

}  // namespace ledgersync::model
