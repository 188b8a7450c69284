// What the supervisor (engine.cpp) and the queries (queries.cpp) share about client requests:
// the admission every request passes before a handler sees it, the reply shapes, and reads of
// an integration's stored document that both need.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/context.hpp"
#include "ops/operations.hpp"

namespace ledgersync {

client_reply reply(nlohmann::json body);
client_reply fail(error_kind kind, const std::string& message,
                  nlohmann::json extra = nlohmann::json::object());
client_reply no_integration(const std::string& name);

// Protocol version, token, the operation's place in the table, the caller's role, its
// arguments, and (when the operation acts on one) that the integration exists, as `exists`
// says: the supervisor asks its own registry of integrations, so admitting a request reads no
// storage on its thread; the queries ask storage. The parsed arguments, or the reply that
// refuses the request.
std::variant<ops::op_args, client_reply> admit(
    const std::function<bool(const std::string&)>& exists, const std::string& token,
    const client_request& req);

// An integration's stored config with its secrets unsealed; nullopt when there is none.
std::optional<nlohmann::json> stored_config(const service_context& ctx, const std::string& name);

}  // namespace ledgersync
