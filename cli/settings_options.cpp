#include "cli/settings_options.hpp"

#include <cctype>
#include <fstream>
#include <iterator>

#include "connectors/registry.hpp"

namespace ledgersync::cli {

using nlohmann::json;

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool valid_key(const std::string& k) {
  if (k.empty() || k.size() > 100) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

}  // namespace

bool text_setting(const std::string& kind, const std::string& key) {
  auto* k = find_connector_kind(kind);
  auto* s = k ? k->setting(key) : nullptr;
  return s && (s->type == setting_type::string || s->type == setting_type::enumeration);
}

std::optional<json> settings_from_options(const std::vector<std::string>& options,
                                          const std::string& settings_file, std::string& error,
                                          const std::function<bool(const std::string&)>& is_text) {
  json out = json::object();
  if (!settings_file.empty()) {
    std::string text;
    if (!read_file(settings_file, text)) {
      error = "--settings-file: cannot read " + settings_file;
      return std::nullopt;
    }
    out = json::parse(text, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      error = "--settings-file: " + settings_file +
              " must hold a JSON object of settings, e.g. {\"tenant_id\": \"...\"}";
      return std::nullopt;
    }
  }
  for (auto& opt : options) {
    auto eq = opt.find('=');
    auto key = opt.substr(0, eq);
    if (eq == std::string::npos || !valid_key(key)) {
      auto shown = opt.substr(0, std::min<size_t>(opt.size(), 40));
      error = "--option '" + shown + "': expected KEY=VALUE, KEY of letters, digits, '_', '-', '.'";
      return std::nullopt;
    }
    auto value = opt.substr(eq + 1);
    if (!value.empty() && value[0] == '@') {
      std::string text;
      if (!read_file(value.substr(1), text)) {
        error = "--option " + key + ": cannot read the file " + value.substr(1);
        return std::nullopt;
      }
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      // A file holds a secret as text (a token of digits stays text) or a JSON object/array.
      auto parsed = json::parse(text, nullptr, false);
      if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array()))
        out[key] = std::move(parsed);
      else
        out[key] = text;
      continue;
    }
    if (is_text && is_text(key) && value != "null") {
      out[key] = value;
      continue;
    }
    auto parsed = json::parse(value, nullptr, false);
    if (!parsed.is_discarded() && (parsed.is_number() || parsed.is_boolean() ||
                                   parsed.is_object() || parsed.is_array() || parsed.is_null())) {
      out[key] = std::move(parsed);
    } else if (!value.empty() && (value[0] == '{' || value[0] == '[')) {
      // Meant as JSON (nothing else starts so), but broken: saying so beats storing the text.
      error = "--option " + key + ": the value starts like JSON but is not valid JSON";
      return std::nullopt;
    } else {
      out[key] = value;
    }
  }
  return out;
}

}  // namespace ledgersync::cli
