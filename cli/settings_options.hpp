// A connector's settings as the command line gives them: `--settings-file FILE` (a JSON object)
// and then each `--option KEY=VALUE`, later ones winning. VALUE is JSON when it reads as a JSON
// number, true/false, object or array; `null` removes the setting (configure); anything else
// is the text as written. `KEY=@FILE` reads the value from FILE (trailing line breaks dropped),
// so a secret stays out of the shell history: a JSON object or array there is JSON, anything
// else text (a token of digits stays a string). Plain code: no service, unit-tested.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ledgersync::cli {

// The `settings` object; nullopt with `error` naming the option or file at fault.
std::optional<nlohmann::json> settings_from_options(const std::vector<std::string>& options,
                                                    const std::string& settings_file,
                                                    std::string& error);

}  // namespace ledgersync::cli
