#include "actors/requests.hpp"

#include <openssl/crypto.h>

namespace ledgersync {

using nlohmann::json;

client_reply reply(json body) {
  return client_reply{protocol_version, error_kind::none, 0, body.dump()};
}

client_reply fail(error_kind kind, const std::string& message, json extra) {
  extra["error"] = message;
  return client_reply{protocol_version, kind, 0, extra.dump()};
}

client_reply no_integration(const std::string& name) {
  return fail(error_kind::not_found, "no integration named '" + name + "'");
}

std::variant<ops::op_args, client_reply> admit(
    const std::function<bool(const std::string&)>& exists, const std::string& token,
    const client_request& req) {
  if (req.version != protocol_version)
    return fail(error_kind::invalid_argument,
                "this CLI speaks protocol " + std::to_string(req.version) + ", the service " +
                    std::to_string(protocol_version) + ": upgrade the " +
                    (req.version > protocol_version ? "service" : "CLI"));
  if (req.token.size() != token.size() ||
      CRYPTO_memcmp(req.token.data(), token.data(), token.size()) != 0)
    return fail(error_kind::unauthorized,
                "not authorised: the token does not match this service's");
  auto* op = ops::find(req.op);
  if (!op)
    return fail(error_kind::invalid_argument, "unknown operation '" + req.op + "'",
                {{"field", "op"}});
  // The data dir's token is the local administrator's credential.
  if (!ops::allows(ops::role::admin, op->needs))
    return fail(error_kind::forbidden, req.op + " needs the admin role");
  auto args = json::parse(req.args, nullptr, false);
  auto parsed = ops::parse_request(*op, req.name, args);
  if (auto* e = std::get_if<ops::op_error>(&parsed))
    return fail(e->kind, e->message, {{"field", e->field}});
  if ((op->target == ops::name_use::required ||
       (op->target == ops::name_use::optional && !req.name.empty())) &&
      !exists(req.name))
    return no_integration(req.name);
  return std::get<ops::op_args>(std::move(parsed));
}

std::optional<json> stored_config(const service_context& ctx, const std::string& name) {
  auto doc = ctx.store->integration_doc(name);
  if (!doc) return std::nullopt;
  auto j = json::parse(*doc, nullptr, false);
  auto cfg = j.value("config", json::object());
  std::vector<std::string> failed;
  unseal_config(cfg, *ctx.secrets, failed);
  return cfg;
}

}  // namespace ledgersync
