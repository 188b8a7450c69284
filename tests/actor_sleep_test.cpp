// Integrations that sleep (engine_actor): an idle integration has no actor, its status comes
// from what the engine keeps, and whatever needs the actor (a scheduled fire, an operation)
// wakes it. All in virtual time.
#include "tests/actor_world.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;

namespace {

// (integration actors awake, integrations asleep) that the engine names for `name`.
std::pair<size_t, size_t> presence(world& w, const std::string& name) {
  caf::scoped_actor self{*w.sys};
  self->send(caf::actor_cast<caf::actor>(w.engine), live_atom::value, name);
  w.sched->run();
  std::pair<size_t, size_t> out{99, 99};
  self->receive(
      [&](const live_integrations& l) {
        out = {l.entries.size(), l.resting.size()};
      },
      caf::after(std::chrono::seconds(0)) >> [] {});
  return out;
}

integration_actor awake_actor(world& w, const std::string& name) {
  caf::scoped_actor self{*w.sys};
  self->send(caf::actor_cast<caf::actor>(w.engine), live_atom::value, name);
  w.sched->run();
  integration_actor out;
  self->receive(
      [&](const live_integrations& l) {
        if (!l.entries.empty()) out = l.entries.front().second;
      },
      caf::after(std::chrono::seconds(0)) >> [] {});
  return out;
}

const std::pair<size_t, size_t> awake{1, 0}, asleep{0, 1}, absent{0, 0};

// The doze timer of an actor made now: one `sleep_after` later.
void doze(world& w) {
  w.sched->advance_time(w.ctx->sleep_after);
  w.sched->run();
}

// An integration synced once by hand, then asleep.
void add_and_sleep(world& w, const std::string& name) {
  w.add(name, "manual", true);
  w.settle(seconds(10));
  doze(w);
  REQUIRE(presence(w, name) == asleep);
}

// Moves the clock to the ISO time `iso` (in the future) and runs what is due.
void advance_to(world& w, const std::string& iso) {
  auto due = *parse_iso(iso);
  auto now = w.ctx->now(w.sys->clock().now());
  REQUIRE(due > now);
  w.sched->advance_time(due - now);
  w.settle(minutes(1));
}

}  // namespace

TEST_CASE("an idle integration sleeps, tells the same status, and wakes on time for its fire") {
  world w;
  w.start();
  w.add("acme", "every 15m", true);
  w.settle(seconds(10));
  auto before = w.status("acme");
  REQUIRE(before["last_run_id"] == 1);
  CHECK(presence(w, "acme") == awake);
  doze(w);
  CHECK(presence(w, "acme") == asleep);
  auto after = w.status("acme");
  // The same document but for the clock's own fields.
  for (auto* moving : {"now", "last_success_ago", "last_sync_ago"}) {
    before.erase(moving);
    after.erase(moving);
  }
  CHECK(after == before);
  auto list = w.call("list", "").second;
  REQUIRE(list.size() == 1);
  CHECK(list[0]["last_run_id"] == 1);

  // The fire wakes it, at the minute the status announced.
  auto due = before["next_run"].get<std::string>();
  advance_to(w, due);
  auto run2 = json::parse(*w.lmdb->run("acme", 2));
  CHECK(run2["kind"] == "scheduled");
  CHECK(run2["status"] == "ok");
  CHECK(run2["started"].get<std::string>().substr(0, 19) == due.substr(0, 19));
  CHECK(w.status("acme")["last_run_id"] == 2);
}

TEST_CASE("an operation on an asleep integration wakes it and is answered") {
  world w;
  w.start();
  add_and_sleep(w, "acme");
  auto [code, body] = w.call("sync", "acme");
  CHECK(code == 0);
  CHECK(body["outcome"] == "started");
  CHECK(body["run_id"] == 2);
  w.settle(seconds(10));
  CHECK(w.status("acme")["last_run_id"] == 2);
  CHECK(presence(w, "acme") == awake);
  // A manual sync spent from the limit keeps the actor awake until the limit is full again:
  // a new actor would forget it and allow more than the limit.
  doze(w);
  CHECK(presence(w, "acme") == awake);
  w.sched->advance_time(minutes(5));
  w.sched->run();
  doze(w);
  CHECK(presence(w, "acme") == asleep);
  // Settings: disable and enable an asleep integration.
  CHECK(w.call("disable", "acme").first == 0);
  CHECK(w.status("acme")["status"] == "disabled");
  doze(w);
  CHECK(presence(w, "acme") == asleep);
  CHECK(w.status("acme")["status"] == "disabled");
  CHECK(w.call("enable", "acme").first == 0);
  CHECK(w.status("acme")["enabled"] == true);
  // Removal of an asleep integration leaves nothing behind.
  doze(w);
  REQUIRE(presence(w, "acme") == asleep);
  CHECK(w.call("remove", "acme").first == 0);
  CHECK(presence(w, "acme") == absent);
  CHECK(w.call("list", "").second.empty());
  CHECK(w.call("status", "acme").first != 0);
}

TEST_CASE("a request that comes while the integration falls asleep is answered by the next actor") {
  world w;
  w.start();
  w.add("acme", "manual", true);
  w.settle(seconds(10));
  w.sched->advance_time(seconds(5));  // the run's upstream pacing is full again: idle
  w.sched->run();
  auto first = awake_actor(w, "acme");
  REQUIRE(first);
  // The actor says it is idle; the sync arrives while the engine's sleep request is out.
  caf::anon_send(w.engine, idle_atom::value, std::string("acme"), first);
  auto [code, body] = w.call("sync", "acme");
  CHECK(code == 0);
  CHECK(body["outcome"] == "started");
  w.settle(seconds(10));
  CHECK(w.status("acme")["last_run_id"] == 2);
  CHECK(json::parse(*w.lmdb->run("acme", 2))["status"] == "ok");
  auto second = awake_actor(w, "acme");
  REQUIRE(second);
  CHECK(second != first);
}

