#include "cli/config_flags.hpp"

#include <limits>

namespace ledgersync::cli {

const std::vector<config_flag>& config_flags() {
  constexpr int64_t most = std::numeric_limits<int64_t>::max();
  using v = flag_value;
  static const std::vector<config_flag> table{
      {"--connector", "connector", "KIND", v::text, 0, 0,
       "connector kind (default rest; `ledgersync connectors` lists them)"},
      {"--base-url", "base_url", "URL", v::text, 0, 0, "the upstream API's base URL"},
      {"--schedule", "schedule", "SCHEDULE", v::text, 0, 0,
       "'every 15m', 'daily 06:00 Europe/London', 'weekly mon 06:00 UTC', "
       "'cron 0 6 * * 1-5 UTC' or 'manual'"},
      {"--tls-ca", "tls_ca_pem", "CA.pem", v::pem, 0, 0,
       "CA certificate(s) to trust besides the system's: a PEM file, or the PEM text"},
      {"--tls-client-cert", "tls_client_cert_pem", "CERT.pem", v::pem, 0, 0,
       "PEM file with the client certificate for mutual TLS"},
      {"--tls-client-key", "tls_client_key", "KEY.pem", v::pem, 0, 0,
       "PEM file with its private key (unencrypted; sealed when saved, never shown)"},
      {"--tls-server-name", "tls_server_name", "NAME", v::text, 0, 0,
       "the name the server's certificate must carry, when not the URL's host"},
      {"--manual-burst", "manual_burst", "N", v::whole, 1, most,
       "manual syncs allowed at once (default 2)"},
      {"--manual-refill", "manual_refill_s", "SECONDS", v::whole, 1, most,
       "seconds until one more manual sync is allowed (default 300)"},
      {"--upstream-rate", "upstream_rate_per_s", "N", v::positive, 0, 0,
       "requests per second the upstream's quota allows (default: the connector's, "
       "`ledgersync connectors KIND`; 20 for rest)"},
      {"--upstream-burst", "upstream_burst", "N", v::whole, 1, 100000,
       "requests allowed at once before --upstream-rate applies (default: the connector's)"},
      {"--reconcile", "reconcile", "SCHEDULE", v::text, 0, 0,
       "a schedule for full passes that mark records gone upstream as deleted, e.g. "
       "'weekly sun 03:00 UTC' (default manual: only sync --full)"},
      {"--max-pages-per-pass", "max_pages_per_pass", "N", v::whole, 1, most,
       "a pass stops with an error at this many pages (default 100000)"},
      {"--log-retention-days", "log_retention_days", "DAYS", v::whole, 1, 3650,
       "keep sync-log events and finished runs this many days (default 30)"},
      {"--log-retention-events", "log_retention_events", "N", v::whole, 1, 100000000,
       "keep at most the newest N sync-log events (default 10000)"},
      {"--log-retention-runs", "log_retention_runs", "N", v::whole, 1, 1000000,
       "keep at most the newest N runs (default 1000)"},
  };
  return table;
}

std::string flag_for(const std::string& key) {
  if (key == "api_key") return "--api-key-file FILE";
  if (key == "streams") return "--streams-file FILE";
  for (auto& f : config_flags())
    if (key == f.key) return std::string(f.flag) + " " + f.placeholder;
  return "";
}

}  // namespace ledgersync::cli
