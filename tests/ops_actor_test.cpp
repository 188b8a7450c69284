// The operations layer as the engine answers it: kinds instead of exit codes, structured advice
// instead of CLI wording, arguments checked by the table, an honest protocol handshake.
#include "actors/requests.hpp"
#include "connectors/registry.hpp"
#include "tests/actor_world.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;

namespace {

// `to` may run on a thread of its own (the front door is a blocking actor): the wait is for
// its answer, bounded, not a sleep.
caf::message ask_raw(world& w, const caf::actor& to, client_request req) {
  caf::scoped_actor self{*w.sys};
  self->send(to, std::move(req));
  w.sched->run();
  caf::message out;
  self->receive(
      caf::others >> [&](caf::message_view& x) -> caf::result<caf::message> {
        out = x.move_content_to_message();
        return caf::message{};
      },
      caf::after(std::chrono::seconds(10)) >> [] {});
  return out;
}

}  // namespace

TEST_CASE("replies carry a kind and structured advice, never a CLI command") {
  world w;
  w.start();
  w.add("acme", "manual", false, 1);
  CHECK(w.call("disable", "acme").first == 0);
  auto [code, body] = w.call("sync", "acme");
  CHECK(w.last_kind == error_kind::conflict);
  CHECK(code == 1);
  CHECK(body["action"] == json{{"op", "enable"}, {"name", "acme"}});
  CHECK(body.dump().find("ledgersync ") == std::string::npos);
  CHECK(w.call("enable", "acme").first == 0);
  CHECK(w.call("sync", "acme").first == 0);
  w.settle();
  auto [rcode, refused] = w.call("sync", "acme");
  CHECK(w.last_kind == error_kind::rate_limited);
  CHECK(rcode == 3);
  CHECK(w.last_retry_after_ms > 0);
  CHECK(refused["retry_after_ms"] == w.last_retry_after_ms);

  integration_config again;
  again.name = "acme";
  again.base_url = "http://sandbox.test";
  again.streams = default_rest_streams();
  auto [ccode, conflict] = w.call("add", "", {{"config", to_json(again, true)}});
  CHECK(w.last_kind == error_kind::conflict);
  CHECK(conflict["action"]["op"] == "configure");
  auto [scode, nostream] = w.call("records", "acme", {{"stream", "nosuch"}});
  CHECK(w.last_kind == error_kind::not_found);
  CHECK(nostream["action"]["op"] == "show");
  auto [dcode, nodismiss] = w.call("dismiss", "acme", {{"id", "nope"}});
  CHECK(w.last_kind == error_kind::not_found);
  CHECK(nodismiss["action"]["op"] == "set_aside");
  for (auto& j : {conflict, nostream, nodismiss}) {
    INFO(j.dump());
    CHECK(j.dump().find("ledgersync ") == std::string::npos);
  }
}

TEST_CASE("the table checks every request before a handler sees it") {
  world w;
  w.start();
  w.add("acme", "manual", false);
  auto [c1, unknown] = w.call("frobnicate", "acme");
  CHECK(c1 == 2);
  CHECK(unknown["error"].get<std::string>().find("unknown operation 'frobnicate'") == 0);
  auto [c2, bad] = w.call("logs", "acme", {{"limit", 0}});
  CHECK(w.last_kind == error_kind::invalid_argument);
  CHECK(bad["field"] == "limit");
  auto [c3, extra] = w.call("sync", "acme", {{"fulll", true}});
  CHECK(w.last_kind == error_kind::invalid_argument);
  CHECK(extra["field"] == "fulll");
  CHECK(w.call("show", "nope").first == 4);
  CHECK(w.call("show", "").first == 2);
}

