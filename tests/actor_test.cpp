// Actors in virtual time: CAF's test coordinator runs every actor on this thread and moves the
// clock only when told to, so schedules, backoff, rate limits and deadlines are exercised
// without sleeping. The upstream is the sandbox's dataset behind an in-memory transport.
#include "tests/actor_world.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;
using nlohmann::json;
using namespace std::chrono;

TEST_CASE("a first sync imports everything; the next one only what changed") {
  world w;
  w.start();
  w.add("acme");
  w.settle();
  auto s = w.status("acme");
  CHECK(s["status"] == "active");
  CHECK(s["last_sync"] == "2026-11-23T10:00:00.000Z");
  CHECK(w.lmdb->record_counts("acme")["customers"] == 120);
  CHECK(w.lmdb->record_counts("acme")["payments"] == 120);
  CHECK(w.lmdb->last_change_seq() == 360);
  auto run = json::parse(*w.lmdb->run("acme", 1));
  CHECK(run["status"] == "ok");
  CHECK(run["inserted"] == 360);
  CHECK(run["total"] == 360);

  w.data.mutate("invoices", 4, to_ms(*parse_iso("2026-11-23T10:05:00Z")));
  w.transport->urls.clear();
  auto [code, reply] = w.call("sync", "acme");
  CHECK(code == 0);
  CHECK(reply["outcome"] == "started");
  w.settle();
  run = json::parse(*w.lmdb->run("acme", 2));
  CHECK(run["inserted"] == 0);
  CHECK(run["updated"] == 4);
  CHECK(w.lmdb->last_change_seq() == 364);
  // Incremental: every request carried the watermark; nothing was fetched in full.
  for (auto& u : w.transport->urls) CHECK(u.find("updated_since=") != std::string::npos);
}

TEST_CASE("a second press joins the running sync; a third is refused with the wait") {
  world w;
  w.start();
  w.add("acme", "manual", false, 2);
  caf::scoped_actor self{*w.sys};
  // Two presses before the actors run: the second finds the first's run active.
  auto a = w.call("sync", "acme").second;
  auto b = w.call("sync", "acme").second;
  CHECK(a["outcome"] == "started");
  CHECK((b["outcome"] == "joined" || b["outcome"] == "started"));
  w.settle();
  auto c = w.call("sync", "acme");
  if (b["outcome"] == "joined") {
    CHECK(b["run_id"] == a["run_id"]);
    CHECK(c.first == 0);  // the join took no token
    w.settle();
    c = w.call("sync", "acme");
  }
  CHECK(c.first == 3);
  CHECK(c.second["outcome"] == "rate_limited");
  CHECK(c.second["retry_after_ms"].get<int64_t>() > 0);
  CHECK(c.second["retry_after_ms"].get<int64_t>() <= 300000);
  w.sched->advance_time(milliseconds(c.second["retry_after_ms"].get<int64_t>()));
  CHECK(w.call("sync", "acme").first == 0);
}

TEST_CASE("429 waits for Retry-After and 500s back off, in virtual time, then finish") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(429, R"({"error":{"message":"slow down"}})", {{"Retry-After", "30"}}));
  w.transport->scripted.push_back(answer(500, R"({"error":{"type":"api_error"}})"));
  w.transport->scripted.push_back(answer(500, R"({"error":{"type":"api_error"}})"));
  w.add("acme");
  w.sched->run();
  auto s = w.status("acme");
  REQUIRE(s["running"] == true);
  CHECK(s["progress"]["waiting"].get<std::string>().find("rate limited") != std::string::npos);
  CHECK(w.transport->urls.size() == 1);
  w.sched->advance_time(seconds(29));
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);  // Retry-After honoured to the second
  w.sched->advance_time(seconds(1));
  w.sched->run();
  CHECK(w.transport->urls.size() == 2);
  w.settle();
  s = w.status("acme");
  CHECK(s["status"] == "active");
  CHECK(w.lmdb->record_counts("acme")["customers"] == 120);
  bool logged_retry = false;
  for (auto& l : w.lmdb->logs("acme", 100))
    if (json::parse(l)["event"] == "retrying") logged_retry = true;
  CHECK(logged_retry);
}

