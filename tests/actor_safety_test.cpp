// What the engine must keep true when things go wrong: set-aside records stay visible until
// imported or dismissed, a page token that repeats ends the run, runs a crash cut short are
// closed, refused keys pause the schedule and failures back off. All in virtual time.
#include <algorithm>

#include "tests/actor_world.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;
using nlohmann::json;
using namespace std::chrono;

namespace {

int64_t at(const char* iso) {
  return to_ms(*parse_iso(iso));
}

}  // namespace

TEST_CASE("set-aside records stay on the list and keep Error until imported or dismissed") {
  world w;
  w.data.invalidate("payments", 3, at("2026-11-01T00:00:00Z"));
  w.start();
  w.add("pay", "manual", true, 10);
  w.settle();
  auto s = w.status("pay");
  CHECK(s["status"] == "error");
  CHECK(s["health"] == "warning");
  CHECK(s["set_aside"] == 3);
  CHECK(s["last_error"]["message"].get<std::string>().rfind("3 records set aside (validation)",
                                                            0) == 0);
  auto list = w.call("set_aside", "pay").second["set_aside"];
  REQUIRE(list.size() == 3);
  CHECK(list[0]["missing"] == json::array({"amount"}));
  CHECK(list[0]["record"].is_object());
  CHECK(list[0]["first_seen"] == "2026-11-23T10:00:00.000Z");

  // The next incremental run does not see them again: before, the status went back to Active.
  w.data.mutate("invoices", 1, at("2026-11-23T10:01:00Z"));
  w.call("sync", "pay");
  w.settle();
  s = w.status("pay");
  CHECK(s["last_sync"] != nullptr);
  CHECK(s["status"] == "error");
  CHECK(s["set_aside"] == 3);
  CHECK(w.call("show", "pay").second["set_aside"].size() == 3);

  // Two are corrected upstream: the next run imports them and takes them off the list.
  w.data.repair("payments", 2, at("2026-11-23T10:02:00Z"));
  w.call("sync", "pay");
  w.settle();
  s = w.status("pay");
  CHECK(s["set_aside"] == 1);
  CHECK(w.lmdb->record_counts("pay")["payments"] == 119);
  CHECK(w.count_events("pay", "set_aside_imported") == 2);

  // The last one is accepted as unfixable: the log keeps who.
  auto last = w.call("set_aside", "pay").second["set_aside"][0]["id"].get<std::string>();
  auto [code, d] = w.call("dismiss", "pay", {{"id", last}, {"by", "alice"}});
  CHECK(code == 0);
  CHECK(d["set_aside"] == 0);
  CHECK(w.call("dismiss", "pay", {{"id", last}, {"by", "alice"}}).first == 4);  // not twice
  s = w.status("pay");
  CHECK(s["status"] == "active");
  bool logged = false;
  for (auto& l : w.lmdb->logs("pay", 1000)) {
    auto e = json::parse(l);
    if (e["event"] == "set_aside_dismissed") logged = e["by"] == "alice" && e["record_id"] == last;
  }
  CHECK(logged);
  CHECK(w.call("set_aside", "pay").second["set_aside"].empty());
  CHECK(w.call("set_aside", "pay", {{"include_dismissed", true}}).second["set_aside"].size() == 1);

  // A full run re-checks all: the dismissed record comes back unchanged and stays dismissed.
  w.call("sync", "pay", {{"full", true}});
  w.settle();
  CHECK(w.status("pay")["set_aside"] == 0);
  CHECK(w.status("pay")["status"] == "active");
}

TEST_CASE("a page token that repeats ends the run with an upstream error, not retried") {
  world w;
  w.start();
  for (int i = 0; i < 50; ++i)
    w.transport->scripted.push_back(
        answer(200, R"({"data":[{"id":"p1","updated_at":"2026-11-01T00:00:00Z","amount":1}],)"
                    R"("has_more":true,"next_cursor":"SAME"})"));
  w.add("loop");
  w.settle(hours(2));
  auto s = w.status("loop");
  CHECK(s["running"] == false);
  CHECK(s["status"] == "error");
  CHECK(s["last_error"]["category"] == "upstream");
  CHECK(s["last_error"]["message"].get<std::string>().find("'SAME' a second time") !=
        std::string::npos);
  CHECK(w.transport->urls.size() == 2);  // no retries of an answer that fails every time
}

TEST_CASE("runs a crash left running are closed as interrupted; the resume names them") {
  world w;
  w.start();
  w.add("acme", "manual", false);
  w.leave_interrupted_run("acme");
  w.restart();
  w.settle();
  auto run1 = json::parse(*w.lmdb->run("acme", 1));
  CHECK(run1["status"] == "interrupted");
  CHECK(run1.contains("finished"));
  auto run2 = json::parse(*w.lmdb->run("acme", 2));
  CHECK(run2["kind"] == "resume");
  CHECK(run2["resumes"] == 1);
  CHECK(run2["status"] == "ok");
  CHECK(w.count_events("acme", "run_interrupted") == 1);
  for (auto& text : w.lmdb->runs("acme", 10)) CHECK(json::parse(text)["status"] != "running");
}

TEST_CASE("a run whose end hits a full disk is recorded once the disk has room") {
  world w;
  w.start();
  w.store->fail_once_if = [](const write_batch& b) {
    return b.run_patch.find("\"finished\"") != std::string::npos;
  };
  w.add("acme");
  w.settle();
  w.sched->advance_time(seconds(11));
  w.sched->run();
  auto run1 = json::parse(*w.lmdb->run("acme", 1));
  CHECK(run1["status"] == "ok");
  CHECK(json::parse(*w.lmdb->integration_doc("acme"))["status"]["active_run_id"] == 0);
}

