// The operations table: every operation's arguments parse when good and, when bad, give
// invalid_argument naming the field; kinds map to HTTP statuses and exit codes; a reply's
// structured advice is phrased as a command by the CLI.
#include <catch2/catch.hpp>

#include "cli/errors.hpp"
#include "cli/render.hpp"
#include "ops/operations.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

struct good_case {
  const char* op;
  const char* name;
  json args;
};
struct bad_case {
  const char* op;
  const char* name;
  json args;
  const char* field;
};

std::variant<ops::op_args, ops::op_error> parse(const char* op, const char* name,
                                                const json& args) {
  auto* spec = ops::find(op);
  REQUIRE(spec);
  return ops::parse_request(*spec, name, args);
}

}  // namespace

TEST_CASE("good arguments of every operation parse") {
  std::vector<good_case> cases{
      {"ping", "", json::object()},
      {"ping", "acme", json::object()},
      {"list", "", json::object()},
      {"status", "", json::object()},
      {"status", "acme", json::object()},
      {"show", "acme", json::object()},
      {"add", "", {{"config", {{"name", "x"}}}, {"run_after_save", true}}},
      {"configure", "acme", {{"changes", {{"schedule", "every 1h"}}}, {"run_after_save", false}}},
      {"enable", "acme", json::object()},
      {"disable", "acme", json::object()},
      {"remove", "acme", json::object()},
      {"test", "acme", json::object()},
      {"sync", "acme", {{"full", true}}},
      {"logs", "acme", {{"limit", 100000}}},
      {"records",
       "acme",
       {{"stream", "invoices"},
        {"after_stream", "a"},
        {"after_id", "b"},
        {"limit", 10000},
        {"include_deleted", true}}},
      {"records", "acme", {{"id", "inv-1"}, {"stream", ""}}},
      {"run", "acme", {{"run_id", 3}}},
      {"connectors", "", json::object()},
      {"connectors", "", {{"kind", "rest"}}},
      {"run", "acme", json::object()},  // the history
      {"wait", "acme", {{"run_id", 3}, {"timeout_ms", 0}}},
      {"logs", "acme", {{"run_id", 2}, {"level", "warn"}, {"limit", 5}}},
      {"records", "acme", {{"after", "customers/cus_1"}, {"limit", 5}}},
      {"set_aside", "acme", {{"include_dismissed", true}}},
      {"dismiss", "acme", {{"id", "x"}, {"stream", "payments"}, {"by", "alice"}}},
      {"changes",
       "",
       {{"since", 5},
        {"limit", 1},
        {"integration", "acme"},
        {"with_records", true},
        {"wait_ms", 60000}}},
      {"push", "acme", {{"entity", "customer"}, {"ndjson", "{}"}, {"by", "alice"}}},
      {"push", "acme", {{"entity", "invoice"}, {"items", json::array({json::object()})}}},
      {"push", "acme", {{"retry", 7}}},
      {"pushes", "acme", json::object()},
      {"pushes",
       "acme",
       {{"status", "failed"}, {"entity", "customer"}, {"external_id", "C-1"}, {"after", 3},
        {"limit", 1000}}},
  };
  for (auto& c : cases) {
    INFO(c.op << " " << c.args.dump());
    auto r = parse(c.op, c.name, c.args);
    CHECK(std::holds_alternative<ops::op_args>(r));
  }
  // Defaults where an argument is left out.
  auto logs = std::get<ops::logs_args>(std::get<ops::op_args>(parse("logs", "a", json::object())));
  CHECK(logs.limit == 50);
  auto ch =
      std::get<ops::changes_args>(std::get<ops::op_args>(parse("changes", "", json::object())));
  CHECK(ch.limit == 1000);
  CHECK(ch.wait_ms == 0);
  auto rec =
      std::get<ops::records_args>(std::get<ops::op_args>(parse("records", "a", {{"id", "x"}})));
  REQUIRE(rec.id);
  CHECK(*rec.id == "x");
}