TEST_CASE("401 disconnects with the hint and is not retried; a new key fixes it") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(401, R"({"error":{"message":"Invalid API Key provided"}})"));
  w.add("acme");
  w.settle();
  auto s = w.status("acme");
  CHECK(s["status"] == "disconnected");
  CHECK(s["health"] == "failure");
  CHECK(s["last_error"]["category"] == "auth");
  CHECK(s["last_error"]["hint"].get<std::string>().find("API key may have expired") !=
        std::string::npos);
  CHECK(w.transport->urls.size() == 1);
  auto [code, body] = w.call("configure", "acme",
                             {{"changes", {{"api_key", "sk_test_new"}}}, {"run_after_save", true}});
  CHECK(code == 0);
  w.settle();
  CHECK(w.status("acme")["status"] == "active");
  CHECK(w.lmdb->integration_doc("acme")->find("sk_test_new") == std::string::npos);  // sealed
}

TEST_CASE("an upstream that never answers times out, is retried, then fails as Error") {
  world w;
  w.start();
  w.transport->hang = true;
  w.add("acme");
  w.settle(hours(2));
  auto s = w.status("acme");
  CHECK(s["running"] == false);
  CHECK(s["status"] == "error");  // slow is not a lost connection
  CHECK(s["last_error"]["category"] == "timeout");
  CHECK(w.transport->urls.size() == 3);  // max_attempts
}

TEST_CASE("records missing fields are set aside; the run goes on; status Error") {
  world w;
  w.data.invalidate("customers", 2, to_ms(*parse_iso("2026-11-01T00:00:00Z")));
  w.start();
  w.add("acme");
  w.settle();
  auto s = w.status("acme");
  CHECK(s["status"] == "error");
  CHECK(s["last_error"]["category"] == "validation");
  CHECK(w.lmdb->record_counts("acme")["customers"] == 118);
  CHECK(w.lmdb->record_counts("acme")["invoices"] == 120);
  int invalid = 0;
  for (auto& l : w.lmdb->logs("acme", 100)) {
    auto e = json::parse(l);
    if (e["event"] == "invalid_record") {
      ++invalid;
      CHECK(e["missing"] == json::array({"email"}));
    }
  }
  CHECK(invalid == 2);
}

TEST_CASE("a full disk fails the run, keeps the cursor, and the next run loses nothing") {
  world w;
  w.start();
  w.add("acme", "manual", false, 5);
  // The first commit of pages hits a full disk.
  w.store->fail_once_if = [](const write_batch& b) { return !b.records.empty(); };
  w.call("sync", "acme");
  w.settle();
  auto s = w.status("acme");
  CHECK(s["last_outcome"] == "failed");
  CHECK(s["status"] == "error");
  auto run = json::parse(*w.lmdb->run("acme", 1));
  CHECK(run["status"] == "failed");
  CHECK(run["error"]["category"] == "storage");
  CHECK(run["error"]["message"].get<std::string>().find("disk full") != std::string::npos);
  CHECK(w.lmdb->record_counts("acme")["customers"] == 0);
  w.call("sync", "acme");
  w.settle();
  CHECK(w.status("acme")["status"] == "active");
  CHECK(w.lmdb->record_counts("acme")["customers"] == 120);
  CHECK(w.lmdb->last_change_seq() == 360);
}

