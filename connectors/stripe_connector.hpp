// The Stripe connector (kind stripe): customers, charges, payment intents, invoices and balance
// transactions as canonical records (model/map_stripe.hpp). Stripe's lists have no "updated
// since", so a stream's first pass lists every object (starting_after paging) and later passes
// read /v1/events for the stream's object since the newest event seen, mapping each event's
// data.object; "*.deleted" events become tombstones.
#pragma once

#include "connectors/registry.hpp"

namespace ledgersync {

connector_kind stripe_connector_kind();
// The writing half (connectors/stripe_writer.cpp); `config` outlives it.
std::unique_ptr<push_writer> make_stripe_writer(const integration_config& config);

}  // namespace ledgersync
