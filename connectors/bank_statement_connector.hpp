// The bank statement connector (kind bank_statement): ISO 20022 camt.053 (.001.02 to .001.13)
// and SWIFT MT940 statements as bank_transaction and balance records (model/camt053.hpp,
// model/mt940.hpp), from a drop folder or one file at an HTTPS URL.
//
// A drop folder is read one file a page, in name order (files whose name starts with '.' are
// skipped: partial uploads). Once a file's page is committed the file moves to `processed/`;
// a file that does not parse imports nothing, moves to `rejected/`, and its parse error goes to
// the sync log. Record ids come from the statement (account, entry reference, statement id), so
// a statement delivered twice writes the same records again: nothing changes.
#pragma once

#include <string>
#include <vector>

#include "connectors/registry.hpp"

namespace ledgersync {

connector_kind bank_statement_connector_kind();

// Where a file moves in `folder/sub` (processed or rejected): its own name, or with ".2", ".3"…
// before the extension when a file of that name is there already (the same statement again).
std::string move_aside(const std::string& folder, const std::string& name, const std::string& sub,
                       std::string& error);

}  // namespace ledgersync
