#include "ops/error_kind.hpp"

#include <array>
#include <utility>

namespace ledgersync {

namespace {

constexpr std::array<std::pair<error_kind, const char*>, 10> names{{
    {error_kind::none, "none"},
    {error_kind::invalid_argument, "invalid_argument"},
    {error_kind::not_found, "not_found"},
    {error_kind::conflict, "conflict"},
    {error_kind::rate_limited, "rate_limited"},
    {error_kind::unavailable, "unavailable"},
    {error_kind::upstream_failed, "upstream_failed"},
    {error_kind::unauthorized, "unauthorized"},
    {error_kind::forbidden, "forbidden"},
    {error_kind::internal, "internal"},
}};

}  // namespace

const char* error_kind_name(error_kind k) {
  for (auto& [kind, name] : names)
    if (kind == k) return name;
  return "internal";
}

std::optional<error_kind> error_kind_from_name(std::string_view n) {
  for (auto& [kind, name] : names)
    if (n == name) return kind;
  return std::nullopt;
}

int http_status_for(error_kind k) {
  switch (k) {
    case error_kind::none:
      return 200;
    case error_kind::invalid_argument:
      return 400;
    case error_kind::not_found:
      return 404;
    case error_kind::conflict:
      return 409;
    case error_kind::rate_limited:
      return 429;
    case error_kind::unavailable:
      return 503;
    case error_kind::upstream_failed:
      return 502;
    case error_kind::unauthorized:
      return 401;
    case error_kind::forbidden:
      return 403;
    case error_kind::internal:
      return 500;
  }
  return 500;
}

}  // namespace ledgersync