TEST_CASE("scheduled runs fire on time; disabling stops them and keeps settings") {
  world w;
  w.start();
  w.add("acme", "every 15m", false);
  auto s = w.status("acme");
  REQUIRE_FALSE(s["next_run"].is_null());
  auto next = *parse_iso(s["next_run"].get<std::string>());
  INFO("next run " << s["next_run"]);
  // Slots sit on the quarter hours, shifted by this name's spread offset (at most 90 s here).
  CHECK(next > *parse_iso("2026-11-23T10:00:00Z"));
  CHECK(next <= *parse_iso("2026-11-23T10:01:30Z"));
  w.sched->advance_time(minutes(2));
  w.settle(minutes(1));
  CHECK(w.status("acme")["last_run_id"] == 1);
  CHECK(w.lmdb->record_counts("acme")["customers"] == 120);
  CHECK(w.call("disable", "acme").first == 0);
  w.sched->advance_time(hours(1));
  w.settle(minutes(1));
  s = w.status("acme");
  CHECK(s["status"] == "disabled");
  CHECK(s["last_run_id"] == 1);
  CHECK(w.call("sync", "acme").first == 1);
  CHECK(w.call("enable", "acme").first == 0);
  w.sched->advance_time(minutes(16));
  w.settle(minutes(1));
  CHECK(w.status("acme")["last_run_id"] == 2);
}

TEST_CASE(
    "a fire during a run is skipped and logged; disable cancels; enable goes on incrementally") {
  world w;
  w.start();
  w.add("acme", "every 15m", true);
  w.settle();
  REQUIRE(w.status("acme")["last_run_id"] == 1);
  w.data.mutate("invoices", 4, to_ms(*parse_iso("2026-11-23T10:00:30Z")));
  w.transport->scripted.push_back(answer(429, "{}", {{"Retry-After", "600"}}));
  CHECK(w.call("sync", "acme").second["outcome"] == "started");
  w.sched->run();
  REQUIRE(w.status("acme")["running"] == true);
  w.sched->advance_time(minutes(2));  // the 10:0x fire comes while run 2 waits out the 429
  w.sched->run();
  CHECK(w.status("acme")["progress"]["run_id"] == 2);
  int skipped = 0;
  for (auto& e : w.call("logs", "acme").second) skipped += e["event"] == "schedule_skipped";
  CHECK(skipped == 1);

  CHECK(w.call("disable", "acme").first == 0);
  w.sched->run();
  auto s = w.status("acme");
  CHECK(s["status"] == "disabled");
  CHECK(s["running"] == false);
  CHECK(json::parse(*w.lmdb->run("acme", 2))["status"] == "cancelled");
  w.sched->advance_time(minutes(15));  // the 429's retry timer fires into a cancelled run
  w.sched->run();
  CHECK(w.status("acme")["last_run_id"] == 2);

  CHECK(w.call("enable", "acme").first == 0);
  w.transport->urls.clear();
  CHECK(w.call("sync", "acme").first == 0);
  w.settle();
  auto run = json::parse(*w.lmdb->run("acme", 3));
  CHECK(run["status"] == "ok");
  CHECK(run["updated"] == 4);
  CHECK(run["inserted"] == 0);
  REQUIRE_FALSE(w.transport->urls.empty());
  for (auto& u : w.transport->urls) CHECK(u.find("updated_since=") != std::string::npos);
}

TEST_CASE("a schedule missed during downtime runs once at start-up") {
  world w;
  integration_config c;
  c.name = "acme";
  c.base_url = "http://sandbox.test";
  c.schedule = "daily 06:00 UTC";
  c.streams = default_rest_streams();
  status_facts f;
  f.created_at_ms = to_ms(*parse_iso("2026-11-19T12:00:00Z"));
  f.last_scheduled_ms = to_ms(*parse_iso("2026-11-20T06:00:00Z"));  // three fires missed since
  write_batch b;
  b.integration = "acme";
  b.integration_doc = make_integration_doc(c, w.box, f.to_json().dump());
  batch_result r;
  REQUIRE(w.lmdb->apply(b, r).ok());
  w.start();
  w.settle(minutes(1));
  auto s = w.status("acme");
  CHECK(s["last_run_id"] == 1);
  CHECK(s["next_run"].get<std::string>().rfind("2026-11-24T06:0", 0) == 0);
}