TEST_CASE("a CLI of another protocol is told which side to upgrade, in a reply it decodes") {
  world w;
  w.start();
  // An older CLI: the front door answers in protocol 1's reply, the only one it decodes.
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  auto door = spawn_front_door(*w.sys, w.engine, w.queries, stopping);
  struct stop_door {
    std::shared_ptr<std::atomic<bool>> flag;
    caf::actor door;
    ~stop_door() {
      flag->store(true);
      caf::anon_send_exit(door, caf::exit_reason::user_shutdown);
    }
  } guard{stopping, door};
  client_request old;
  old.version = 1;
  old.token = "tok";
  old.op = "ping";
  auto m = ask_raw(w, door, old);
  REQUIRE(m.match_elements<client_reply_v1>());
  auto& v1 = m.get_as<client_reply_v1>(0);
  CHECK(v1.code == 2);
  CHECK(json::parse(v1.body)["error"].get<std::string>().find("upgrade the CLI") !=
        std::string::npos);

  // A newer CLI reads this protocol's reply and is told to upgrade the service.
  client_request newer = old;
  newer.version = protocol_version + 1;
  m = ask_raw(w, caf::actor_cast<caf::actor>(w.engine), newer);
  REQUIRE(m.match_elements<client_reply>());
  CHECK(m.get_as<client_reply>(0).kind == error_kind::invalid_argument);
  CHECK(m.get_as<client_reply>(0).body.find("upgrade the service") != std::string::npos);
}

TEST_CASE("a slow read holds up neither the supervisor nor another read") {
  world w;
  w.detached_queries = true;  // real threads: a blocked read must not block anything else
  w.start();
  w.add("acme", "manual", false, 5);
  w.add("other", "manual", false, 5);
  caf::scoped_actor self{*w.sys};
  auto send = [&](const std::string& op, const std::string& name, json args = json::object()) {
    client_request req;
    req.token = "tok";
    req.op = op;
    req.name = name;
    req.args = args.dump();
    self->send(w.route(op), req);
  };
  // Bounded waits for answers from the query threads; the test clock does not move.
  auto answer = [&](std::chrono::milliseconds within) -> std::optional<client_reply> {
    std::optional<client_reply> out;
    self->receive([&](const client_reply& r) { out = r; }, caf::after(within) >> [] {});
    return out;
  };

  w.store->gate_logs(true);
  send("logs", "acme");
  REQUIRE(w.store->wait_logs_blocked(std::chrono::seconds(10)));

  // The supervisor answers a write at once (its mailbox holds no read).
  send("sync", "acme");
  w.sched->run();
  auto synced = answer(std::chrono::milliseconds(0));
  REQUIRE(synced);
  CHECK(synced->kind == error_kind::none);
  send("disable", "other");
  w.sched->run();
  auto disabled = answer(std::chrono::milliseconds(0));
  REQUIRE(disabled);
  CHECK(disabled->kind == error_kind::none);

  // Another read goes to the pool's other worker and is answered too.
  send("run", "acme", {{"run_id", 1}});
  auto run = answer(std::chrono::seconds(10));
  REQUIRE(run);
  CHECK(run->kind == error_kind::none);

  // The slow read still answers once its storage does.
  w.store->gate_logs(false);
  auto logs = answer(std::chrono::seconds(10));
  REQUIRE(logs);
  CHECK(logs->kind == error_kind::none);
  CHECK(json::parse(logs->body).is_array());
  w.settle();
}

