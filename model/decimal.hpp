// Exact decimal numbers for money and rates: a signed integer coefficient and a count of
// decimal places, never binary floating point. "0.1" + "0.2" is "0.3"; a 17-digit amount keeps
// all its digits. Amounts come in as text (JSON strings, or a JSON number's own text, see
// model/exact_json.hpp) or as integer minor units (Stripe), and go out as plain text
// ("1234.50", no exponent) or minor units.
//
// Rounding is never implicit: rescale() with rounding::none refuses to drop a non-zero digit.
// When a caller asks for rounding it chooses half_even (bankers': ties to the even digit, what
// ISO 20022 and most ledgers use for FX conversions) or half_up (ties away from zero, what
// invoices printed by hand use).
//
// Limits: up to 36 significant digits and 30 decimal places (the coefficient is a 128-bit
// integer); parse() refuses anything larger with a message rather than losing digits.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace ledgersync::model {

enum class rounding { none, half_even, half_up };

class decimal {
 public:
  static constexpr int max_scale = 30;
  static constexpr int max_digits = 36;

  decimal() = default;

  // "-1234.50", "0.1", "1e3", "1.5E-2", "+7": a JSON number's grammar, plus an optional '+'
  // and leading zeros (vendors' string amounts have both). No spaces, no thousands separators.
  static result<decimal> parse(std::string_view text);
  // units * 10^-exponent, e.g. from_minor(1099, 2) is 10.99 (Stripe's integer amounts).
  static decimal from_minor(int64_t units, int exponent);

  // Plain notation with exactly scale() decimals: "1234.50", "-0.005", "12".
  std::string to_string() const;
  int scale() const { return scale_; }
  bool negative() const { return units_ < 0; }
  bool zero() const { return units_ == 0; }

  // The same value with exactly `new_scale` decimals. Fewer decimals than now drops digits:
  // refused under rounding::none unless they are zeros.
  result<decimal> rescale(int new_scale, rounding mode = rounding::none) const;
  // Trailing zero decimals removed: 12.500 -> 12.5, 3.00 -> 3.
  decimal trimmed() const;
  // The value as an integer count of 10^-exponent units; refused when that would drop a digit
  // or does not fit 64 bits.
  result<int64_t> minor_units(int exponent) const;

  decimal operator-() const { return decimal(-units_, scale_); }
  // Exact sum at the larger scale; refused when the result would pass max_digits.
  result<decimal> plus(const decimal& other) const;
  // Exact product at the sum of the scales (2.5 x 1.20 = 3.000); refused when it would pass
  // max_digits or max_scale.
  result<decimal> times(const decimal& other) const;
  // Numeric comparison: 1.50 == 1.5.
  friend std::strong_ordering operator<=>(const decimal& a, const decimal& b);
  friend bool operator==(const decimal& a, const decimal& b) {
    return (a <=> b) == std::strong_ordering::equal;
  }

 private:
  decimal(__int128 units, int scale) : units_(units), scale_(scale) {}
  __int128 units_ = 0;
  int scale_ = 0;
};

}  // namespace ledgersync::model
