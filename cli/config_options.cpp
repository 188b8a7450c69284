#include "cli/config_options.hpp"

#include <fstream>

#include "cli/config_flags.hpp"
#include "cli/errors.hpp"
#include "cli/settings_options.hpp"
#include "config/integration_config.hpp"

namespace ledgersync::cli {

using nlohmann::json;

CLI::Validator whole_number(int64_t lo, int64_t hi) {
  return {[=](std::string& v) { return whole_number_problem(v, lo, hi); }, ""};
}
CLI::Validator positive_number() {
  return {[](std::string& v) { return positive_number_problem(v); }, ""};
}

namespace {

std::string read_pem(const std::string& v, const std::string& flag) {
  if (v.empty() || v.rfind("-----BEGIN", 0) == 0) return v;
  std::ifstream in(v);
  if (!in) die(usage, flag + ": cannot read the file " + v);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find("-----BEGIN") == std::string::npos)
    die(usage, flag + ": " + v + " is not a PEM file");
  return text;
}

std::string read_key(const config_opts& c) {
  if (!c.api_key_file.empty() && !c.api_key_env.empty())
    die(usage, "give --api-key-file or --api-key-env, not both");
  std::string key;
  if (!c.api_key_file.empty()) {
    std::ifstream in(c.api_key_file);
    if (!in) die(usage, "cannot read API key file " + c.api_key_file);
    std::getline(in, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
    if (key.empty()) die(usage, "API key file " + c.api_key_file + " is empty");
  } else if (!c.api_key_env.empty()) {
    auto* v = std::getenv(c.api_key_env.c_str());
    if (!v || !*v) die(usage, "environment variable " + c.api_key_env + " is not set");
    key = v;
  }
  return key;
}

json read_streams(const std::string& file) {
  std::ifstream in(file);
  if (!in) die(usage, "cannot read streams file " + file);
  auto s = json::parse(in, nullptr, false);
  if (s.is_discarded()) die(usage, file + " is not valid JSON");
  std::string err;
  auto streams = streams_from_json(s, err);
  if (!streams) die(usage, file + ": " + err);
  json arr = json::array();
  for (auto& st : *streams) arr.push_back(to_json(st));
  return arr;
}

}  // namespace

void add_config_opts(CLI::App* cmd, config_opts& c) {
  for (auto& f : config_flags()) {
    auto* o = cmd->add_option(f.flag, c.values[f.flag], f.help)->type_name(f.placeholder);
    if (f.value == flag_value::whole) o->check(whole_number(f.lo, f.hi));
    if (f.value == flag_value::positive) o->check(positive_number());
  }
  cmd->add_option("--option", c.options,
                  "a setting of the connector, KEY=VALUE (repeatable; `ledgersync connectors "
                  "KIND` lists them). VALUE is JSON when it reads as a number, true/false, an "
                  "object or an array, else text; KEY=null removes it; KEY=@FILE reads it from "
                  "FILE, which keeps a secret out of the shell history")
      ->allow_extra_args(false);
  cmd->add_option("--settings-file", c.settings_file,
                  "a JSON object of the connector's settings (--option values win)");
  cmd->add_option("--api-key-file", c.api_key_file, "read the API key from this file");
  cmd->add_option("--api-key-env", c.api_key_env,
                  "read the API key from this environment variable");
  cmd->add_option("--streams-file", c.streams_file, "JSON file describing the streams");
  cmd->add_flag("--disabled", c.disabled, "save it disabled");
  cmd->add_flag("--run-after-save", c.run_after_save, "start a sync once saved");
}

json config_changes(const config_opts& c, CLI::App* cmd, const std::string& kind) {
  json j = json::object();
  for (auto& f : config_flags()) {
    if (!cmd->count(f.flag)) continue;
    auto& v = c.values.at(f.flag);
    switch (f.value) {
      case flag_value::text:
        j[f.key] = v;
        break;
      case flag_value::whole:  // checked by whole_number
        j[f.key] = std::stoll(v);
        break;
      case flag_value::positive:  // checked by positive_number
        j[f.key] = std::stod(v);
        break;
      case flag_value::pem:
        j[f.key] = read_pem(v, f.flag);
        break;
    }
  }
  if (cmd->count("--disabled")) j["enabled"] = false;
  if (auto key = read_key(c); !key.empty()) j["api_key"] = key;
  if (!c.options.empty() || !c.settings_file.empty()) {
    // add's default kind is the service's ("rest").
    std::string k = j.contains("connector") && j["connector"].is_string()
                        ? j["connector"].get<std::string>()
                    : !kind.empty() ? kind
                                    : std::string(cmd->get_name() == "add" ? "rest" : "");
    j["settings"] = settings_changes(c, k);
  }
  if (!c.streams_file.empty()) j["streams"] = read_streams(c.streams_file);
  return j;
}

json settings_changes(const config_opts& c, const std::string& kind) {
  std::string err;
  auto settings =
      settings_from_options(c.options, c.settings_file, err,
                            [&](const std::string& key) { return text_setting(kind, key); });
  if (!settings) die(usage, err, "`ledgersync connectors KIND` lists the settings of a kind");
  return *settings;
}

}  // namespace ledgersync::cli
