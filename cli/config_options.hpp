// `add` and `configure`'s options for an integration's settings, and the changes they make (the
// JSON keys of the integration config, as the add and configure operations take them). Files
// named by the options (API key, PEMs, streams, settings) are read here: the service needs no
// access to them. A bad value or an unreadable file ends the command with a usage error.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ledgersync::cli {

struct config_opts {
  std::map<std::string, std::string> values;  // flag -> value as given (cli/config_flags.hpp)
  std::string api_key_file, api_key_env, streams_file, settings_file;
  std::vector<std::string> options;  // the connector's settings, KEY=VALUE
  bool disabled = false, run_after_save = false;
};

void add_config_opts(CLI::App* cmd, config_opts& c);

// What the command line changes; exits (usage) on a bad value or an unreadable file.
// `kind`: the integration's connector when the command line does not name one (configure asks
// the service), so that each --option is read as its setting's type.
nlohmann::json config_changes(const config_opts& c, CLI::App* cmd, const std::string& kind = "");
// The settings part alone (--option, --settings-file), each value read as `kind` declares it;
// reads no other file (an API key from /dev/stdin is read once, by config_changes).
nlohmann::json settings_changes(const config_opts& c, const std::string& kind);

// CLI11 puts the option's name in front of the problem ("--limit: expected ...").
CLI::Validator whole_number(int64_t lo, int64_t hi = std::numeric_limits<int64_t>::max());
CLI::Validator positive_number();

}  // namespace ledgersync::cli
