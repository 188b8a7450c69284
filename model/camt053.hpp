// ISO 20022 camt.053 bank-to-customer statements -> bank_transaction and balance records.
// Versions .001.02 to .001.13 are read namespace-aware (any prefix); entries take their sign
// from CdtDbtInd (amounts in the file are never negative): CRDT positive, DBIT negative,
// RvslInd marks a reversal (its CdtDbtInd is already the reversing direction). Sts is read as
// text (.02-.06) or <Sts><Cd> (.07+).
//
// Ids are stable across deliveries of the same statement: an entry with the bank's
// AcctSvcrRef is "camt053:ACCOUNT:REF"; one without is "camt053:ACCOUNT:STMT-ID:N" (N its
// position in the statement); a balance is "camt053:ACCOUNT:TYPE:DATE".
//
// All or nothing: any malformed element, missing required field or amount with more decimals
// than its currency makes the whole file an error naming the statement and entry.
#pragma once

#include <string_view>
#include <vector>

#include "model/entities.hpp"
#include "model/result.hpp"

namespace ledgersync::model {

result<std::vector<canonical_record>> parse_camt053(std::string_view xml);

}  // namespace ledgersync::model
