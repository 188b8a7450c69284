#include "connectors/registry.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cmath>
#include <cstdint>

#include "config/integration_config.hpp"
#include "connectors/bank_statement_connector.hpp"
#include "connectors/connector.hpp"
#include "connectors/ecb_fx_connector.hpp"
#include "connectors/odata_connector.hpp"
#include "connectors/quickbooks_connector.hpp"
#include "connectors/sage_connector.hpp"
#include "connectors/stripe_connector.hpp"
#include "connectors/xero_connector.hpp"

namespace ledgersync {

using nlohmann::json;

const char* setting_type_name(setting_type t) {
  switch (t) {
    case setting_type::string:
      return "string";
    case setting_type::integer:
      return "integer";
    case setting_type::number:
      return "number";
    case setting_type::boolean:
      return "boolean";
    case setting_type::enumeration:
      return "enum";
    case setting_type::object:
      return "object";
    case setting_type::array:
      return "array";
  }
  return "string";
}

const setting_spec* connector_kind::setting(std::string_view key) const {
  for (auto& s : settings)
    if (s.key == key) return &s;
  return nullptr;
}

const std::vector<connector_kind>& connector_kinds() {
  // One line per kind: a kind added elsewhere but not listed here does not exist (a static
  // library drops self-registering objects nobody references).
  static const std::vector<connector_kind> kinds{
      rest_connector_kind(),  ecb_fx_connector_kind(),        stripe_connector_kind(),
      xero_connector_kind(),  sage_connector_kind(),          quickbooks_connector_kind(),
      odata_connector_kind(), bank_statement_connector_kind()};
  return kinds;
}

const connector_kind* find_connector_kind(std::string_view name) {
  for (auto& k : connector_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

std::string known_connector_kinds() {
  std::string out;
  for (auto& k : connector_kinds()) out += (out.empty() ? "" : ", ") + k.name;
  return out;
}

namespace {

std::string number_text(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  auto s = json(d).dump();
  return s;
}

// What a setting accepts, in words: "an integer from 1 to 1000", "one of a, b".
std::string expected(const setting_spec& s) {
  std::string range;
  if (s.min && s.max)
    range = " from " + number_text(*s.min) + " to " + number_text(*s.max);
  else if (s.min)
    range = " of at least " + number_text(*s.min);
  else if (s.max)
    range = " of at most " + number_text(*s.max);
  switch (s.type) {
    case setting_type::string:
      return "a string";
    case setting_type::integer:
      return "an integer" + range;
    case setting_type::number:
      return "a number" + range;
    case setting_type::boolean:
      return "true or false";
    case setting_type::enumeration: {
      std::string list;
      for (auto& a : s.allowed) list += (list.empty() ? "" : ", ") + a;
      return "one of " + list;
    }
    case setting_type::object:
      return "a JSON object";
    case setting_type::array:
      return "a JSON array";
  }
  return "a value";
}

bool fits(const setting_spec& s, const json& v) {
  switch (s.type) {
    case setting_type::string:
      return v.is_string();
    case setting_type::integer: {
      if (!v.is_number_integer()) return false;
      // Beyond int64 is beyond any range a setting takes.
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) return false;
      auto n = static_cast<double>(v.get<int64_t>());
      return (!s.min || n >= *s.min) && (!s.max || n <= *s.max);
    }
    case setting_type::number: {
      if (!v.is_number()) return false;
      auto n = v.get<double>();
      return std::isfinite(n) && (!s.min || n >= *s.min) && (!s.max || n <= *s.max);
    }
    case setting_type::boolean:
      return v.is_boolean();
    case setting_type::enumeration:
      return v.is_string() &&
             std::find(s.allowed.begin(), s.allowed.end(), v.get<std::string>()) != s.allowed.end();
    case setting_type::object:
      return v.is_object();
    case setting_type::array:
      return v.is_array();
  }
  return false;
}

}  // namespace

std::string validate_settings(const connector_kind& kind, const json& settings) {
  if (settings.is_null()) return validate_settings(kind, json::object());
  if (!settings.is_object())
    return "settings must be a JSON object of " + kind.name + "'s settings";
  for (auto& [key, value] : settings.items()) {
    auto* spec = kind.setting(key);
    if (!spec) {
      std::string list;
      for (auto& s : kind.settings) list += (list.empty() ? "" : ", ") + s.key;
      return "settings." + key + " is not a setting of " + kind.name +
             (list.empty() ? " (it takes none)" : " (its settings: " + list + ")");
    }
    if (!fits(*spec, value)) {
      // A secret's value is never repeated, not even a wrong one: it may be the real secret
      // pasted into the wrong setting.
      auto got = value.dump();
      if (got.size() > 40) got = got.substr(0, 37) + "...";
      return "settings." + key + " must be " + expected(*spec) +
             (spec->secret ? "" : ", got " + got);
    }
  }
  for (auto& s : kind.settings)
    if (s.required && (!settings.contains(s.key) || settings[s.key].is_null() ||
                       (settings[s.key].is_string() && settings[s.key].get<std::string>().empty())))
      return "settings." + s.key + " is required for " + kind.name + " (" + s.help + ")";
  // The client secret and the refresh token go to this server: never in clear over a network.
  if (kind.oauth && settings.contains("auth_base_url") && settings["auth_base_url"].is_string() &&
      !settings["auth_base_url"].get<std::string>().empty()) {
    auto text = settings["auth_base_url"].get<std::string>();  // the view below points into it
    auto u = boost::urls::parse_uri(text);
    auto host = u ? std::string(u->encoded_host_address()) : "";
    bool loopback = host == "127.0.0.1" || host == "::1" || host == "localhost";
    if (!u || u->has_userinfo() ||
        !(u->scheme() == "https" || (u->scheme() == "http" && loopback)))
      return "settings.auth_base_url must be an https:// URL (http:// only to this machine: "
             "127.0.0.1, [::1], localhost), without user:password@";
  }
  if (kind.check) return kind.check(settings_with_defaults(kind, settings));
  return "";
}

json settings_with_defaults(const connector_kind& kind, const json& settings) {
  json out = settings.is_object() ? settings : json::object();
  for (auto& s : kind.settings)
    if (!out.contains(s.key) && !s.default_value.is_null()) out[s.key] = s.default_value;
  return out;
}

std::vector<std::string> secret_setting_keys(std::string_view name) {
  std::vector<std::string> out;
  if (auto* k = find_connector_kind(name))
    for (auto& s : k->settings)
      if (s.secret) out.push_back(s.key);
  return out;
}

std::string request_rate::text() const {
  using namespace std::chrono;
  std::string unit = per == minutes(1)   ? "minute"
                     : per == seconds(1) ? "second"
                     : per == hours(1)   ? "hour"
                                         : std::to_string(per.count()) + " ms";
  auto out = std::to_string(calls) + " per " + unit;
  if (burst > 1) out += ", " + std::to_string(burst) + " at once";
  return out;
}

request_rate default_rate(const connector_kind& kind, const json& settings) {
  if (!kind.default_rate) return request_rate{};
  return kind.default_rate(settings_with_defaults(kind, settings));
}

token_bucket upstream_bucket(const integration_config& c) {
  auto* kind = find_connector_kind(c.connector);
  auto rate = kind ? default_rate(*kind, c.settings) : request_rate{};
  auto spacing = rate.spacing();
  if (c.upstream_rate_per_s)
    spacing = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / *c.upstream_rate_per_s));
  return token_bucket(c.upstream_burst.value_or(rate.burst), spacing);
}

