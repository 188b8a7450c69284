// The commands that run the service rather than talk to it: `serve` (with its config file,
// service log and secrets key options) and `keygen`. Kept apart from the client commands in
// main.cpp, which are adapters over the operations.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "config/service_config.hpp"

namespace ledgersync::cli {

struct serve_command {
  CLI::App* serve = nullptr;
  CLI::App* keygen = nullptr;
  std::string config_file, data_dir, listen, log_level, log_format, log_file, key_file;
  std::string http_listen, http_tls_cert, http_tls_key;
  std::string keygen_path;
};

void add_serve_commands(CLI::App& app, serve_command& c);

// The exit code when one of these commands was given; nothing otherwise.
std::optional<int> run_serve_commands(serve_command& c);

}  // namespace ledgersync::cli
