// JSON for vendor records without losing a number's digits. nlohmann/json reads every
// non-integer number into a double (0.1 becomes 0.1000000000000000055..., a 17-digit amount
// loses its last digit), so vendor bodies are read through nlohmann's SAX interface instead:
// the lexer hands each number's own text to number_float(), and parse_exact() stores that text
// as a JSON string in the tree. Integers that fit 64 bits stay integers (exact already);
// larger ones come as text too. Mappers read amounts with json_decimal(), which takes either.
//
// The raw vendor record kept beside a canonical one is the record's original bytes
// (records_at() cuts them out of a page with simdjson), not this tree, so nothing in it is
// rewritten.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/decimal.hpp"
#include "model/result.hpp"

namespace ledgersync::model {

result<nlohmann::json> parse_exact(std::string_view text);

// Each element of the array at `pointer` (RFC 6901, "" for a page that is a bare array), as the
// exact bytes the vendor sent: the records of a page. Elements must be objects.
result<std::vector<std::string>> records_at(std::string_view page, std::string_view pointer);

// A JSON number's text (as parse_exact keeps it), a string amount ("12.50") or an integer.
result<decimal> json_decimal(const nlohmann::json& v);

}  // namespace ledgersync::model