TEST_CASE("an integration that keeps crashing is restarted, then left stopped with the reason") {
  world w;
  write_batch b;
  b.integration = "broken";
  b.integration_doc = R"({"config":{"name":"broken","streams":"not a list"},"status":{}})";
  batch_result r;
  REQUIRE(w.lmdb->apply(b, r).ok());
  w.start();
  w.sched->run();
  auto s = w.status("broken");
  CHECK(s["status"] == "error");
  CHECK(s["health"] == "failure");
  CHECK(s["last_error"]["category"] == "crash");
  CHECK(s["last_error"]["message"].get<std::string>().find("stopped after 4 crashes") !=
        std::string::npos);
  CHECK(w.call("sync", "broken").first == 1);
}

TEST_CASE("client requests: bad token, unknown names, bad settings") {
  world w;
  w.start();
  caf::scoped_actor self{*w.sys};
  client_request req;
  req.token = "wrong";
  req.op = "list";
  self->send(w.engine, req);
  w.sched->run();
  self->receive([](const client_reply& r) { CHECK(r.kind == error_kind::unauthorized); },
                caf::after(seconds(0)) >> [] { FAIL(); });
  CHECK(w.call("status", "nope").first == 4);
  CHECK(w.call("sync", "nope").first == 4);
  auto [code, body] = w.call("add", "", {{"config", {{"name", "x"}, {"base_url", "nope"}}}});
  CHECK(code == 2);
  CHECK(body["error"].get<std::string>().find("base URL") != std::string::npos);
  w.add("acme");
  CHECK(
      w.call("add", "",
             {{"config", {{"name", "acme"}, {"base_url", "http://x"}, {"streams", json::array()}}}})
          .first == 2);
}

TEST_CASE("a stored document without a config is left out of list and status") {
  world w;
  // What a damaged or half-written store could hold: the supervisor does not take it up, so
  // list must not show what no command can change or remove.
  write_batch ghost;
  ghost.integration = "ghost";
  ghost.integration_doc = R"({"status":{}})";
  batch_result r;
  REQUIRE(w.lmdb->apply(ghost, r).ok());
  w.start();
  w.add("acme");
  auto all = w.call("list", "").second;
  REQUIRE(all.is_array());
  REQUIRE(all.size() == 1);
  CHECK(all[0]["name"] == "acme");
  CHECK(w.call("status", "ghost").first == 4);
}

TEST_CASE("a duplicate add is a conflict; an unknown stream and a refused sync say why") {
  world w;
  w.start();
  w.add("acme", "manual", true, 1);
  w.settle();
  integration_config again;
  again.name = "acme";
  again.base_url = "http://other.test";
  again.streams = default_rest_streams();
  auto [code, body] = w.call("add", "", {{"config", to_json(again, true)}});
  CHECK(code == 1);  // a conflict, not a usage error: the command was well formed
  CHECK(body["error"] == "an integration named 'acme' already exists");

  auto [rcode, rbody] = w.call("records", "acme", {{"stream", "nosuch"}});
  CHECK(rcode == 4);
  CHECK(rbody["error"] ==
        "no stream 'nosuch' in acme; its streams are customers, invoices, payments");
  CHECK(w.call("records", "acme", {{"stream", "invoices"}, {"limit", 1}}).first == 0);

  CHECK(w.call("sync", "acme").first == 0);  // the one manual sync the bucket holds
  w.settle();
  auto [scode, sbody] = w.call("sync", "acme");
  CHECK(scode == 3);
  // The README's words: burst and refill as configured.
  CHECK(sbody["message"].get<std::string>().rfind(
            "manual sync limit reached (1 at once, one more every 300s); try again in ", 0) == 0);
}

namespace {

// An integration saved with these retention limits, without syncing.
void add_with_retention(world& w, const std::string& name, int64_t days, int64_t events,
                        int64_t runs) {
  integration_config c;
  c.name = name;
  c.base_url = "http://sandbox.test";
  c.api_key = "sk_test_sandbox";
  c.schedule = "manual";
  c.streams = default_rest_streams();
  c.manual_burst = 10;
  c.retention = {days, events, runs};
  REQUIRE(w.call("add", "", {{"config", to_json(c, true)}}).first == 0);
}

void put_events(world& w, const std::string& name, int n, const std::string& at) {
  write_batch b;
  b.integration = name;
  for (int i = 0; i < n; ++i) b.log_events.push_back(json{{"at", at}, {"n", i}}.dump());
  batch_result r;
  REQUIRE(w.lmdb->apply(b, r).ok());
}

}  // namespace

