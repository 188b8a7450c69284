// The connector registry: every kind of connector the service knows (rest today; xero, stripe
// and the rest of UPSTREAM-PROTOCOLS.md to come), each with the settings it takes, which of them
// are secrets, the streams it offers and a factory. The engine, the config validation, the CLI
// and the HTTP API ask the registry; none of them names a kind.
//
// A kind's own settings live in the integration's `settings` object (the general ones — name,
// base_url, api_key, schedule, limits, tls — stay top-level). The schema here is what a save is
// checked against (messages name the setting: "settings.tenant_id is required for xero"), what
// `ledgersync connectors KIND` prints, and which values storage seals like the API key.
//
// Plain data built once at first use and never changed: safe to read from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/token_bucket.hpp"

namespace ledgersync {

class connector;
class push_writer;
struct integration_config;
struct stream_config;

enum class setting_type : uint8_t { string, integer, number, boolean, enumeration, object, array };
const char* setting_type_name(setting_type t);  // "string", …, "enum", "object", "array"

struct setting_spec {
  std::string key;
  setting_type type = setting_type::string;
  bool required = false;
  nlohmann::json default_value;  // null: no default (the connector copes without it)
  // Sealed at rest like the API key, replaced by a hint wherever settings are shown, never
  // echoed in an error message.
  bool secret = false;
  std::string help;
  std::vector<std::string> allowed;  // for enum: the values it may take
  std::optional<double> min, max;    // for integer and number: the inclusive range
};

struct stream_spec {
  std::string name;
  std::string entity;  // the canonical entity its records are (customer, invoice, …)
  std::string description;
  // Entities its records may be besides `entity` (a statement's balances beside its entries):
  // a reader by entity then checks each record's own.
  std::vector<std::string> other_entities = {};
};

// How a kind signs in with OAuth 2.0 (connectors/oauth.hpp). The vendor's own endpoints are the
// defaults; with the `auth_base_url` setting (the sandbox, a vendor's staging host) the paths
// are taken under it instead.
struct oauth_flow {
  std::string authorize_url, token_url, revoke_url;  // the vendor's (absolute)
  std::string authorize_path = "/oauth/authorize", token_path = "/oauth/token",
              revoke_path = "/oauth/revoke";  // under auth_base_url
  std::string scopes;                         // space-separated, as the authorize URL takes them
  bool client_credentials = false;            // the vendor offers that grant as well
  // Signing in is chosen per integration by the boolean setting `oauth` (the generic rest
  // kind); a vendor kind leaves it false and signs in once its settings name a client_id (its
  // api_key, without one, is an access token obtained elsewhere).
  bool optional = false;
};

// How fast calls may go: `calls` every `per`, at most `burst` of them at once. A burst of 1
// spaces the calls evenly, so no window of `per` ever holds more than `calls` (the vendors
// count in windows, and a burst on top of the rate would overrun one).
struct request_rate {
  uint32_t calls = 20;
  std::chrono::milliseconds per{1000};
  uint32_t burst = 20;

  std::chrono::nanoseconds spacing() const {
    return std::chrono::nanoseconds(per) / std::max<uint32_t>(calls, 1);
  }
  std::string text() const;  // "60 per minute", "25 per second"
};

// A limit the upstream counts across integrations (Xero's 10,000 calls a minute per app): the
// integrations whose kind gives the same key take their calls from one shared budget.
struct shared_limit {
  std::string key;
  request_rate rate;
};

struct connector_kind {
  std::string name;   // what `--connector` takes: "rest"
  std::string label;  // for people: "Generic REST API"
  std::string description;
  std::vector<setting_spec> settings;
  std::vector<stream_spec> streams;  // what it offers; the defaults of a new integration
  // The base URL a new integration gets when the request names none ("" = it must be given).
  std::string default_base_url;
  // The stream configs a new integration gets when the request names none.
  std::function<std::vector<stream_config>()> default_streams;
  // For kinds whose streams follow from their settings (odata's entity sets): the streams a new
  // integration gets when the request names none. Unset: default_streams.
  std::function<std::vector<stream_config>(const nlohmann::json& settings)> streams_from_settings;
  // `config` outlives the connector.
  std::function<std::unique_ptr<connector>(const integration_config& config)> make;
  // The writing half (connectors/push.hpp), for the kinds that can push records; `config`
  // outlives the writer. Unset: the kind only reads.
  std::function<std::unique_ptr<push_writer>(const integration_config& config)> make_writer;
  // Rules the schema cannot say (a header value without line breaks, two settings that go
  // together); "" when the settings pass. Called only on settings the schema accepted.
  std::function<std::string(const nlohmann::json& settings)> check;
  // Set for the kinds that sign in with OAuth 2.0: the integration actor then keeps `api_key`
  // holding a current access token (refreshed from the sealed refresh_token setting), and
  // `ledgersync connect NAME` signs in. Such a kind adds oauth_settings() to its settings.
  std::optional<oauth_flow> oauth;
  // How fast an integration of this kind calls its upstream unless its own upstream_rate_per_s
  // / upstream_burst say otherwise; from its settings (Stripe's depend on the mode). Unset: 20
  // a second, 20 at once.
  std::function<request_rate(const nlohmann::json& settings)> default_rate;
  // The budget this integration shares with others of the same app, if the vendor has one.
  std::function<std::optional<shared_limit>(const integration_config& config)> shared;

  const setting_spec* setting(std::string_view key) const;
};

const std::vector<connector_kind>& connector_kinds();
const connector_kind* find_connector_kind(std::string_view name);
// "rest, xero": for messages that list what there is.
std::string known_connector_kinds();

// Everything wrong with `settings` for `kind`, as one message naming the first bad setting
// ("settings.page_size must be an integer from 1 to 1000, got \"x\""); "" when valid. Refuses
// keys the kind does not take, so a typo is not silently ignored.
std::string validate_settings(const connector_kind& kind, const nlohmann::json& settings);
// The schema's defaults for what `settings` leaves out.
nlohmann::json settings_with_defaults(const connector_kind& kind, const nlohmann::json& settings);
// The secret settings' keys of the named kind (none for an unknown kind).
std::vector<std::string> secret_setting_keys(std::string_view kind);

// The registry as the `connectors` operation answers: a summary of every kind, or one kind in
// full (settings with type, default, required/secret, help; streams).
nlohmann::json to_json(const connector_kind& kind, bool detail);
nlohmann::json connectors_json();

// The settings every OAuth kind takes: client_id, client_secret (secret), refresh_token (secret,
// written by `connect`), auth_base_url, grant (authorization_code or client_credentials, set by
// `connect`). A kind appends them to its own:
//   k.settings = {...}; append_oauth_settings(k.settings);  k.oauth = oauth_flow{...};
std::vector<setting_spec> oauth_settings();
void append_oauth_settings(std::vector<setting_spec>& settings);
// Whether this integration signs in with OAuth (its kind has a flow, and for an optional flow
// its `oauth` setting is true).
bool uses_oauth(const integration_config& config);
const oauth_flow* oauth_flow_of(const integration_config& config);
// The kind's default rate for `settings` (its schema's defaults filled in).
request_rate default_rate(const connector_kind& kind, const nlohmann::json& settings);
// The bucket an integration paces its calls with: its own upstream_rate_per_s and
// upstream_burst where given, else its kind's default rate.
token_bucket upstream_bucket(const integration_config& c);
// The shared budget an integration takes from besides its own (none for most kinds).
std::optional<shared_limit> shared_limit_of(const integration_config& c);

// The kinds that ship, each defined beside its connector.
connector_kind rest_connector_kind();

}  // namespace ledgersync