TEST_CASE("each bad argument gives invalid_argument naming the field") {
  std::vector<bad_case> cases{
      {"ping", "", {{"x", 1}}, "x"},
      {"list", "acme", json::object(), "name"},
      {"show", "", json::object(), "name"},
      {"show", "acme", {{"verbose", true}}, "verbose"},
      {"add", "", json::object(), "config"},
      {"add", "", {{"config", "x"}}, "config"},
      {"add", "", {{"config", json::object()}, {"run_after_save", "yes"}}, "run_after_save"},
      {"add", "x", {{"config", json::object()}}, "name"},
      {"configure", "acme", {{"changes", json::array()}}, "changes"},
      {"configure", "acme", {{"changes", json::object()}, {"schedule", "x"}}, "schedule"},
      {"enable", "acme", {{"now", true}}, "now"},
      {"disable", "", json::object(), "name"},
      {"remove", "acme", {{"force", true}}, "force"},
      {"test", "acme", {{"x", 1}}, "x"},
      {"sync", "acme", {{"full", 1}}, "full"},
      {"sync", "acme", {{"wiat", true}}, "wiat"},
      {"logs", "acme", {{"limit", 0}}, "limit"},
      {"logs", "acme", {{"limit", 100001}}, "limit"},
      {"logs", "acme", {{"limit", "10"}}, "limit"},
      {"logs", "acme", {{"limit", 1.5}}, "limit"},
      {"records", "acme", {{"limit", 10001}}, "limit"},
      {"records", "acme", {{"limit", -1}}, "limit"},
      {"records", "acme", {{"stream", 3}}, "stream"},
      {"records", "acme", {{"id", nullptr}}, "id"},
      {"records", "acme", {{"include_deleted", "true"}}, "include_deleted"},
      {"run", "acme", {{"run_id", 0}}, "run_id"},
      {"logs", "acme", {{"level", "loud"}}, "level"},
      {"records", "acme", {{"after", "no-slash"}}, "after"},
      {"run", "acme", {{"run_id", "7"}}, "run_id"},
      {"wait", "acme", json::object(), "run_id"},
      {"wait", "acme", {{"run_id", 1}, {"timeout_ms", 25001}}, "timeout_ms"},
      {"wait", "acme", {{"run_id", 1}, {"timeout_ms", -1}}, "timeout_ms"},
      {"set_aside", "acme", {{"include_dismissed", 1}}, "include_dismissed"},
      {"dismiss", "acme", json::object(), "id"},
      {"dismiss", "acme", {{"id", ""}}, "id"},
      {"dismiss", "acme", {{"id", "x"}, {"by", 5}}, "by"},
      {"changes", "", {{"since", -1}}, "since"},
      {"changes", "", {{"limit", 0}}, "limit"},
      {"changes", "", {{"wait_ms", 60001}}, "wait_ms"},
      {"changes", "", {{"integration", 1}}, "integration"},
      {"connectors", "", {{"kind", 7}}, "kind"},
      {"connectors", "", {{"kinds", "rest"}}, "kinds"},
      {"changes", "", {{"since", 18446744073709551615ull}}, "since"},
      {"changes", "acme", json::object(), "name"},
      {"status", "acme", json::array(), "args"},
      {"push", "", {{"entity", "customer"}, {"ndjson", "{}"}}, "name"},
      {"push", "acme", {{"entity", "vendor"}, {"ndjson", "{}"}}, "entity"},
      {"push", "acme", {{"entity", "customer"}}, "items"},  // nothing to push
      {"push", "acme", {{"entity", "customer"}, {"ndjson", "{}"}, {"retry", 1}}, "items"},
      {"push", "acme", {{"entity", "customer"}, {"items", json::object()}}, "items"},
      {"push", "acme", {{"retry", 0}}, "retry"},
      {"pushes", "acme", {{"status", "lost"}}, "status"},
      {"pushes", "acme", {{"limit", 1001}}, "limit"},
  };
  for (auto& c : cases) {
    INFO(c.op << " '" << c.name << "' " << c.args.dump());
    auto r = parse(c.op, c.name, c.args);
    REQUIRE(std::holds_alternative<ops::op_error>(r));
    auto& e = std::get<ops::op_error>(r);
    CHECK(e.kind == error_kind::invalid_argument);
    CHECK(e.field == c.field);
    CHECK(e.message.find(c.field) != std::string::npos);
  }
}