std::optional<shared_limit> shared_limit_of(const integration_config& c) {
  auto* kind = find_connector_kind(c.connector);
  if (!kind || !kind->shared) return std::nullopt;
  return kind->shared(c);
}

json to_json(const connector_kind& k, bool detail) {
  json j{{"name", k.name}, {"label", k.label}, {"description", k.description}};
  if (!k.default_base_url.empty()) j["default_base_url"] = k.default_base_url;
  j["default_rate"] = default_rate(k, json::object()).text();
  json streams = json::array();
  for (auto& s : k.streams)
    streams.push_back({{"name", s.name}, {"entity", s.entity}, {"description", s.description}});
  if (!detail) {
    j["oauth"] = k.oauth.has_value();
    j["settings"] = k.settings.size();
    json names = json::array();
    for (auto& s : k.streams) names.push_back(s.name);
    j["streams"] = names;
    return j;
  }
  json settings = json::array();
  for (auto& s : k.settings) {
    json e{{"key", s.key},
           {"type", setting_type_name(s.type)},
           {"required", s.required},
           {"secret", s.secret},
           {"help", s.help}};
    if (!s.default_value.is_null()) e["default"] = s.default_value;
    if (!s.allowed.empty()) e["allowed"] = s.allowed;
    if (s.min) e["min"] = *s.min;
    if (s.max) e["max"] = *s.max;
    settings.push_back(std::move(e));
  }
  j["settings"] = settings;
  j["streams"] = streams;
  if (k.oauth) {
    auto& o = *k.oauth;
    j["oauth"] = {{"authorize_url", o.authorize_url},
                  {"token_url", o.token_url},
                  {"revoke_url", o.revoke_url},
                  {"authorize_path", o.authorize_path},
                  {"token_path", o.token_path},
                  {"revoke_path", o.revoke_path},
                  {"scopes", o.scopes},
                  {"client_credentials", o.client_credentials},
                  {"optional", o.optional}};
  }
  if (k.shared) {
    integration_config c;
    c.connector = k.name;
    c.base_url = k.default_base_url;
    if (auto l = k.shared(c)) j["shared_rate"] = l->rate.text();
  }
  return j;
}

