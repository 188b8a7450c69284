#include "core/errors.hpp"

namespace ledgersync {

std::string_view category_name(error_category c) {
  switch (c) {
    case error_category::none:
      return "none";
    case error_category::auth:
      return "auth";
    case error_category::timeout:
      return "timeout";
    case error_category::upstream:
      return "upstream";
    case error_category::rate_limited:
      return "rate_limited";
    case error_category::validation:
      return "validation";
    case error_category::config:
      return "config";
    case error_category::storage:
      return "storage";
    case error_category::unreachable:
      return "unreachable";
    case error_category::tls:
      return "tls";
  }
  return "none";
}

error_category category_from_name(std::string_view n) {
  for (auto c : {error_category::auth, error_category::timeout, error_category::upstream,
                 error_category::rate_limited, error_category::validation, error_category::config,
                 error_category::storage, error_category::unreachable, error_category::tls})
    if (category_name(c) == n) return c;
  return error_category::none;
}

std::string_view category_hint(error_category c) {
  switch (c) {
    case error_category::none:
      return "";
    case error_category::auth:
      return "the API key may have expired — reconfigure the connection with a new key";
    case error_category::timeout:
      return "the source system was slow to respond — retried automatically; if it persists, "
             "check the source system's status or raise the request timeout";
    case error_category::upstream:
      return "the source system returned an error or an unreadable answer — retried "
             "automatically; if it persists, check the source system's status";
    case error_category::rate_limited:
      return "the source system's API rate limit was reached — the sync waits as asked and "
             "goes on; avoid repeated manual syncs";
    case error_category::validation:
      return "a record in the source system has missing required fields — correct the record "
             "in the source system and resync";
    case error_category::config:
      return "the integration's settings are invalid — correct them and save";
    case error_category::storage:
      return "the local database could not commit (disk full?) — free space in the data "
             "directory; the sync resumes from the last committed page";
    case error_category::unreachable:
      return "the source system could not be reached — check the API base URL (host, port, "
             "https) and whether the system is up; retried automatically";
    case error_category::tls:
      return "a certificate was refused — fix the integration's TLS settings (trusted CA, "
             "client certificate, server name); not retried until then";
  }
  return "";
}

bool error_info::fixed_by_settings() const {
  return category == error_category::auth || category == error_category::config ||
         category == error_category::tls || !fix_settings.empty();
}

std::vector<std::string> error_info::settings_to_fix() const {
  if (!fix_settings.empty()) return fix_settings;
  if (category == error_category::auth) return {"api_key"};
  return {};
}

bool category_retryable(error_category c) {
  return c == error_category::timeout || c == error_category::upstream ||
         c == error_category::rate_limited || c == error_category::unreachable;
}

bool category_disconnects(error_category c) {
  return c == error_category::auth || c == error_category::unreachable || c == error_category::tls;
}

}  // namespace ledgersync
