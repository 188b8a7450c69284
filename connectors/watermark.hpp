// How two updated_at values compare, so a connector can tell the later one. Text comparison is
// wrong for timestamps as upstreams write them: "2026-11-25T10:00:00Z" sorts after
// "2026-11-25T10:00:00.5Z" ('Z' > '.'), and "…T11:00:00+01:00" after "…T10:30:00Z" although it
// is earlier. Plain functions, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ledgersync {

enum class watermark_order : uint8_t {
  // ISO 8601 / RFC 3339 instants (any fraction of a second, Z or an offset, 'T' or a space) and
  // epoch numbers compare as the moments they name; values that are neither compare as text.
  timestamp,
  // Plain text order, for opaque version strings that sort as text.
  text,
};

// The instant an ISO 8601 date-time (or date) names, as seconds since the epoch and nanoseconds;
// nullopt for anything else.
struct instant {
  int64_t seconds = 0;
  int32_t nanos = 0;
  auto operator<=>(const instant&) const = default;
};
std::optional<instant> parse_instant(std::string_view text);

// <0 when `a` is earlier than `b`, 0 when the same, >0 when later. "" is earlier than anything.
int compare_watermarks(std::string_view a, std::string_view b, watermark_order order);
inline bool later(std::string_view a, std::string_view b, watermark_order order) {
  return compare_watermarks(a, b, order) > 0;
}

}  // namespace ledgersync
