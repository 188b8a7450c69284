// libFuzzer target: decimals and dates from arbitrary text. A parsed decimal prints back to text
// that parses to the same value; normalised dates are canonical.
#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/decimal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace ledgersync::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::text(data, size);
  auto d = decimal::parse(in);
  if (d.ok()) {
    auto again = decimal::parse(d->to_string());
    fuzz::require(again.ok() && *again == *d && again->to_string() == d->to_string());
    for (const char* c : {"JPY", "EUR", "KWD"}) {
      auto a = to_currency_amount(*d, c, rounding::half_even);
      if (a.ok()) fuzz::require(a->scale() == find_currency(c)->exponent);
    }
    (void)d->minor_units(2);
    (void)d->plus(*d);
  }
  auto day = normalize_date(in);
  if (day.ok()) fuzz::require(is_canonical_date(*day));
  auto t = normalize_datetime(in);
  if (t.ok()) fuzz::require(is_canonical_datetime(*t));
  return 0;
}
