// The sandbox's ECB feed: the exact envelope, single-quoted attributes, no weekend or TARGET
// holiday entries, publication at 15:00 UTC, and both files parse through model/ecb_fx.
#include <catch2/catch.hpp>

#include "model/ecb_fx.hpp"
#include "sandbox/vendor_ecb.hpp"

using namespace ledgersync::sandbox;

namespace {
// 2026-11-25 (a Wednesday) at `hour` UTC.
int64_t at(int hour) {
  return (20'782LL * 24 + hour) * 3'600'000;
}
vendor_response get(ecb_feed& f, const std::string& file) {
  vendor_request r;
  r.path = "/stats/eurofxref/" + file;
  return f.handle(r);
}
}  // namespace

TEST_CASE("ECB daily and 90-day files: envelope, quotes, working days only", "[sandbox][ecb]") {
  int64_t now = at(14);
  ecb_feed feed(1, [&] { return now; });
  auto daily = get(feed, "eurofxref-daily.xml");
  REQUIRE(daily.status == 200);
  CHECK(daily.content_type == "text/xml");
  CHECK(daily.body.find("xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\"") !=
        std::string::npos);
  CHECK(daily.body.find("xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\"") !=
        std::string::npos);
  CHECK(daily.body.find("<Cube time='2026-11-24'>") != std::string::npos);  // before 15:00
  now = at(16);
  CHECK(get(feed, "eurofxref-daily.xml").body.find("<Cube time='2026-11-25'>") !=
        std::string::npos);
  auto parsed = ledgersync::model::parse_ecb_fx(get(feed, "eurofxref-daily.xml").body);
  INFO(parsed.error);
  REQUIRE(parsed.ok());
  CHECK(parsed->size() == 15);

  auto hist = get(feed, "eurofxref-hist-90d.xml");
  auto all = ledgersync::model::parse_ecb_fx(hist.body);
  REQUIRE(all.ok());
  CHECK(hist.body.find("2026-11-22") == std::string::npos);  // a Sunday
  CHECK(hist.body.find("2026-11-21") == std::string::npos);  // a Saturday
  CHECK(hist.body.find("<Cube time='2026-11-20'>") != std::string::npos);
  CHECK(all->size() % 15 == 0);
  CHECK(all->size() / 15 >= 60);
  CHECK(get(feed, "eurofxref-hist.xml").status == 404);
}

TEST_CASE("ECB TARGET closing days", "[sandbox][ecb]") {
  auto day = [](int y, unsigned m, unsigned d) {
    return std::chrono::sys_days{std::chrono::year{y} / m / d}.time_since_epoch().count();
  };
  CHECK_FALSE(ecb_feed::working_day(day(2026, 1, 1)));
  CHECK_FALSE(ecb_feed::working_day(day(2026, 4, 3)));  // Good Friday
  CHECK_FALSE(ecb_feed::working_day(day(2026, 4, 6)));  // Easter Monday
  CHECK_FALSE(ecb_feed::working_day(day(2026, 5, 1)));
  CHECK_FALSE(ecb_feed::working_day(day(2026, 12, 25)));
  CHECK_FALSE(ecb_feed::working_day(day(2026, 12, 26)));
  CHECK(ecb_feed::working_day(day(2026, 4, 2)));
  CHECK(ecb_feed::working_day(day(2026, 11, 25)));
}