TEST_CASE("add's defaults are the service's: a config without streams gets its kind's streams") {
  world w;
  w.start();
  json conf{{"name", "bare"}, {"base_url", "http://sandbox.test"}, {"api_key", "k"}};
  auto [code, body] = w.call("add", "", {{"config", conf}});
  REQUIRE(code == 0);
  auto show = w.call("show", "bare").second;
  CHECK(show["config"]["connector"] == "rest");
  auto& kind = *find_connector_kind("rest");
  REQUIRE(show["config"]["streams"].size() == kind.streams.size());
  for (size_t i = 0; i < kind.streams.size(); ++i)
    CHECK(show["config"]["streams"][i]["name"] == kind.streams[i].name);
  // The connectors operation describes the same kind, streams included.
  auto [kcode, described] = w.call("connectors", "", {{"kind", "rest"}});
  CHECK(kcode == 0);
  CHECK(described["streams"][0]["name"] == kind.streams[0].name);
  auto [ncode, unknown] = w.call("connectors", "", {{"kind", "nope"}});
  CHECK(ncode == 4);
  CHECK(unknown["error"].get<std::string>().find("known: rest") != std::string::npos);
  // An unknown kind is refused at add, naming the known ones.
  conf["name"] = "odd";
  conf["connector"] = "nope";
  auto [bcode, refused] = w.call("add", "", {{"config", conf}});
  CHECK(bcode == 2);
  CHECK(refused["error"].get<std::string>().find("unknown connector 'nope' (known: rest") !=
        std::string::npos);
  json kinds = json::array();
  for (auto& k : connector_kinds()) kinds.push_back(k.name);
  CHECK(refused["connectors"] == kinds);
  CHECK(refused["connectors"][0] == "rest");
}

TEST_CASE("a secret setting is sealed at rest, never shown, and kept when others change") {
  world w;
  w.start();
  json conf{{"name", "sealed"},
            {"base_url", "http://sandbox.test"},
            {"api_key", "k"},
            {"settings", {{"secret_headers", {{"X-Tenant-Key", "tk-do-not-show"}}}}}};
  REQUIRE(w.call("add", "", {{"config", conf}}).first == 0);
  auto doc = w.store->integration_doc("sealed");
  REQUIRE(doc);
  CHECK(doc->find("tk-do-not-show") == std::string::npos);
  CHECK(doc->find("settings_sealed") != std::string::npos);
  auto show = w.call("show", "sealed").second;
  CHECK(show.dump().find("tk-do-not-show") == std::string::npos);
  CHECK(show["config"]["settings_hints"]["secret_headers"] == "(set, sealed)");
  // Changing another setting keeps the secret (settings merge); null removes one.
  REQUIRE(
      w.call("configure", "sealed", {{"changes", {{"settings", {{"watermark_order", "text"}}}}}})
          .first == 0);
  show = w.call("show", "sealed").second;
  CHECK(show["config"]["settings"]["watermark_order"] == "text");
  CHECK(show["config"]["settings_hints"]["secret_headers"] == "(set, sealed)");
  auto unsealed = stored_config(*w.ctx, "sealed");
  REQUIRE(unsealed);
  CHECK((*unsealed)["settings"]["secret_headers"]["X-Tenant-Key"] == "tk-do-not-show");
  REQUIRE(
      w.call("configure", "sealed", {{"changes", {{"settings", {{"secret_headers", nullptr}}}}}})
          .first == 0);
  show = w.call("show", "sealed").second;
  CHECK_FALSE(show["config"].contains("settings_hints"));
  CHECK(show["config"]["settings"] == json{{"watermark_order", "text"}});
}

