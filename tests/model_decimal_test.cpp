// Exact amounts: decimals parse from text and JSON numbers without binary floating point,
// normalise to a currency's exponent, refuse lost precision unless asked to round, and survive
// text and minor-unit round trips (a seeded property test over thousands of values).
#include <catch2/catch.hpp>
#include <random>

#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/decimal.hpp"
#include "model/exact_json.hpp"
#include "model/utf8.hpp"

using namespace ledgersync::model;

namespace {
decimal dec(std::string_view s) {
  auto r = decimal::parse(s);
  INFO(r.error);
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("decimals parse and print exactly", "[model][decimal]") {
  CHECK(dec("1234.50").to_string() == "1234.50");
  CHECK(dec("-0.005").to_string() == "-0.005");
  CHECK(dec("+7").to_string() == "7");
  CHECK(dec("007.10").to_string() == "7.10");
  CHECK(dec("1e3").to_string() == "1000");
  CHECK(dec("1.5E-2").to_string() == "0.015");
  CHECK(dec("12345678901234567.89").to_string() == "12345678901234567.89");
  CHECK(dec("-0").to_string() == "0");
  for (const char* bad : {"", "-", ".", "1.2.3", "1,5", "12a", " 1", "1e", "1e+", "0x10", "NaN"}) {
    INFO(bad);
    CHECK_FALSE(decimal::parse(bad).ok());
  }
  CHECK_FALSE(decimal::parse("1234567890123456789012345678901234567").ok());  // 37 digits
  CHECK_FALSE(decimal::parse("1e1000000").ok());
  CHECK(decimal::parse("0.1").error.empty());
}

TEST_CASE("0.1 + 0.2 is 0.3 and 17-digit amounts keep every digit", "[model][decimal]") {
  CHECK(dec("0.1").plus(dec("0.2"))->to_string() == "0.3");
  CHECK(dec("0.1").plus(dec("0.2")).value == dec("0.3"));
  CHECK(dec("99999999999999999").plus(dec("0.01"))->to_string() == "99999999999999999.01");
  // The same amounts as JSON numbers: nlohmann alone would make doubles of them.
  auto j = parse_exact(
      R"({"a":0.1,"b":0.2,"big":12345678901234567.89,"n":42,"huge":123456789012345678901234})");
  REQUIRE(j.ok());
  CHECK(nlohmann::json::parse(R"(12345678901234567.89)").dump() != "12345678901234567.89");
  CHECK(json_decimal((*j)["a"])->plus(*json_decimal((*j)["b"]))->to_string() == "0.3");
  CHECK(json_decimal((*j)["big"])->to_string() == "12345678901234567.89");
  CHECK(json_decimal((*j)["n"])->to_string() == "42");
  CHECK(json_decimal((*j)["huge"])->to_string() == "123456789012345678901234");
  CHECK((*j)["n"].is_number_integer());
  CHECK_FALSE(json_decimal(nlohmann::json(true)).ok());
  CHECK_FALSE(parse_exact(R"({"a":0.1,)").ok());
  CHECK(parse_exact(R"({"a":)").error.find("malformed JSON") == 0);
}

TEST_CASE("amounts normalise to the currency's exponent", "[model][decimal][currency]") {
  CHECK(parse_amount("12.5", "EUR")->to_string() == "12.50");
  CHECK(parse_amount("1200", "JPY")->to_string() == "1200");
  CHECK(parse_amount("1.5", "KWD")->to_string() == "1.500");
  CHECK(parse_amount("0.1", "BHD")->to_string() == "0.100");
  CHECK(parse_amount("2.0000", "CLF")->to_string() == "2.0000");
  CHECK(parse_amount("12.500", "EUR")->to_string() == "12.50");  // trailing zeros are not precision
  auto jpy = parse_amount("1200.5", "JPY");
  CHECK_FALSE(jpy.ok());
  CHECK(jpy.error == "1200.5 has more decimal places than JPY allows (0)");
  CHECK_FALSE(parse_amount("12.345", "EUR").ok());
  CHECK(parse_amount("12.345", "EUR", rounding::half_even)->to_string() == "12.34");
  CHECK(parse_amount("12.355", "EUR", rounding::half_even)->to_string() == "12.36");
  CHECK(parse_amount("12.345", "EUR", rounding::half_up)->to_string() == "12.35");
  CHECK(parse_amount("-12.345", "EUR", rounding::half_up)->to_string() == "-12.35");
  CHECK(parse_amount("-12.345", "EUR", rounding::half_even)->to_string() == "-12.34");
  CHECK(parse_amount("12.3451", "EUR", rounding::half_even)->to_string() == "12.35");
  CHECK(parse_amount("0.5", "JPY", rounding::half_even)->to_string() == "0");
  CHECK(parse_amount("1.5", "JPY", rounding::half_even)->to_string() == "2");
  CHECK(parse_amount("5", "usd")->to_string() == "5.00");
  CHECK(parse_amount("5", "XYZ").error == "\"XYZ\" is not an ISO 4217 currency code");
}

TEST_CASE("signs, comparison and minor units", "[model][decimal]") {
  CHECK((-dec("10.00")).to_string() == "-10.00");
  CHECK(dec("1.50") == dec("1.5"));
  CHECK(dec("-2") < dec("1.5"));
  CHECK(dec("1e30") > dec("0.000000000000000000000000000001"));
  CHECK(dec("10.99").minor_units(2).value == 1099);
  CHECK(dec("-10.99").minor_units(2).value == -1099);
  CHECK_FALSE(dec("10.999").minor_units(2).ok());
  CHECK_FALSE(dec("100000000000000000000").minor_units(2).ok());  // beyond 64 bits
  CHECK(decimal::from_minor(1099, 2).to_string() == "10.99");
  CHECK(decimal::from_minor(-5, 3).to_string() == "-0.005");
  CHECK(decimal::from_minor(1200, 0).to_string() == "1200");
  CHECK(dec("12.500").trimmed().to_string() == "12.5");
}

TEST_CASE("random decimals survive text and minor-unit round trips", "[model][decimal][property]") {
  static const char* codes[] = {"EUR", "JPY", "KWD", "CLF", "USD", "BHD"};
  std::mt19937_64 rng(20261125);
  auto seed = GENERATE(range(0, 20));
  rng.seed(20261125 + seed);
  for (int i = 0; i < 500; ++i) {
    // Up to 17 integer digits, the currency's decimals, either sign.
    const char* code = codes[rng() % 6];
    int exponent = find_currency(code)->exponent;
    std::string text = (rng() % 2) ? "-" : "";
    int int_digits = 1 + static_cast<int>(rng() % 17);
    for (int d = 0; d < int_digits; ++d) {
      text += static_cast<char>('0' + (d == 0 && int_digits > 1 ? 1 + rng() % 9 : rng() % 10));
    }
    if (exponent > 0) {
      text += '.';
      for (int d = 0; d < exponent; ++d) text += static_cast<char>('0' + rng() % 10);
    }
    if (text == "-0" || text.find_first_not_of("-0.") == std::string::npos) continue;
    INFO(text << " " << code);
    auto a = parse_amount(text, code);
    REQUIRE(a.ok());
    CHECK(a->to_string() == text);
    auto minor = a->minor_units(exponent);
    if (int_digits + exponent > 18) {  // may not fit 64 bits: refused, never wrapped
      if (!minor.ok()) CHECK(minor.error.find("64-bit") != std::string::npos);
      if (!minor.ok()) continue;
    }
    REQUIRE(minor.ok());
    CHECK(decimal::from_minor(*minor, exponent) == *a);
    CHECK(decimal::from_minor(*minor, exponent).to_string() == text);
    // The same text as a JSON number, through the exact parser.
    auto j = parse_exact("{\"v\":" + text + "}");
    REQUIRE(j.ok());
    CHECK(json_decimal((*j)["v"])->to_string() == text);
    // Adding and taking away another amount comes back exactly.
    auto b = dec(std::to_string(static_cast<int64_t>(rng() % 1000000)) + ".25");
    CHECK(a->plus(b)->plus(-b).value == *a);
  }
}

TEST_CASE("currency codes are ISO 4217", "[model][currency]") {
  CHECK(find_currency("EUR")->exponent == 2);
  CHECK(find_currency("JPY")->exponent == 0);
  CHECK(find_currency("KWD")->exponent == 3);
  CHECK(find_currency("eur") == nullptr);
  CHECK(*normalize_currency("eur") == "EUR");
  for (const char* bad : {"", "EU", "EURO", "XAU", "ZZZ", "E1R"})
    CHECK_FALSE(normalize_currency(bad).ok());
}

TEST_CASE("dates and instants normalise to ISO 8601 UTC", "[model][dates]") {
  CHECK(*normalize_date("2026-11-25") == "2026-11-25");
  CHECK(*normalize_date("2018-10-20T00:00:00") == "2018-10-20");
  CHECK(*normalize_date("/Date(1539993600000+0000)/") == "2018-10-20");
  // The day as written in the zone Xero names: 2018-10-19T23:00Z is 20 Oct in +1300.
  CHECK(*normalize_date("/Date(1539990000000+1300)/") == "2018-10-20");
  CHECK(*normalize_datetime("/Date(1541176290160+0000)/") == "2018-11-02T16:31:30.160Z");
  CHECK(*normalize_datetime("/Date(1552326816000)/") == "2019-03-11T17:53:36Z");
  CHECK(*normalize_datetime("/Date(1539990000000+1300)/") == "2018-10-19T23:00:00Z");
  CHECK(*normalize_datetime("2018-11-02T16:31:30Z") == "2018-11-02T16:31:30Z");
  CHECK(*normalize_datetime("2018-11-02T18:31:30+02:00") == "2018-11-02T16:31:30Z");
  CHECK(*normalize_datetime("2018-11-02T11:31:30.5-0500") == "2018-11-02T16:31:30.500Z");
  CHECK(*normalize_datetime("2018-11-02T16:31:30.123456789Z") == "2018-11-02T16:31:30.123Z");
  CHECK(*normalize_datetime("2018-11-02T16:31:30") == "2018-11-02T16:31:30Z");
  CHECK(*normalize_datetime("2026-12-31T23:30:00-01:00") == "2027-01-01T00:30:00Z");
  CHECK(*normalize_datetime("2026-11-25") == "2026-11-25T00:00:00Z");
  CHECK(datetime_from_unix(1234567890) == "2009-02-13T23:31:30Z");
  CHECK(date_from_unix(1234567890) == "2009-02-13");
  for (const char* bad :
       {"2026-02-30", "2026-13-01", "26-11-25", "2026-11-25T25:00:00Z", "2026-11-25T10:00:00+2",
        "/Date()/", "/Date(abc)/", "/Date(1+00)/", "2026-11-25X", "", "25/11/2026"}) {
    INFO(bad);
    CHECK_FALSE(normalize_datetime(bad).ok());
  }
  CHECK_FALSE(normalize_datetime("0001-01-01T00:00:00+01:00").ok());  // year 0
  CHECK_FALSE(normalize_date("0000-01-01").ok());
  CHECK_FALSE(normalize_date("/Date(-99999999999999)/").ok());
  CHECK(*normalize_datetime("9999-12-31T23:59:59Z") == "9999-12-31T23:59:59Z");
  CHECK(normalize_date("2026-02-30").error == "\"2026-02-30\" is not a date");
  CHECK(is_canonical_date("2026-11-25"));
  CHECK_FALSE(is_canonical_date("2026-11-25T00:00:00Z"));
  CHECK(is_canonical_datetime("2026-11-25T00:00:00Z"));
  CHECK_FALSE(is_canonical_datetime("2026-11-25T00:00:00.000Z"));
  CHECK_FALSE(make_date(2026, 2, 29).ok());
  CHECK(*make_date(2024, 2, 29) == "2024-02-29");
}

TEST_CASE("UTF-8 is checked byte by byte", "[model][utf8]") {
  CHECK(invalid_utf8_at("plain ascii") == std::string_view::npos);
  CHECK(invalid_utf8_at("M\xc3\xbcnchen \xe2\x82\xac \xf0\x9f\x92\xb6") == std::string_view::npos);
  CHECK(invalid_utf8_at("ab\xff") == 2);
  CHECK(invalid_utf8_at("\xc0\xaf") == 0);          // overlong '/'
  CHECK(invalid_utf8_at("\xed\xa0\x80") == 0);      // a surrogate
  CHECK(invalid_utf8_at("\xf4\x90\x80\x80") == 0);  // above U+10FFFF
  CHECK(invalid_utf8_at("x\xe2\x82") == 1);         // cut short
  CHECK(latin1_to_utf8("M\xfcnchen \xa3") == "M\xc3\xbcnchen \xc2\xa3");
}

TEST_CASE("exact products: the scales add, nothing rounds, too large is refused") {
  CHECK(dec("2.5").times(dec("1.20"))->to_string() == "3.000");
  CHECK(dec("-0.1").times(dec("3"))->to_string() == "-0.3");
  CHECK(dec("99999999999999999").times(dec("99999999999999999"))->to_string() ==
        "9999999999999999800000000000000001");
  CHECK_FALSE(dec("999999999999999999").times(dec("999999999999999999.9")).ok());  // 37 digits
  CHECK_FALSE(dec("0.000000000000001").times(dec("0.0000000000000001")).ok());  // 31 decimals
}
