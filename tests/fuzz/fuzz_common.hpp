// Shared checks for the libFuzzer targets: a parser answers either records or an error, never
// both and never an empty error; records it returns are valid canonical records.
#pragma once

#include <cstdlib>
#include <string_view>
#include <vector>

#include "model/entities.hpp"
#include "model/mapping.hpp"
#include "model/result.hpp"

namespace fuzz {

inline void require(bool ok) {
  if (!ok) std::abort();
}

inline void check_file(
    const ledgersync::model::result<std::vector<ledgersync::model::canonical_record>>& r) {
  require(r.ok() == r.error.empty());
  if (!r.ok()) return;
  for (const auto& rec : *r.value) {
    require(!rec.id.empty());
    require(ledgersync::model::validate(rec).empty());
    (void)ledgersync::model::to_json_text(rec);
  }
}

// A mapped record: a tombstone or a record with no problems must validate; the JSON text
// must be producible whatever came in.
inline void check_mapped(const ledgersync::model::mapped& m) {
  if (m.problems.empty()) require(ledgersync::model::validate(m.record).empty());
  (void)ledgersync::model::to_json_text(m.record);
}

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fuzz