TEST_CASE("start-up leaves idle integrations asleep and wakes those with work left") {
  world w;
  w.start();
  w.add("idle", "manual", false);
  w.add("acme", "manual", false);
  w.add("pass", "manual", false);
  w.add("off", "manual", false);
  REQUIRE(w.call("disable", "off").first == 0);
  // A pass left under way without a run marked active (a failed run's), enabled and not.
  for (auto* name : {"pass", "off"}) w.leave_pass_under_way(name);
  w.leave_interrupted_run("acme");
  w.restart();
  CHECK(presence(w, "idle") == asleep);
  CHECK(presence(w, "acme") == awake);
  CHECK(presence(w, "pass") == awake);
  CHECK(presence(w, "off") == asleep);
  CHECK(w.status("idle")["status"] == "pending");
  CHECK(w.status("off")["status"] == "disabled");
  w.settle();
  CHECK(json::parse(*w.lmdb->run("pass", 1))["kind"] == "resume");
  CHECK(!w.lmdb->run("off", 1));
  CHECK(json::parse(*w.lmdb->run("acme", 1))["status"] == "interrupted");
  CHECK(json::parse(*w.lmdb->run("acme", 2))["kind"] == "resume");
  CHECK(!w.lmdb->run("idle", 1));
}

TEST_CASE("a paused schedule logs its reason once, however often the integration sleeps") {
  world w;
  w.start();
  http_response refused;
  refused.status = 401;
  refused.body = R"({"error":"invalid api key"})";
  w.transport->scripted.push_back(refused);
  w.add("acme", "every 15m", true);
  w.settle(seconds(10));
  REQUIRE(w.status("acme")["last_error"]["category"] == "auth");
  doze(w);
  REQUIRE(presence(w, "acme") == asleep);
  for (int fire = 0; fire < 3; ++fire) {
    w.sched->advance_time(minutes(15) - w.ctx->sleep_after);
    w.sched->run();
    CHECK(presence(w, "acme") == awake);  // the fire reached it: it woke
    doze(w);
    CHECK(presence(w, "acme") == asleep);
  }
  CHECK(w.count_events("acme", "schedule_paused") == 1);
  CHECK(w.status("acme")["last_run_id"] == 1);
}

TEST_CASE("a wake for an operation starts no run, even with a pass left under way") {
  world w;
  w.start();
  add_and_sleep(w, "acme");
  w.leave_pass_under_way("acme");
  CHECK(w.call("test", "acme").first == 0);
  CHECK(presence(w, "acme") == awake);
  w.settle(seconds(10));
  CHECK(w.status("acme")["last_run_id"] == 1);
  CHECK(!w.lmdb->run("acme", 2));
}

TEST_CASE("a removal while the integration falls asleep answers what waited for it") {
  world w;
  w.start();
  w.add("acme", "manual", true);
  w.settle(seconds(10));
  w.sched->advance_time(seconds(5));
  w.sched->run();
  auto first = awake_actor(w, "acme");
  REQUIRE(first);
  caf::scoped_actor self{*w.sys};
  auto request = [](const char* op) {
    client_request r;
    r.token = "tok";
    r.op = op;
    r.name = "acme";
    return r;
  };
  // In the engine's mailbox, in this order: the actor is idle, a sync, the removal.
  caf::anon_send(w.engine, idle_atom::value, std::string("acme"), first);
  self->send(caf::actor_cast<caf::actor>(w.engine), request("sync"));
  self->send(caf::actor_cast<caf::actor>(w.engine), request("remove"));
  w.sched->run();
  std::vector<client_reply> replies;
  for (int i = 0; i < 2; ++i)
    self->receive([&](const client_reply& r) { replies.push_back(r); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
  REQUIRE(replies.size() == 2);
  // The sync was held for the sleep answer, then told the integration is gone.
  CHECK(replies[0].kind != error_kind::none);
  CHECK(replies[1].kind == error_kind::none);
  CHECK(presence(w, "acme") == absent);
  CHECK(w.call("list", "").second.empty());
}

TEST_CASE("disabling and enabling an asleep scheduled integration keeps its schedule") {
  world w;
  w.start();
  w.add("acme", "every 15m", false);
  doze(w);
  REQUIRE(presence(w, "acme") == asleep);
  REQUIRE(w.status("acme")["next_run"].is_string());
  CHECK(w.call("disable", "acme").first == 0);
  doze(w);
  REQUIRE(presence(w, "acme") == asleep);
  CHECK(w.status("acme")["next_run"].is_null());
  CHECK(w.status("acme")["status"] == "disabled");
  CHECK(w.call("enable", "acme").first == 0);
  doze(w);
  REQUIRE(presence(w, "acme") == asleep);
  auto s = w.status("acme");
  CHECK(s["enabled"] == true);
  REQUIRE(s["next_run"].is_string());
  // And the fire it announces comes.
  advance_to(w, s["next_run"].get<std::string>());
  auto run1 = w.lmdb->run("acme", 1);
  REQUIRE(run1);
  CHECK(json::parse(*run1)["kind"] == "scheduled");
}
