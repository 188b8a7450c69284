// An integration's settings: where its upstream is, how to authenticate, when to sync and how
// each stream pages and filters. Plain data with JSON conversion and validation; the API key is
// held in memory only (storage seals it before it reaches disk).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "connectors/tls.hpp"
#include "core/retry_policy.hpp"

namespace ledgersync {

enum class pagination_style : uint8_t {
  cursor,    // a body field holds an opaque token sent back as a query parameter
  page,      // page numbers; stop on a short/empty page or at the page count
  next_url,  // a body field holds the full next URL (OData @odata.nextLink, Sage $next)
  link,      // RFC 8288 `Link: <…>; rel="next"` header
  none,      // one request returns everything
  offset,    // offset and limit ($skip/$top); stop on a short page or at the total
  // the last record's id while a body flag says more (Stripe)
  starting_after,
};

// How the watermark is written into the request: as the upstream wrote its updated_at (ISO 8601,
// what query filters compare) or as an RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// the only form If-Modified-Since accepts.
enum class watermark_format : uint8_t { iso8601, http_date };

struct stream_config {
  std::string name;
  std::string path;
  std::string entity;                     // canonical entity: customer, invoice, payment, …
  std::string records_pointer = "/data";  // JSON pointer to the records array; "" = top level
  std::string id_pointer = "/id";         // within a record
  std::string updated_pointer = "/updated_at";
  std::string incremental_param = "updated_since";  // query parameter carrying the watermark
  std::string incremental_header;  // or a header (If-Modified-Since); wins when set
  watermark_format since_format = watermark_format::iso8601;
  pagination_style paging = pagination_style::cursor;
  std::string cursor_param = "cursor";
  std::string cursor_pointer = "/next_cursor";
  std::string page_param = "page";
  int first_page = 1;
  std::string page_count_pointer;  // e.g. /pagination/pageCount
  std::string next_url_pointer;    // for next_url paging
  std::string offset_param = "offset";  // for offset paging: the parameter and its first value
  int64_t first_offset = 0;
  std::string starting_after_param = "starting_after";  // for starting_after paging
  std::string has_more_pointer = "/has_more";
  std::string page_size_param = "limit";
  int page_size = 500;
  std::string total_pointer = "/total";      // a total for progress, when the upstream gives one
  // Or a response header with it, which wins when present: a bare count (X-Total-Count) or
  // a Content-Range ("items 0-499/5000").
  std::string total_header;
  std::string deleted_pointer;               // a record field that marks deletion (true/"Deleted")
  std::vector<std::string> required;         // JSON pointers within a record
  std::map<std::string, std::string> query;  // fixed query parameters
};

// How much sync log and run history an integration keeps. The log writer prunes in the
// background: events and finished runs older than `days`, and all but the newest `events`
// events and `runs` runs.
struct retention_settings {
  int64_t days = 30;
  int64_t events = 10000;
  int64_t runs = 1000;
};

// The connector kind of an integration that names none (requests without one, documents stored
// before kinds existed). The kinds themselves live in connectors/registry.hpp.
inline constexpr const char* default_connector_kind = "rest";

struct integration_config {
  std::string name;
  std::string connector = default_connector_kind;
  std::string base_url;
  std::string api_key;  // plaintext, memory only
  std::string auth_header = "Authorization";
  std::string auth_scheme = "Bearer";
  std::string schedule = "every 15m";
  bool enabled = true;
  std::vector<stream_config> streams;
  std::map<std::string, std::string> headers;  // extra fixed headers (tenant ids, versions)
  uint32_t manual_burst = 2;                   // manual "sync now" token bucket
  int64_t manual_refill_s = 300;
  // The upstream-call token bucket; unset: the connector kind's default rate (see
  // connectors/registry.hpp upstream_bucket), so a vendor's published limit is kept unasked.
  std::optional<double> upstream_rate_per_s;
  std::optional<uint32_t> upstream_burst;
  int64_t request_timeout_ms = 30000;
  int64_t max_body_bytes = 64ll << 20;
  retry_settings retry;
  // No paging scheme may loop forever: a pass stops with an error at this many pages.
  uint64_t max_pages_per_pass = 100000;
  // A schedule for full passes that also mark records the upstream no longer has as deleted
  // (for upstreams that never report deletions); "manual" = only `sync --full`.
  std::string reconcile = "manual";
  retention_settings retention;
  // TLS to the upstream: extra CA, client certificate + key (the key is a secret like the API
  // key), the name to verify. JSON keys tls_ca_pem, tls_client_cert_pem, tls_client_key,
  // tls_server_name; absent when empty.
  tls_options tls;
  // The connector kind's own settings (its schema: connectors/registry.hpp). Secret ones are
  // sealed at rest and, without `with_secret`, shown only as a hint in `settings_hints`.
  nlohmann::json settings = nlohmann::json::object();
  int64_t created_at_ms = 0;
};

std::string pagination_name(pagination_style p);

// The streams the built-in sandbox serves; the default for a `rest` integration without a
// streams file.
std::vector<stream_config> default_rest_streams();

// JSON conversion. `from_json` rejects unknown keys and wrong types with a message naming the
// key, so a typo in a streams file is an error rather than a silently ignored setting.
nlohmann::json to_json(const stream_config& s);
std::optional<stream_config> stream_from_json(const nlohmann::json& j, std::string& error);
std::optional<std::vector<stream_config>> streams_from_json(const nlohmann::json& j,
                                                            std::string& error);

// `with_secret` false leaves the key and the secret settings out (what is shown to users and
// written to disk).
nlohmann::json to_json(const integration_config& c, bool with_secret);
std::optional<integration_config> config_from_json(const nlohmann::json& j, std::string& error);

// The retention a stored config document asks for (defaults for keys it lacks): what the log
// writer reads without decoding the whole config.
retention_settings retention_of(const nlohmann::json& config);

// Configs stored before per-kind default rates always carried upstream_rate_per_s and
// upstream_burst (20 and 20 unless set), which now would override the kind's default (xero's
// 60 a minute). Drops from a stored `config` each of the two that holds exactly that old
// written default, when both are present (newer code writes them only when set, so a lone
// one is the user's). True when it changed `config`. Idempotent; storage runs it once at open.
bool drop_old_rate_defaults(nlohmann::json& config);

// Everything a save must refuse: bad name, URL, connector, schedule, streams, limits.
// Returns an empty string when valid.
std::string validate(const integration_config& c);
bool valid_integration_name(const std::string& name);

// "…abcd": at most the last 4 characters, never the key.
std::string mask_key(const std::string& key);

}  // namespace ledgersync
