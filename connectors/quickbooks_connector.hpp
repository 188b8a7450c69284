// The QuickBooks Online connector (kind quickbooks): customers, invoices, payments and accounts
// of one company (realm) as canonical records (model/map_quickbooks.hpp). A pass pages the query
// endpoint (SELECT … ORDERBY MetaData.LastUpdatedTime STARTPOSITION n MAXRESULTS m), from the
// last pass's newest LastUpdatedTime on, then reads Change Data Capture for the same entity:
// deletions there become tombstones. Fault bodies, also inside HTTP 200 answers, are errors.
#pragma once

#include "connectors/registry.hpp"

namespace ledgersync {

connector_kind quickbooks_connector_kind();
// The writing half (connectors/quickbooks_writer.cpp); `config` outlives it.
std::unique_ptr<push_writer> make_quickbooks_writer(const integration_config& config);

}  // namespace ledgersync
