// The text of a scalar in an upstream's JSON: ids, timestamps and page tokens may come as
// strings or numbers, and are compared and stored as text.
#pragma once

#include <simdjson.h>

#include <string>

namespace ledgersync {

// "" for null, objects and arrays. A fractional number keeps its JSON spelling.
inline std::string scalar_text(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      return std::string(std::string_view(e));
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(e));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(e));
    case simdjson::dom::element_type::DOUBLE:
      return simdjson::minify(e);
    case simdjson::dom::element_type::BOOL:
      return bool(e) ? "true" : "false";
    default:
      return "";
  }
}

}  // namespace ledgersync