TEST_CASE("the sync log and run history are pruned in the background to their retention") {
  world w;
  w.start();
  put_events(w, "roomy", 40, "2026-10-01T00:00:00.000Z");  // older than 30 days
  add_with_retention(w, "roomy", 30, 10000, 1000);
  put_events(w, "roomy", 5, "2026-11-23T09:00:00.000Z");
  add_with_retention(w, "acme", 30, 50, 3);
  put_events(w, "acme", 200, "2026-10-01T00:00:00.000Z");
  put_events(w, "acme", 100, "2026-11-23T09:00:00.000Z");
  for (uint64_t id = 1; id <= 5; ++id) {
    write_batch b;
    b.integration = "acme";
    b.run_id = id;
    b.run_patch = R"({"status":"ok","finished":"2026-11-23T09:00:00.000Z"})";
    batch_result r;
    REQUIRE(w.lmdb->apply(b, r).ok());
  }
  w.sched->advance_time(seconds(59));
  w.sched->run();
  // With the "added" event and the record of who asked for it.
  CHECK(w.lmdb->history("acme").events == 302);
  w.sched->advance_time(seconds(1));  // the retention timer: every minute
  w.sched->run();
  auto h = w.lmdb->history("acme");
  CHECK(h.events == 50);
  CHECK(h.runs == 3);
  CHECK(h.oldest_event_at == "2026-11-23T09:00:00.000Z");
  // 40 old ones gone by age, the count well within: 5, "added" and who asked.
  CHECK(w.lmdb->history("roomy").events == 7);
  CHECK_FALSE(w.lmdb->run("acme", 2));
  CHECK(w.lmdb->run("acme", 3));

  auto [code, show] = w.call("show", "acme");
  REQUIRE(code == 0);
  CHECK(show["retention"] == json{{"events", 50},
                                  {"runs", 3},
                                  {"oldest_event", "2026-11-23T09:00:00.000Z"},
                                  {"keep_days", 30},
                                  {"keep_events", 50},
                                  {"keep_runs", 3}});
  CHECK(show["config"]["created_at"] == "2026-11-23T10:00:00.000Z");  // ISO, like every time
  CHECK_FALSE(show["config"].contains("created_at_ms"));
  auto bad = w.call("configure", "acme", {{"changes", {{"log_retention_days", 0}}}});
  CHECK(bad.first == 2);
  CHECK(bad.second["error"].get<std::string>().find("log_retention_days") != std::string::npos);
}

TEST_CASE("pruning goes in small steps, and a page commit waits behind at most one of them") {
  world w(100);  // at most 100 deletes a step
  w.start();
  add_with_retention(w, "acme", 30, 10, 1000);
  put_events(w, "acme", 1000, "2026-11-23T09:00:00.000Z");
  w.sched->advance_time(minutes(1));
  for (int i = 0; i < 100 && w.store->prunes < 2; ++i) w.sched->try_run_once();
  REQUIRE(w.store->prunes == 2);  // a pass is under way: 8 more steps to go
  w.store->prunes_at_group.clear();
  caf::scoped_actor self{*w.sys};
  write_batch b;
  b.integration = "acme";
  b.log_events.push_back(log_event(0, "info", "page", "a page's commit").dump());
  self->send(w.ctx->writer, write_atom::value, std::move(b));  // queued behind the next step
  w.sched->run();
  REQUIRE(w.store->prunes_at_group.size() == 1);
  CHECK(w.store->prunes_at_group[0] <= 3);  // behind the one step queued before it, no more
  CHECK(w.store->prunes >= 10);
  CHECK(w.lmdb->history("acme").events == 10);
}

