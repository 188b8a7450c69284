// The Sage Business Cloud Accounting v3.1 connector (kind sage): contacts, sales invoices,
// contact payments, bank accounts and ledger accounts as canonical records (model/map_sage.hpp).
// Every request names the business (X-Business). A pass follows `$next` links; an incremental
// pass asks for what changed since the last pass (updated_or_created_since), then for what was
// deleted since then (deleted_since), whose entries become tombstones.
#pragma once

#include <memory>

#include "connectors/registry.hpp"

namespace ledgersync {

connector_kind sage_connector_kind();
// The writing half (connectors/sage_writer.cpp): contacts, sales invoices, contact payments.
std::unique_ptr<push_writer> make_sage_writer(const integration_config& config);

}  // namespace ledgersync