TEST_CASE("wait answers the moment a run's end is recorded, or with its progress at the timeout") {
  world w;
  w.start();
  // The first page is refused for 20 s (virtual): the run is under way and waiting.
  w.transport->scripted.push_back(
      answer(429, R"({"error":{"message":"slow down"}})", {{"Retry-After", "20"}}));
  w.add("acme", "manual", true);
  w.sched->run();
  REQUIRE(w.status("acme")["running"] == true);
  uint64_t run_id = w.status("acme")["progress"]["run_id"];

  caf::scoped_actor self{*w.sys};
  auto ask_wait = [&](int64_t timeout_ms) {
    client_request req;
    req.token = "tok";
    req.op = "wait";
    req.name = "acme";
    req.args = json{{"run_id", run_id}, {"timeout_ms", timeout_ms}}.dump();
    self->send(w.route("wait"), req);
  };
  // Moves virtual time one timer at a time until the answer comes; how long it took.
  auto answer_after = [&](json& out) {
    auto start = w.sys->clock().now();
    for (int i = 0; i < 100; ++i) {
      w.sched->run();
      bool got = false;
      self->receive(
          [&](const client_reply& r) {
            CHECK(r.kind == error_kind::none);
            out = json::parse(r.body);
            got = true;
          },
          caf::after(std::chrono::seconds(0)) >> [] {});
      if (got) break;
      w.sched->trigger_timeout();
    }
    return duration_cast<milliseconds>(w.sys->clock().now() - start);
  };

  json out;
  ask_wait(2000);
  auto took = answer_after(out);
  CHECK(took == milliseconds(2000));
  CHECK(out["done"] == false);
  CHECK(out["status"]["progress"]["run_id"] == run_id);
  CHECK(out["status"]["progress"]["waiting"].get<std::string>().find("rate limited") !=
        std::string::npos);

  ask_wait(25000);
  took = answer_after(out);
  CHECK(took == milliseconds(18000));  // the rest of the 20 s Retry-After, not the 25 s timeout
  CHECK(out["done"] == true);
  CHECK(out["run"]["run_id"] == run_id);
  CHECK(out["run"]["status"] == "ok");

  // A run that is over answers at once; an unknown one is not found.
  ask_wait(25000);
  CHECK(answer_after(out) == milliseconds(0));
  CHECK(out["done"] == true);
  auto [code, body] = w.call("wait", "acme", {{"run_id", 99}, {"timeout_ms", 0}});
  CHECK(code == 4);
  CHECK(w.call("wait", "acme", {{"run_id", run_id}, {"timeout_ms", 25001}}).first == 2);
  CHECK(w.call("wait", "acme", {{"timeout_ms", 5}}).first == 2);
}

TEST_CASE("the status feed hands watchers a snapshot, then what changed, then what was removed") {
  world w;
  auto feed = spawn_status_feed(*w.sys);
  w.ctx->feed = feed;
  w.start();
  w.add("acme", "manual", false);
  caf::scoped_actor watcher{*w.sys};
  caf::anon_send(feed, watch_atom::value, caf::actor_cast<caf::actor>(watcher));
  caf::anon_send(feed, source_atom::value, w.queries, std::string("tok"));
  // The batches that have come, after letting virtual time pass the 250 ms coalescing.
  auto batches = [&] {
    w.sched->run();
    w.sched->advance_time(milliseconds(250));
    w.sched->run();
    std::vector<json> out;
    for (bool more = true; more;)
      watcher->receive(
          [&](feed_batch_atom, const std::string& b) { out.push_back(json::parse(b)); },
          caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
    return out;
  };
  auto got = batches();
  REQUIRE(!got.empty());
  CHECK(got[0]["snapshot"] == true);
  REQUIRE(got[0]["changed"].size() == 1);
  CHECK(got[0]["changed"][0]["name"] == "acme");

  CHECK(w.call("sync", "acme").first == 0);
  w.settle();
  got = batches();
  REQUIRE(!got.empty());
  // Coalesced: the last word on acme is the run's end, already recorded.
  auto last = got.back()["changed"].back();
  CHECK(last["name"] == "acme");
  CHECK(last["running"] == false);
  CHECK(last["last_run_id"] == 1);
  CHECK(batches().empty());  // nothing changed, nothing sent

  CHECK(w.call("remove", "acme").first == 0);
  got = batches();
  REQUIRE(got.size() == 1);
  CHECK(got[0]["removed"] == json{"acme"});
  caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
}

TEST_CASE("the supervisor admits a request without reading storage on its thread") {
  world w;
  w.start();
  w.add("acme", "manual", false);
  w.store->doc_reads = 0;
  CHECK(w.call("sync", "acme").first == 0);
  CHECK(w.call("ping", "").first == 0);
  CHECK(w.call("disable", "nope").first == 4);  // not found, from the registry
  CHECK(w.store->doc_reads == 0);
  w.settle();
}
