// ISO 4217 currency codes and their minor units (the exponent: JPY 0, EUR 2, KWD 3, CLF 4).
// The table is ISO's list of active codes (amendment 179, 2025), plus HRK and ANG, retired in
// 2023 and 2025, because statements and the ECB's history files still carry them. Precious
// metals and funds codes without minor units (XAU, XDR, ...) are not money amounts here.
#pragma once

#include <string>
#include <string_view>

#include "model/decimal.hpp"
#include "model/result.hpp"

namespace ledgersync::model {

struct currency_info {
  std::string_view code;
  int exponent;
};

// Exact, upper-case code; nullptr when unknown.
const currency_info* find_currency(std::string_view code);
// Accepts any letter case ("usd" from Stripe) and answers the upper-case code.
result<std::string> normalize_currency(std::string_view code);
// `amount` at the currency's exponent: "12.5" EUR -> 12.50. More decimals than the currency
// has are refused unless `mode` rounds; "12.345" EUR with half_even -> 12.34.
result<decimal> to_currency_amount(const decimal& amount, std::string_view code,
                                   rounding mode = rounding::none);
// Parses and normalises in one step.
result<decimal> parse_amount(std::string_view text, std::string_view code,
                             rounding mode = rounding::none);

}  // namespace ledgersync::model
