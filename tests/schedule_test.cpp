// Schedules in local time zones, across DST changes.
#include "config/schedule.hpp"

#include <date/date.h>

#include <catch2/catch.hpp>
#include <vector>

using namespace ledgersync;
using namespace std::chrono;

namespace {
sys_ms at(const char* iso) {
  return *parse_iso(iso);
}
std::string next(const schedule& s, const char* iso) {
  return format_iso(*s.next_after(at(iso)));
}
schedule parse(const char* spec) {
  std::string err;
  auto s = schedule::parse(spec, err);
  INFO(err);
  REQUIRE(s);
  return *s;
}
}  // namespace

TEST_CASE("every N is aligned and strictly after") {
  auto s = parse("every 15m");
  CHECK(next(s, "2026-11-23T10:00:00Z") == "2026-11-23T10:15:00.000Z");
  CHECK(next(s, "2026-11-23T10:07:31Z") == "2026-11-23T10:15:00.000Z");
  CHECK(s.period() == minutes(15));
  CHECK(s.stale_after() == minutes(30));
}

TEST_CASE("daily at a local time in Europe/London across both DST changes") {
  auto s = parse("daily 06:00 Europe/London");
  CHECK(next(s, "2026-03-28T12:00:00Z") == "2026-03-29T05:00:00.000Z");  // BST starts 29 Mar
  CHECK(next(s, "2026-03-27T12:00:00Z") == "2026-03-28T06:00:00.000Z");  // still GMT
  CHECK(next(s, "2026-10-24T12:00:00Z") == "2026-10-25T06:00:00.000Z");  // GMT again
  CHECK(next(s, "2026-10-23T12:00:00Z") == "2026-10-24T05:00:00.000Z");
}

TEST_CASE("a nonexistent local time fires at the jump; an ambiguous one fires once") {
  auto spring = parse("daily 01:30 Europe/London");
  // 01:30 does not exist on 29 Mar 2026: clocks go 01:00 GMT -> 02:00 BST (= 01:00Z).
  CHECK(next(spring, "2026-03-28T12:00:00Z") == "2026-03-29T01:00:00.000Z");
  // 01:30 happens twice on 25 Oct 2026; the first one (BST, 00:30Z) fires, and only it.
  CHECK(next(spring, "2026-10-24T12:00:00Z") == "2026-10-25T00:30:00.000Z");
  CHECK(next(spring, "2026-10-25T00:30:00Z") == "2026-10-26T01:30:00.000Z");
}

TEST_CASE("a cron with a wildcard hour fires through both passes of the repeated hour") {
  // 25 Oct 2026, Europe/London: 02:00 BST (01:00Z) goes back to 01:00 GMT.
  auto s = parse("cron */30 * * * * Europe/London");
  std::vector<std::string> fires;
  auto t = at("2026-10-24T23:40:00Z");
  for (int i = 0; i < 6; ++i) {
    t = *s.next_after(t);
    fires.push_back(format_iso(t));
  }
  CHECK(fires == std::vector<std::string>{"2026-10-25T00:00:00.000Z",    // 01:00 BST
                                          "2026-10-25T00:30:00.000Z",    // 01:30 BST
                                          "2026-10-25T01:00:00.000Z",    // 01:00 GMT
                                          "2026-10-25T01:30:00.000Z",    // 01:30 GMT
                                          "2026-10-25T02:00:00.000Z",    // 02:00 GMT
                                          "2026-10-25T02:30:00.000Z"});  // 02:30 GMT
  auto ny = parse("cron 0 * * * * America/New_York");  // 1 Nov 2026: 01:00 EDT, then EST
  CHECK(next(ny, "2026-11-01T05:00:00Z") == "2026-11-01T06:00:00.000Z");
  CHECK(next(ny, "2026-11-01T06:00:00Z") == "2026-11-01T07:00:00.000Z");
}

TEST_CASE("a cron at a fixed hour fires once in the repeated hour, and once at a jump") {
  auto fixed = parse("cron 30 1 * * * Europe/London");
  CHECK(next(fixed, "2026-10-24T12:00:00Z") == "2026-10-25T00:30:00.000Z");
  CHECK(next(fixed, "2026-10-25T00:30:00Z") == "2026-10-26T01:30:00.000Z");
  auto quarter = parse("cron */15 1 * * * Europe/London");  // the minutes vary, the hour not
  CHECK(next(quarter, "2026-10-25T00:45:00Z") == "2026-10-26T01:00:00.000Z");
  // 29 Mar 2026: 01:00 GMT jumps to 02:00 BST; 01:00, 01:30 and 02:00 all mean 01:00Z.
  auto spring = parse("cron */30 * * * * Europe/London");
  CHECK(next(spring, "2026-03-29T00:30:00Z") == "2026-03-29T01:00:00.000Z");
  CHECK(next(spring, "2026-03-29T01:00:00Z") == "2026-03-29T01:30:00.000Z");
}

