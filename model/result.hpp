// The model's one error shape: a value or a sentence saying why not. Parsers of vendor data
// return it instead of throwing, so a malformed amount, date or file is an answer the caller
// can put in the sync log, never a crash and never half a result.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ledgersync::model {

template <class T>
struct result {
  std::optional<T> value;
  std::string error;  // set exactly when value is empty

  bool ok() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }

  static result good(T v) { return result{std::move(v), {}}; }
  static result bad(std::string why) { return result{std::nullopt, std::move(why)}; }
};

// `text` in double quotes, cut at `max` characters (vendor input can be long or hostile).
// Built by appending: GCC 12 warns falsely (-Wrestrict) on "\"" + std::string(...) chains.
inline std::string quote_text(std::string_view text, size_t max = 64) {
  std::string out;
  out.reserve(std::min(text.size(), max) + 2);
  out += '"';
  out.append(text.substr(0, max));
  out += '"';
  return out;
}

// A record field that is missing or invalid, named as the canonical field (what the engine's
// set-aside list shows).
struct problem {
  std::string field;
  std::string message;
  bool operator==(const problem&) const = default;
};

}  // namespace ledgersync::model
