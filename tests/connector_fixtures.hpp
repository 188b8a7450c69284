// What the connector unit tests share: an integration of a kind with that kind's default
// streams, a stream by name, a canned answer, and a request's headers.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "connectors/registry.hpp"

namespace ledgersync {

inline integration_config kind_config(const std::string& kind, std::string name,
                                      std::string base_url, nlohmann::json settings,
                                      std::string api_key = "access-1") {
  integration_config c;
  c.name = std::move(name);
  c.connector = kind;
  c.base_url = std::move(base_url);
  c.api_key = std::move(api_key);
  c.settings = std::move(settings);
  c.streams = find_connector_kind(kind)->default_streams();
  return c;
}

inline const stream_config& stream_named(const integration_config& c, const std::string& name) {
  for (auto& s : c.streams)
    if (s.name == name) return s;
  throw std::runtime_error("no stream " + name);
}

inline http_response answer(int status, std::string body, header_list headers = {}) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// "" when the request has no such header.
inline std::string header_of(const http_request& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

inline bool has_header(const http_request& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name) return true;
  return false;
}

}  // namespace ledgersync