std::vector<setting_spec> oauth_settings() {
  setting_spec id, secret, refresh, base;
  id.key = "client_id";
  id.help = "the OAuth client id of the app registered with the vendor";
  secret.key = "client_secret";
  secret.secret = true;
  secret.help =
      "the app's OAuth client secret (none for a public client, which signs in with "
      "PKCE alone)";
  refresh.key = "refresh_token";
  refresh.secret = true;
  refresh.help =
      "written by `ledgersync connect NAME` after signing in; replaced as the vendor rotates it";
  base.key = "auth_base_url";
  base.help =
      "where the vendor's authorize and token endpoints are, when not the vendor's own "
      "(the sandbox: http://127.0.0.1:PORT)";
  setting_spec grant;
  grant.key = "grant";
  grant.type = setting_type::enumeration;
  grant.allowed = {"authorization_code", "client_credentials"};
  grant.default_value = "authorization_code";
  grant.help =
      "how runs get their access token: from the refresh token a browser sign-in "
      "stored, or from client_id and client_secret alone (set by `connect`)";
  return {id, secret, refresh, base, grant};
}

void append_oauth_settings(std::vector<setting_spec>& settings) {
  for (auto& s : oauth_settings()) settings.push_back(std::move(s));
}

const oauth_flow* oauth_flow_of(const integration_config& c) {
  auto* kind = find_connector_kind(c.connector);
  if (!kind || !kind->oauth) return nullptr;
  if (kind->oauth->optional &&
      !(c.settings.is_object() && c.settings.value("oauth", json()) == json(true)))
    return nullptr;
  // A vendor kind signs in once it has an app (client_id); before that its api_key is an
  // access token obtained elsewhere and used as given.
  if (!kind->oauth->optional &&
      !(c.settings.is_object() && c.settings.contains("client_id") &&
        c.settings["client_id"].is_string() && !c.settings["client_id"].get<std::string>().empty()))
    return nullptr;
  return &*kind->oauth;
}

bool uses_oauth(const integration_config& c) {
  return oauth_flow_of(c) != nullptr;
}

json connectors_json() {
  json out = json::array();
  for (auto& k : connector_kinds()) out.push_back(to_json(k, false));
  return out;
}

}  // namespace ledgersync
