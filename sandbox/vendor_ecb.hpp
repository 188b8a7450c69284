// The ECB's euro reference rates as the sandbox serves them (no auth, like the ECB):
//   GET /ecb/stats/eurofxref/eurofxref-daily.xml     the latest working day
//   GET /ecb/stats/eurofxref/eurofxref-hist-90d.xml  every working day of the last 90, newest first
// In the ECB's exact shape: a gesmes:Envelope (http://www.gesmes.org/xml/2002-08-01) with the
// eurofxref default namespace, Cube time='…' / Cube currency='…' rate='…' in single quotes.
// Rates are deterministic per (seed, day, currency); TARGET closing days (weekends, 1 January,
// Good Friday, Easter Monday, 1 May, 25 and 26 December) have no entry, and a day's rates appear
// from 15:00 UTC (the ECB publishes around 16:00 CET).
#pragma once

#include <cstdint>

#include "sandbox/vendor_common.hpp"

namespace ledgersync::sandbox {

class ecb_feed {
 public:
  ecb_feed(uint64_t seed, clock_fn now) : seed_(seed), now_(std::move(now)) {}
  vendor_response handle(const vendor_request& req);  // path below /ecb
  // Whether the ECB publishes on this day (days since the Unix epoch).
  static bool working_day(int64_t day);

 private:
  void render_day(int64_t day, std::string& out) const;
  uint64_t seed_;
  clock_fn now_;
};

}  // namespace ledgersync::sandbox
