// SWIFT MT940 customer statements -> bank_transaction and balance records.
//
// Read: an optional SWIFT envelope ({1:..}{2:..}{4: ... -}), then one or more statements, each
// :20: reference, :25: account, :28C: statement/sequence number, :60F:/:60M: opening balance,
// :61: statement lines each with an optional :86: (several lines; "?20".."?29" subfields are
// joined as the remittance text, "?32"/"?33" as the counterparty), :62F:/:62M: closing,
// optional :64: available and :65: forward available balances. Lines may end in CRLF or LF.
//
// :61: is value date YYMMDD, optional entry date MMDD, mark C / D / RC (reversal of a credit:
// money out) / RD (reversal of a debit: money in), optional funds code, amount with a decimal
// comma, type (N/F/S + 3), customer reference, optional //bank reference, optional second line
// of supplementary details. Years are 20YY (SWIFT's YY has no century; statements predating
// 2000 are not expected).
//
// Ids are stable across deliveries: "mt940:ACCOUNT:STATEMENT-NUMBER:N" for the Nth line of the
// statement, "mt940:ACCOUNT:TYPE:DATE" for balances. raw is the :61: (and :86:) lines as in the
// file. All or nothing: any malformed field makes the file an error naming its line.
#pragma once

#include <string_view>
#include <vector>

#include "model/entities.hpp"
#include "model/result.hpp"

namespace ledgersync::model {

result<std::vector<canonical_record>> parse_mt940(std::string_view text);

}  // namespace ledgersync::model
