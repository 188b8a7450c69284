// Sync schedules: "every 15m", "daily 06:00 Europe/London", "weekly mon 06:00 UTC",
// "cron 0 6 * * 1-5 America/New_York", or "manual" (no schedule).
//
// Local times are resolved in the schedule's time zone with date/tz (UTC when the spec names
// none): a time that does not exist on a spring-forward day fires at the moment the clocks jump
// (02:00 BST for 01:30 Europe/London); a time that happens twice on an autumn day fires once, at
// its first occurrence. A cron whose hour field is a wildcard ("*/30 * * * *") asks for every
// hour rather than a time of day, so it fires in both passes of the repeated hour, as Vixie
// cron does. Plain value class, immutable after parse, safe to share between threads.
#pragma once

#include <array>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time_util.hpp"

namespace date {
class time_zone;
}

namespace ledgersync {

class schedule {
 public:
  enum class kind : uint8_t { manual, every, daily, weekly, cron };

  // Parses a spec; on failure returns nullopt and sets `error` to a message naming the problem.
  static std::optional<schedule> parse(std::string_view spec, std::string& error);
  static schedule manual() { return schedule{}; }

  kind type() const { return kind_; }
  const std::string& spec() const { return spec_; }  // normalised text
  bool is_manual() const { return kind_ == kind::manual; }

  // The first fire time strictly after `after`, before any spread offset. nullopt for manual.
  std::optional<sys_ms> next_after(sys_ms after) const;
  // Same, shifted by `offset` so integrations sharing a schedule spread out:
  // next_after(after - offset) + offset.
  std::optional<sys_ms> next_after(sys_ms after, std::chrono::milliseconds offset) const;

  // The longest normal gap between two fires (a day for daily, the weekend for a weekday cron).
  std::chrono::milliseconds period() const;
  // How far past its last success an integration may be before it is flagged stale.
  std::chrono::milliseconds stale_after() const;
  // A deterministic offset in [0, window) for `name`, window = min(period/10, 5 min).
  std::chrono::milliseconds spread_offset(std::string_view name) const;

 private:
  std::optional<sys_ms> next_local(sys_ms after) const;
  bool cron_day_matches(int dom, int month, int dow) const;

  kind kind_ = kind::manual;
  std::string spec_ = "manual";
  std::chrono::milliseconds interval_{0};
  int hour_ = 0, minute_ = 0;
  const date::time_zone* zone_ = nullptr;
  std::bitset<60> cron_min_;
  std::bitset<24> cron_hour_;
  std::bitset<32> cron_dom_;
  std::bitset<13> cron_month_;
  std::bitset<7> cron_dow_;  // also "weekly": the chosen days, 0 = Sunday
  bool cron_dom_star_ = true, cron_dow_star_ = true;
  bool cron_hour_wild_ = false;  // hour field "*" or "*/N": fires by the hour, not at a time
};

}  // namespace ledgersync
