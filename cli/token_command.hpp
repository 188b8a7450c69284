// `ledgersync token create|list|revoke`: the HTTP API's bearer tokens. They live in
// DIR/api_tokens.json (hashed; mode 0600), which this edits directly: whoever can write the data
// dir already holds the service's own credential, and the running service re-reads the file
// when it changes, so no request to it is needed.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace ledgersync::cli {

struct token_command {
  CLI::App* token = nullptr;
  CLI::App *create = nullptr, *list = nullptr, *revoke = nullptr;
  std::string data_dir, role, name, which;
  bool json = false;
};

void add_token_commands(CLI::App& app, token_command& c);
std::optional<int> run_token_commands(token_command& c);

// The token file in a data dir.
std::string api_tokens_path(const std::string& data_dir);

}  // namespace ledgersync::cli