TEST_CASE("a changes request with a wait is answered when entries commit, or when it times out") {
  world w;
  w.start();
  w.add("acme", "manual", false, 5);
  add_with_retention(w, "other", 30, 10000, 1000);
  caf::scoped_actor self{*w.sys};
  auto ask = [&](json args) {
    client_request req;
    req.token = "tok";
    req.op = "changes";
    req.args = args.dump();
    self->send(w.route("changes"), req);
    w.sched->run();
  };
  auto answer = [&]() -> std::optional<json> {
    std::optional<json> out;
    self->receive([&](const client_reply& r) { out = json::parse(r.body); },
                  caf::after(seconds(0)) >> [] {});
    return out;
  };
  // Nothing new: parked, answered empty when the wait is over (virtual time).
  ask({{"since", 0}, {"wait_ms", 25000}});
  CHECK_FALSE(answer());
  w.sched->advance_time(seconds(25));
  w.sched->run();
  auto empty = answer();
  REQUIRE(empty);
  CHECK((*empty)["changes"].empty());
  CHECK((*empty)["next_since"] == 0);

  // A sync commits: the parked request is answered at once, in ISO time.
  ask({{"since", 0}, {"wait_ms", 25000}});
  ask({{"since", 0}, {"wait_ms", 25000}, {"integration", "other"}});
  CHECK_FALSE(answer());
  CHECK(w.call("sync", "acme").first == 0);
  w.sched->run();
  auto got = answer();
  REQUIRE(got);
  REQUIRE_FALSE((*got)["changes"].empty());
  auto& first = (*got)["changes"][0];
  CHECK(first["seq"] == 1);
  CHECK(first["integration"] == "acme");
  CHECK(first["at"] == "2026-11-23T10:00:25.000Z");
  CHECK_FALSE(first.contains("at_ms"));
  // The one following "other" still waits: acme's entries are not its.
  CHECK_FALSE(answer());
  w.sched->advance_time(seconds(25));
  w.sched->run();
  auto other = answer();
  REQUIRE(other);
  CHECK((*other)["changes"].empty());
  CHECK((*other)["next_since"] == 360);  // looked past acme's entries: the next poll starts there

  // With records; one record by id.
  auto [code, page] = w.call("changes", "", {{"since", 0}, {"limit", 2}, {"with_records", true}});
  REQUIRE(code == 0);
  auto id = page["changes"][0]["id"].get<std::string>();
  CHECK(page["changes"][0]["record"]["id"] == id);
  auto [rc, rec] = w.call("records", "acme", {{"id", id}});
  REQUIRE(rc == 0);
  REQUIRE(rec["records"].size() == 1);
  CHECK(rec["records"][0]["record"]["id"] == id);
  CHECK(rec["next"].is_null());
  // By entity: the streams that hold it, paged across them; the feed names each entry's entity.
  auto [ec, invoices] = w.call("records", "acme", {{"entity", "invoice"}, {"limit", 100}});
  REQUIRE(ec == 0);
  CHECK(invoices["records"].size() == 100);
  CHECK(invoices["records"][0]["stream"] == "invoices");
  auto [ec2, rest] = w.call("records", "acme",
                            {{"entity", "invoice"}, {"after", invoices["next"]}, {"limit", 100}});
  REQUIRE(ec2 == 0);
  CHECK(rest["records"].size() == 20);
  CHECK(rest["next"].is_null());
  auto [ec3, none] = w.call("records", "acme", {{"entity", "fx_rate"}});
  CHECK(ec3 == 4);
  CHECK(none["error"].get<std::string>().find("its entities are customer, invoice, payment") !=
        std::string::npos);
  CHECK(w.call("records", "acme", {{"entity", "invoice"}, {"stream", "invoices"}}).first == 2);
  CHECK(page["changes"][0].contains("entity"));
  CHECK(w.call("records", "acme", {{"id", id}, {"stream", "payments"}}).first == 4);
  CHECK(w.call("records", "acme", {{"id", "nope"}}).first == 4);
  CHECK(w.call("changes", "", {{"integration", "nope"}}).first == 4);
}
