// The integration settings `add` and `configure` take as flags: one table, flag -> the key of
// the integration's config, from which the options are declared (cli/config_options.cpp), the
// changes sent to the service are built, and an error's fix (an action naming settings) is
// phrased as the command that changes them (cli/render.cpp). Plain data: no CLI11 here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ledgersync::cli {

enum class flag_value : uint8_t {
  text,      // as given
  whole,     // an integer in [lo, hi]
  positive,  // a number > 0
  pem,       // a PEM file's text (or PEM text given inline); '' removes it
};

struct config_flag {
  const char* flag;         // --base-url
  const char* key;          // base_url
  const char* placeholder;  // URL: how advice writes the value
  flag_value value;
  int64_t lo, hi;  // for whole
  const char* help;
};

// The settings with a flag of their own; the API key (--api-key-file/--api-key-env), the
// streams file, --disabled and the connector's own settings (--option) are read specially.
const std::vector<config_flag>& config_flags();

// "--base-url URL" for "base_url"; "" for a setting with no flag of its own.
std::string flag_for(const std::string& key);

}  // namespace ledgersync::cli
