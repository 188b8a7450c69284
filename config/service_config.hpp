// The service's config file (`ledgersync serve --config FILE`): where data lives, what it listens
// on, its own log, and where the key that seals secrets lives. One `key = value` per line, `#`
// comments; values may be "quoted" and may name ${ENVIRONMENT} variables (systemd's
// ${CREDENTIALS_DIRECTORY} and ${STATE_DIRECTORY}). config/ledgersync.conf documents every key.
// Command-line flags override what the file says.
#pragma once

#include <optional>
#include <string>

#include "core/logging.hpp"

namespace ledgersync {

struct service_config {
  std::string data_dir;                   // empty: the default data dir
  std::string listen = "127.0.0.1:7420";  // the CLI's control port (loopback only)
  std::string http_listen = "127.0.0.1:7421";
  std::string http_tls_cert, http_tls_key;
  std::string secrets_key_file;  // empty: DIR/master.key
  log_settings log;
};

// Reads `text` (from `origin`, named in errors) over `out`. False, with `error` naming the line
// and the key, on an unknown or repeated key, a bad value, or an unset ${VARIABLE}; `out` is then
// unspecified.
bool parse_service_config(const std::string& text, const std::string& origin, service_config& out,
                          std::string& error);
bool load_service_config(const std::string& path, service_config& out, std::string& error);

}  // namespace ledgersync
