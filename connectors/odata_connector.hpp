// The OData v4 connector (kind odata): any OData v4 service (ERPs, reconciliation platforms).
// Each configured entity set is a stream whose records map to a canonical entity through the
// set's field map (model/map_odata.hpp). Server paging by @odata.nextLink (followed only on the
// base URL's origin), `Prefer: odata.maxpagesize`, `$count=true` for the progress total, and an
// incremental `$filter=<modified_field> gt <newest seen>` ordered by that field.
#pragma once

#include <string>

#include "connectors/registry.hpp"

namespace ledgersync {

connector_kind odata_connector_kind();

// The OData literal for a watermark as a service read it back: a DateTimeOffset in UTC
// ("2026-11-25T09:00:00.5Z", never an offset whose '+' a query would turn into a space), an
// Edm.Date, an integer, or else a quoted string ('O''Brien').
std::string odata_literal(const std::string& value);

}  // namespace ledgersync
