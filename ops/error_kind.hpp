// What went wrong with an operation, as every surface understands it: the CLI maps a kind to an
// exit code (cli/errors.cpp), the HTTP API to a status (http_status_for). The reply of an
// operation carries the kind, never a surface's own code.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ledgersync {

enum class error_kind : uint8_t {
  none,              // success
  invalid_argument,  // the request itself is wrong: a field, a value, an unknown operation
  not_found,         // no such integration, stream, run or record
  conflict,          // well formed but at odds with the current state (name taken, disabled)
  rate_limited,      // refused for now; the reply says after how long to try again
  unavailable,       // the service cannot do it now (stopped after crashes, shutting down)
  upstream_failed,   // the upstream answered badly or not at all (a failed connection test)
  unauthorized,      // no valid credential
  forbidden,         // a valid credential whose role may not do this
  internal,          // a fault of ours
};

const char* error_kind_name(error_kind k);
std::optional<error_kind> error_kind_from_name(std::string_view name);
// 200 for none; 400/404/409/429/503/502/401/403/500 for the others.
int http_status_for(error_kind k);

}  // namespace ledgersync