TEST_CASE("the table: every operation once, writes need admin, reads go to the queries") {
  std::vector<std::string> names;
  for (auto& op : ops::operations()) names.emplace_back(op.name);
  CHECK(names == std::vector<std::string>{"ping",    "list",      "status",     "show",
                                          "add",     "configure", "enable",     "disable",
                                          "remove",  "test",      "sync",       "logs",
                                          "records", "run",       "wait",       "set_aside",
                                          "dismiss", "changes",   "connectors", "connect",
                                          "push",    "pushes"});
  for (auto w : {"add", "configure", "enable", "disable", "remove", "sync", "dismiss", "test",
                 "connect", "push"}) {
    INFO(w);
    CHECK(ops::find(w)->needs == ops::role::admin);
    CHECK(ops::find(w)->route == ops::route::supervisor);
  }
  for (auto r :
       {"list", "status", "show", "logs", "records", "run", "wait", "set_aside", "changes",
        "connectors", "pushes"}) {
    INFO(r);
    CHECK(ops::find(r)->needs == ops::role::viewer);
    CHECK(ops::find(r)->route == ops::route::queries);
  }
  CHECK(ops::find("nope") == nullptr);
  CHECK(ops::allows(ops::role::admin, ops::role::admin));
  CHECK(ops::allows(ops::role::viewer, ops::role::viewer));
  CHECK_FALSE(ops::allows(ops::role::viewer, ops::role::admin));
  CHECK(ops::declares(*ops::find("sync"), error_kind::rate_limited));
  CHECK_FALSE(ops::declares(*ops::find("logs"), error_kind::rate_limited));
}

TEST_CASE("error kinds: HTTP statuses, exit codes, names") {
  using k = error_kind;
  std::vector<std::tuple<k, int, int>> cases{{k::none, 200, 0},
                                             {k::invalid_argument, 400, 2},
                                             {k::not_found, 404, 4},
                                             {k::conflict, 409, 1},
                                             {k::rate_limited, 429, 3},
                                             {k::unavailable, 503, 1},
                                             {k::upstream_failed, 502, 1},
                                             {k::unauthorized, 401, 1},
                                             {k::forbidden, 403, 1},
                                             {k::internal, 500, 1}};
  for (auto [kind, http, exit] : cases) {
    INFO(error_kind_name(kind));
    CHECK(http_status_for(kind) == http);
    CHECK(cli::exit_code_for(kind) == exit);
    CHECK(error_kind_from_name(error_kind_name(kind)) == kind);
  }
  CHECK_FALSE(error_kind_from_name("teapot"));
}

TEST_CASE("a reply's advice is an action the CLI phrases as a command") {
  auto h = ops::hint_with_action("The integration is disabled.", "enable", "acme");
  CHECK(h["action"] == json{{"op", "enable"}, {"name", "acme"}});
  CHECK(h["hint"].get<std::string>().find("ledgersync") == std::string::npos);
  CHECK(cli::hint_text(h) == "The integration is disabled. Run `ledgersync enable acme`.");
  CHECK(cli::command_for({{"op", "set_aside"}, {"name", "pay"}}) == "ledgersync set-aside pay");
  CHECK(cli::hint_text({{"hint", "wait"}}) == "wait");
  // An error's fix names settings; the CLI phrases them as configure's flags.
  json tls{{"hint", "add the server's CA to the integration's TLS settings (trusted CA)"},
           {"action", {{"op", "configure"}, {"settings", {"tls_ca_pem"}}}}};
  CHECK(cli::hint_text(tls, "erp") ==
        "add the server's CA to the integration's TLS settings (trusted CA); run `ledgersync "
        "configure erp --tls-ca CA.pem`");
  CHECK(cli::command_for({{"op", "configure"}, {"settings", {"api_key", "nope"}}}) ==
        "ledgersync configure NAME --api-key-file FILE");
  CHECK(cli::hint_text({{"action", {{"op", "show"}, {"name", "x"}}}}) == "run `ledgersync show x`");
}
