// The ECB's euro reference rates (eurofxref-daily.xml, eurofxref-hist-90d.xml,
// eurofxref-hist.xml) -> fx_rate records, one per (day, currency): base EUR, the rate exactly
// as published (units of the currency per 1 EUR). Read namespace-aware: a gesmes:Envelope
// (http://www.gesmes.org/xml/2002-08-01) whose Cube elements are in the eurofxref namespace
// (http://www.ecb.int/vocabulary/2002-08-01/eurofxref), whatever prefixes the file uses.
// Ids are "ecb:DATE:EUR:CCY", the same every time a day is delivered. All or nothing: a
// malformed day, currency or rate makes the whole file an error.
#pragma once

#include <string_view>
#include <vector>

#include "model/entities.hpp"
#include "model/result.hpp"

namespace ledgersync::model {

result<std::vector<canonical_record>> parse_ecb_fx(std::string_view xml);

}  // namespace ledgersync::model
