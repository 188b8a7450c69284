// The ECB euro reference rates connector (kind ecb_fx): one stream, fx_rates, read from the
// ECB's daily or 90-day XML file and stored as canonical fx_rate records (model/ecb_fx.hpp).
// Published rates never change, so a stream's state is the newest day imported: later passes
// write only the days after it, and ask with If-Modified-Since so an unchanged file costs a 304.
#pragma once

#include "connectors/registry.hpp"

namespace ledgersync {

inline constexpr const char* ecb_fx_default_base_url = "https://www.ecb.europa.eu/stats/eurofxref";

connector_kind ecb_fx_connector_kind();

}  // namespace ledgersync