TEST_CASE("a refused key pauses the schedule until test passes; then it runs again") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(401, R"({"error":{"message":"Invalid API Key provided"}})"));
  w.add("acme", "every 1m", true);
  w.settle(minutes(1));
  auto s = w.status("acme");
  CHECK(s["status"] == "disconnected");
  CHECK(s["last_error"]["hint"].get<std::string>().find("reconfigure") != std::string::npos);
  CHECK(s["paused"].get<std::string>().find("waiting for a new API key") == 0);
  auto calls = w.transport->urls.size();
  for (int i = 0; i < 10; ++i) {  // ten scheduled fires: none reaches the upstream
    w.sched->advance_time(minutes(1));
    w.sched->run();
  }
  CHECK(w.transport->urls.size() == calls);
  CHECK(w.count_events("acme", "schedule_paused") == 1);  // logged once, not every minute
  CHECK(w.call("test", "acme").first == 0);
  CHECK(w.status("acme")["paused"].is_null());
  w.sched->advance_time(minutes(1));
  w.settle();
  CHECK(w.transport->urls.size() > calls + 1);
  CHECK(w.status("acme")["status"] == "active");
}

TEST_CASE("an integration that keeps failing backs off its scheduled attempts") {
  world w;
  w.start();
  for (int i = 0; i < 200; ++i)
    w.transport->scripted.push_back(answer(503, R"({"error":{"message":"down"}})"));
  w.add("acme", "every 1m", false);
  int64_t runs_before = 0;
  for (int i = 0; i < 30 * 60; ++i) {  // half an hour of one-minute fires, second by second
    w.sched->advance_time(seconds(1));
    w.sched->run();
  }
  auto s = w.status("acme");
  runs_before = s["last_run_id"].get<int64_t>();
  // 1, 2, 4, 8, 16 minutes apart: about 5 runs in 30 minutes, not 30.
  CHECK(runs_before >= 3);
  CHECK(runs_before <= 7);
  CHECK(s["paused"].get<std::string>().find("backing off") == 0);
  CHECK(s["health"] == "warning");
}

TEST_CASE("a completed full pass turns records gone upstream into tombstones; a failed one not") {
  world w;
  w.start();
  w.add("acme", "manual", true, 10);
  w.settle();
  w.data.remove("customers", 5);
  w.call("sync", "acme");  // incremental: cannot see a vanished record
  w.settle();
  CHECK(w.lmdb->record_counts("acme")["customers"] == 120);

  // A full pass whose last page cannot commit deletes nothing.
  w.store->fail_once_if = [](const write_batch& b) { return !b.sweep.empty(); };
  w.call("sync", "acme", {{"full", true}});
  w.settle();
  CHECK(w.status("acme")["last_outcome"] == "failed");
  CHECK(w.lmdb->record_counts("acme")["customers"] == 120);

  // The next run finishes the pass: only now are the five marked deleted.
  auto seq = w.lmdb->last_change_seq();
  w.call("sync", "acme", {{"full", true}});
  w.settle();
  CHECK(w.lmdb->record_counts("acme")["customers"] == 115);
  CHECK(w.lmdb->records("acme", "customers", "", "", 1000).size() == 115);
  auto all = w.lmdb->records("acme", "customers", "", "", 1000, true);
  CHECK(all.size() == 120);
  CHECK(std::count_if(all.begin(), all.end(), [](auto& r) { return r.deleted; }) == 5);
  int deletes = 0;
  for (auto& c : w.lmdb->changes(seq, 1000)) deletes += json::parse(c.doc)["op"] == "delete";
  CHECK(deletes == 5);
  auto rows = w.call("records", "acme", {{"stream", "customers"}, {"include_deleted", true}});
  CHECK(rows.second["records"].size() == 120);
  // Another full pass finds nothing new to delete.
  seq = w.lmdb->last_change_seq();
  w.call("sync", "acme", {{"full", true}});
  w.settle();
  CHECK(w.lmdb->last_change_seq() == seq);
}

TEST_CASE("a reconcile schedule runs full passes on its own slot") {
  world w;
  w.start();
  integration_config c;
  c.name = "rec";
  c.base_url = "http://sandbox.test";
  c.api_key = "k";
  c.schedule = "manual";
  c.reconcile = "daily 03:00 UTC";
  c.streams = default_rest_streams();
  auto [code, body] = w.call("add", "", {{"config", to_json(c, true)}, {"run_after_save", true}});
  REQUIRE(code == 0);
  w.settle();
  w.data.remove("invoices", 2);
  w.sched->advance_time(hours(18));  // past 03:00 the next day (the world starts at 10:00)
  w.settle();
  CHECK(w.lmdb->record_counts("rec")["invoices"] == 118);
  auto run = json::parse(*w.lmdb->run("rec", 2));
  CHECK(run["kind"] == "scheduled");
  CHECK(run["full"] == true);
}

TEST_CASE("a stop between a write and its flush commits the write before the writer goes") {
  world w;
  w.start();
  write_batch b;
  b.integration = "acme";
  b.run_id = 7;
  b.run_patch = R"({"run_id":7,"status":"ok","kind":"manual"})";
  // The stop is already queued when the write is taken, so the flush the write queues behind
  // itself comes after the stop.
  caf::anon_send(w.ctx->writer, write_atom::value, b);
  caf::anon_send_exit(w.ctx->writer, caf::exit_reason::user_shutdown);
  w.sched->run();
  auto run = w.lmdb->run("acme", 7);
  REQUIRE(run);
  CHECK(json::parse(*run)["status"] == "ok");
}
