// Wall-clock helpers. Actors never read the system clock: they hold a wall_clock anchored to
// the actor clock, so virtual time in tests moves wall time too (schedules, staleness, logs).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace ledgersync {

using sys_ms = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// Maps the actor clock (steady, possibly virtual) onto wall time: wall = anchor_wall +
// (steady_now - anchor_steady). Cheap to copy; immutable.
struct wall_clock {
  sys_ms anchor_wall{};
  std::chrono::steady_clock::time_point anchor_steady{};

  sys_ms at(std::chrono::steady_clock::time_point steady_now) const {
    return anchor_wall +
           std::chrono::duration_cast<std::chrono::milliseconds>(steady_now - anchor_steady);
  }
  std::chrono::steady_clock::time_point steady_for(sys_ms wall) const {
    return anchor_steady + (wall - anchor_wall);
  }
};

int64_t to_ms(sys_ms t);
sys_ms from_ms(int64_t ms);

// "2026-11-23T06:00:00.000Z"
std::string format_iso(sys_ms t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)" and "YYYY-MM-DD".
std::optional<sys_ms> parse_iso(std::string_view s);
// "3m ago", "in 2h" style for humans.
std::string human_age(sys_ms then, sys_ms now);

// The zone a person reading the CLI lives in: $TZ when it names an IANA zone, else the
// system's, else UTC. Never null.
const date::time_zone* user_time_zone();
// `t` as a wall-clock time in `zone`, worded relative to `now`'s local day: "14:02 today",
// "01:31 tomorrow", "23:10 yesterday", "06:00 Mon 30 Nov", "06:00 30 Nov 2025" (another year).
std::string local_time_text(sys_ms t, sys_ms now, const date::time_zone* zone);
// Both at once, the relative first: "in 16h31m, 01:31 tomorrow", "3m ago, 14:02 today".
std::string human_when(sys_ms t, sys_ms now, const date::time_zone* zone);

}  // namespace ledgersync
