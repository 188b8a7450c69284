// The route table and the per-token limiter as plain functions: what each path means, and the
// 400/404/405/415 answers for what does not fit.
#include <catch2/catch.hpp>

#include "api/rate_limiter.hpp"
#include "api/routes.hpp"

using namespace ledgersync::api;
using json = nlohmann::json;

namespace {
matched must_match(const std::string& method, const std::string& target) {
  auto m = match(method, target);
  INFO(method << " " << target << " -> " << m.error.status << " " << m.error.message);
  REQUIRE(m.ok);
  return *m.ok;
}
}  // namespace

TEST_CASE("paths become operations with their arguments from the path and the query") {
  auto m = must_match("GET", "/api/v1/integrations/acme%20ltd/logs?run=7&level=error&limit=20");
  CHECK(m.call.op == "logs");
  CHECK(m.call.integration == "acme ltd");
  CHECK(m.call.args == json{{"run_id", 7}, {"level", "error"}, {"limit", 20}});

  m = must_match("GET", "/api/v1/integrations/a/records/invoices/INV%2F1");
  CHECK(m.call.op == "records");
  CHECK(m.call.args == json{{"stream", "invoices"}, {"id", "INV/1"}});

  m = must_match("GET", "/api/v1/changes?since=0&limit=5&wait=30s");
  CHECK(m.call.integration.empty());
  CHECK(m.call.args == json{{"since", 0}, {"limit", 5}, {"wait_ms", 30000}});

  m = must_match("GET", "/api/v1/integrations/a/runs/12");
  CHECK(m.call.args == json{{"run_id", 12}});
  CHECK(must_match("DELETE", "/api/v1/integrations/a").route->status == 204);
  CHECK(must_match("POST", "/api/v1/integrations").route->status == 201);
  CHECK(must_match("POST", "/api/v1/integrations/a/sync").route->status == 202);
  CHECK(must_match("GET", "/api/v1/integrations/").call.op == "list");  // trailing slash
}

TEST_CASE("reads need a viewer and every change needs an admin") {
  for (auto& r : routes()) {
    INFO(r.method << " " << r.path);
    // Webhook subscriptions are configuration: even reading them is for admins.
    if (r.path.rfind("/api/v1/webhooks", 0) == 0)
      CHECK(r.role == role::admin);
    else
      CHECK((r.role == role::viewer) == (r.method == "GET"));
  }
}

TEST_CASE(
    "unknown paths are 404, other methods 405 with Allow, bad queries 400 naming the "
    "parameter") {
  auto m = match("GET", "/api/v1/nothing");
  CHECK(m.error.status == 404);
  CHECK_FALSE(m.route);

  m = match("PUT", "/api/v1/integrations/a");
  CHECK(m.error.status == 405);
  CHECK(m.error.allow == "DELETE, GET, PATCH");

  std::vector<std::pair<std::string, std::string>> bad = {
      {"/api/v1/changes?limit=0", "'limit'"},     {"/api/v1/changes?limit=abc", "'limit'"},
      {"/api/v1/changes?limit=10001", "'limit'"}, {"/api/v1/changes?wait=90s", "'wait'"},
      {"/api/v1/changes?wait=soon", "'wait'"},    {"/api/v1/changes?since=-1", "'since'"}};
  for (auto& [target, param] : bad) {
    m = match("GET", target);
    INFO(target);
    CHECK(m.error.status == 400);
    CHECK(m.route);  // the route is known: auth comes before the 400
    CHECK(m.error.message.find(param) != std::string::npos);
  }
  m = match("GET", "/api/v1/integrations/a/logs?level=loud");
  CHECK(m.error.message.find("'level'") != std::string::npos);
  m = match("GET", "/api/v1/integrations/a/logs?colour=red");
  CHECK(m.error.status == 400);
  CHECK(m.error.message.find("'colour'") != std::string::npos);
  CHECK(m.error.hint.find("level") != std::string::npos);
  m = match("GET", "/api/v1/integrations/a/runs/x1");
  CHECK(m.error.status == 400);
}

TEST_CASE("bodies must be JSON objects of acceptable type") {
  auto m = must_match("PATCH", "/api/v1/integrations/a");
  CHECK_FALSE(
      apply_body(*m.route, "application/json; charset=utf-8", R"({"schedule":"1h"})", m.call));
  CHECK(m.call.args == json{{"changes", {{"schedule", "1h"}}}});

  auto e = apply_body(*m.route, "text/plain", "{}", m.call);
  REQUIRE(e);
  CHECK(e->status == 415);
  e = apply_body(*m.route, "application/json", "{\"a\":", m.call);
  REQUIRE(e);
  CHECK(e->status == 400);
  CHECK(e->message == "the body is not valid JSON");
  e = apply_body(*m.route, "application/json", "[1]", m.call);
  REQUIRE(e);
  CHECK(e->status == 400);

  auto s = must_match("POST", "/api/v1/integrations/a/sync");
  CHECK_FALSE(apply_body(*s.route, "", "", s.call));  // the body of a sync is optional
  CHECK_FALSE(apply_body(*s.route, "application/json", R"({"full":true})", s.call));
  CHECK(s.call.args == json{{"full", true}});
  auto g = must_match("GET", "/api/v1/integrations/a");
  CHECK(apply_body(*g.route, "application/json", "{}", g.call));
}

TEST_CASE("durations read as seconds unless a unit says otherwise") {
  CHECK(parse_duration_ms("30s") == 30000);
  CHECK(parse_duration_ms("30") == 30000);
  CHECK(parse_duration_ms("250ms") == 250);
  CHECK(parse_duration_ms("1m") == 60000);
  CHECK_FALSE(parse_duration_ms("s"));
  CHECK_FALSE(parse_duration_ms("1h"));
  CHECK_FALSE(parse_duration_ms("99999999999"));
}

TEST_CASE("the per-token limit refuses the request after the burst and tells when to retry") {
  std::chrono::nanoseconds now{0};
  request_limiter lim(2, std::chrono::milliseconds(1500), [&] { return now; });
  CHECK_FALSE(lim.admit("a"));
  CHECK_FALSE(lim.admit("a"));
  CHECK(lim.admit("a") == 2);   // 1.5 s rounds up
  CHECK_FALSE(lim.admit("b"));  // each token has its own bucket
  now += std::chrono::milliseconds(1500);
  CHECK_FALSE(lim.admit("a"));
  CHECK(lim.admit("a") == 2);
  now += std::chrono::milliseconds(1000);
  CHECK(lim.admit("a") == 1);  // 0.5 s left still says 1
}
