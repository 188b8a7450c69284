#include "cli/token_command.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "actors/service.hpp"
#include "api/tokens.hpp"
#include "cli/client.hpp"
#include "cli/errors.hpp"

namespace ledgersync::cli {

std::string api_tokens_path(const std::string& data_dir) {
  return data_dir + "/api_tokens.json";
}

void add_token_commands(CLI::App& app, token_command& c) {
  c.token = app.add_subcommand("token", "bearer tokens for the HTTP API (viewer or admin)");
  c.token->require_subcommand(1);
  c.token->add_option("--data-dir", c.data_dir, "the service's data dir");
  c.token->add_flag("--json", c.json, "answer in JSON");
  c.create = c.token->add_subcommand("create", "make a token; it is printed once, never again");
  c.create->add_option("--role", c.role, "viewer reads; admin also changes")
      ->required()
      ->check(CLI::IsMember({"viewer", "admin"}));
  c.create->add_option("--name", c.name,
                       "who holds it; recorded in the sync log beside every change it makes");
  c.list = c.token->add_subcommand("list", "the tokens (never their secrets)");
  c.revoke = c.token->add_subcommand("revoke", "revoke a token at once");
  c.revoke->add_option("ID_OR_NAME", c.which, "as `token list` shows")->required();
  for (auto* sub : {c.create, c.list, c.revoke}) sub->fallthrough();  // --json, --data-dir after
}

std::optional<int> run_token_commands(token_command& c) {
  if (!c.token->parsed()) return std::nullopt;
  auto dir = c.data_dir.empty() ? default_data_dir() : c.data_dir;
  api::token_store store(api_tokens_path(dir));
  std::string error;
  auto describe = [](const api::token_info& t) {
    return nlohmann::json{{"id", t.id},
                          {"name", t.name},
                          {"role", api::role_name(t.role)},
                          {"created_at", t.created_at}};
  };
  if (c.create->parsed()) {
    auto made = store.create(c.role, c.name, error);
    if (!made) die(c.role.empty() ? usage : failed, error);
    if (c.json) {
      auto j = describe(made->info);
      j["token"] = made->secret;
      std::cout << j.dump() << "\n";
    } else {
      std::cout << made->secret << "\n"
                << "(" << api::role_name(made->info.role) << " token '" << made->info.name
                << "', id " << made->info.id
                << ". It is shown only now: store it where the client will read it.)\n";
    }
    return 0;
  }
  if (c.list->parsed()) {
    auto tokens = store.list(error);
    if (!tokens) die(failed, error);
    if (c.json) {
      auto out = nlohmann::json::array();
      for (auto& t : *tokens) out.push_back(describe(t));
      std::cout << out.dump() << "\n";
    } else if (tokens->empty()) {
      std::cout << "No API tokens. Make one with `ledgersync token create --role viewer`.\n";
    } else {
      std::printf("%-18s %-24s %-7s %s\n", "ID", "NAME", "ROLE", "CREATED");
      for (auto& t : *tokens)
        std::printf("%-18s %-24s %-7s %s\n", t.id.c_str(), t.name.c_str(), api::role_name(t.role),
                    t.created_at.c_str());
    }
    return 0;
  }
  if (!store.revoke(c.which, error))
    die(error.find("no token") != std::string::npos ? not_found : failed, error);
  if (c.json)
    std::cout << nlohmann::json{{"revoked", c.which}}.dump() << "\n";
  else
    std::cout << "revoked " << c.which << "; requests with it are refused from now on\n";
  return 0;
}

}  // namespace ledgersync::cli
