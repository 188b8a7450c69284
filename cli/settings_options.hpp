// A connector's settings as the command line gives them: `--settings-file FILE` (a JSON object)
// and then each `--option KEY=VALUE`, later ones winning. VALUE is JSON when it reads as a JSON
// number, true/false, object or array; `null` removes the setting (configure); anything else
// is the text as written. `KEY=@FILE` reads the value from FILE (trailing line breaks dropped),
// so a secret stays out of the shell history: a JSON object or array there is JSON, anything
// else text (a token of digits stays a string). A setting the connector's schema declares as
// text (`is_text`) takes VALUE as written, so `--option realm_id=9130350000000000` is the realm
// id, not a number the schema would refuse. Plain code: no service, unit-tested.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ledgersync::cli {

// The `settings` object; nullopt with `error` naming the option or file at fault.
std::optional<nlohmann::json> settings_from_options(
    const std::vector<std::string>& options, const std::string& settings_file, std::string& error,
    const std::function<bool(const std::string&)>& is_text = {});
// Whether the named kind's schema declares `key` as text (a string or an enum); false for an
// unknown kind or key, which the service then judges.
bool text_setting(const std::string& kind, const std::string& key);

}  // namespace ledgersync::cli