TEST_CASE("a schedule without a time zone is in UTC, and says so") {
  auto cron = parse("cron 0 6 * * *");
  CHECK(cron.spec() == "cron 0 6 * * * UTC");
  CHECK(next(cron, "2026-07-01T00:00:00Z") == "2026-07-01T06:00:00.000Z");
  CHECK(parse("daily 06:00").spec() == "daily 06:00 UTC");
}

TEST_CASE("America/New_York DST days") {
  auto s = parse("daily 02:30 America/New_York");
  // 8 Mar 2026: 02:00 EST -> 03:00 EDT; 02:30 does not exist and fires at 07:00Z.
  CHECK(next(s, "2026-03-07T12:00:00Z") == "2026-03-08T07:00:00.000Z");
  CHECK(next(s, "2026-03-08T07:00:00Z") == "2026-03-09T06:30:00.000Z");
  auto m = parse("daily 01:30 America/New_York");  // 1 Nov 2026 01:30 twice: first is EDT
  CHECK(next(m, "2026-10-31T12:00:00Z") == "2026-11-01T05:30:00.000Z");
  CHECK(next(m, "2026-11-01T05:30:00Z") == "2026-11-02T06:30:00.000Z");
}

TEST_CASE("weekly on a day at a time") {
  auto s = parse("weekly mon 06:00 UTC");
  CHECK(next(s, "2026-11-23T06:00:00Z") == "2026-11-30T06:00:00.000Z");  // 23 Nov is a Monday
  CHECK(next(s, "2026-11-22T23:00:00Z") == "2026-11-23T06:00:00.000Z");
  CHECK(s.period() == hours(24 * 7));
  auto two = parse("weekly mon,thu 06:00 UTC");
  CHECK(two.period() == hours(24 * 4));
}

TEST_CASE("cron with a time zone") {
  auto s = parse("cron 0 6 * * 1-5 Europe/London");
  CHECK(next(s, "2026-11-27T07:00:00Z") == "2026-11-30T06:00:00.000Z");  // Fri -> Mon
  CHECK(s.period() == hours(72));
  auto q = parse("cron */15 9-17 * * * UTC");
  CHECK(next(q, "2026-11-23T17:50:00Z") == "2026-11-24T09:00:00.000Z");
  CHECK(next(q, "2026-11-23T09:01:00Z") == "2026-11-23T09:15:00.000Z");
  auto dom = parse("cron 0 0 1 * mon UTC");  // 1st of the month OR a Monday
  CHECK(next(dom, "2026-11-24T00:00:00Z") == "2026-11-30T00:00:00.000Z");
}

TEST_CASE("bad schedules are refused with a message") {
  std::string err;
  for (auto bad : {"every 0m", "every 5x", "every 1s", "daily 25:00", "daily 6am",
                   "weekly funday 06:00", "daily 06:00 Mars/Olympus", "cron 0 6 * *",
                   "cron 61 * * * *", "cron 0 0 30 2 *", "hourly", "daily 06:00 UTC extra"}) {
    err.clear();
    CHECK_FALSE(schedule::parse(bad, err));
    CHECK_FALSE(err.empty());
  }
  CHECK(schedule::parse("manual", err)->is_manual());
}

TEST_CASE("identical schedules are spread over a small window, deterministically") {
  auto s = parse("daily 06:00 UTC");
  auto a = s.spread_offset("acme"), b = s.spread_offset("globex");
  CHECK(a != b);
  CHECK(a < minutes(5));
  CHECK(s.spread_offset("acme") == a);
  auto t = *s.next_after(at("2026-11-23T00:00:00Z"), a);
  CHECK(t - at("2026-11-23T06:00:00Z") == a);
}

TEST_CASE("format_iso writes what date::format writes, milliseconds and odd years included") {
  std::vector<int64_t> samples{0,
                               1,
                               999,
                               1000,
                               86'399'999,
                               86'400'000,
                               -1,
                               -86'400'001,
                               951'782'400'000 /* 2000-02-29 */,
                               253'402'300'799'999 /* 9999 */,
                               253'402'300'800'000 /* 10000 */,
                               -62'167'219'200'001 /* -1 */};
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 2000; ++i) {  // a fixed pseudo-random spread over 0001..9999
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    samples.push_back(static_cast<int64_t>(x % 315'537'897'600'000ULL) - 62'135'596'800'000LL);
  }
  for (auto ms : samples) {
    sys_ms t{milliseconds(ms)};
    INFO(ms);
    CHECK(format_iso(t) == date::format("%FT%TZ", t));
  }
}
