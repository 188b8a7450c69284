// Wall-clock helpers. Actors never read the system clock: they hold a wall_clock anchored to
// the actor clock, so virtual time in tests moves wall time too (schedules, staleness, logs).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace ledgersync
