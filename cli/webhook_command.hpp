// `ledgersync webhook add|list|deliveries|resume|remove`: webhook subscriptions. They live in
// DIR/webhooks.json (mode 0600), which this edits directly, as `token` does with its file: the
// running service re-reads it when it changes. Only `add` needs the sealing key (to seal the
// new secret): DIR/master.key, or the file given by --secrets-key-file when the service keeps
// its key outside the data dir.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace ledgersync::cli {

struct webhook_command {
  CLI::App* webhook = nullptr;
  CLI::App *add = nullptr, *list = nullptr, *deliveries = nullptr, *resume = nullptr,
           *remove = nullptr;
  std::string data_dir, key_file, url, events, id;
  bool json = false;
};

void add_webhook_commands(CLI::App& app, webhook_command& c);
std::optional<int> run_webhook_commands(webhook_command& c);

// The webhook file in a data dir.
std::string webhooks_path(const std::string& data_dir);

}  // namespace ledgersync::cli
