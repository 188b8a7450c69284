// The world the actor tests run in: every actor of a service on CAF's test coordinator (one
// thread, a clock that moves only when told), real LMDB behind a fault-injecting wrapper, and
// the sandbox's dataset behind an in-memory transport. Shared by the actor test files.
#pragma once

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <nlohmann/json.hpp>

#include "actors/context.hpp"
#include "cli/errors.hpp"
#include "config/integration_config.hpp"
#include "core/status_model.hpp"
#include "ops/operations.hpp"
#include "sandbox/sandbox_data.hpp"
#include "tests/connector_fixtures.hpp"
#include "tests/faulty_storage.hpp"

namespace ledgersync::testing {

using nlohmann::json;
using namespace std::chrono;

// Answers from the sandbox dataset; scripted answers (faults) go first; `hang` never answers.
class dataset_transport final : public http_transport {
 public:
  explicit dataset_transport(sandbox::dataset& d) : data_(d) {}
  std::deque<http_response> scripted;
  bool hang = false;
  std::vector<std::string> urls;

  void fetch(http_request req, callback done) override {
    urls.push_back(req.url);
    if (hang) return;
    if (!scripted.empty()) {
      auto r = scripted.front();
      scripted.pop_front();
      return done(r);
    }
    sandbox::page_query q;
    long limit = 0;
    sandbox::read_list_target(req.url, q, limit);
    q.limit = static_cast<size_t>(limit);
    http_response r;
    r.status = data_.page(q, r.body) ? 200 : 400;
    done(std::move(r));
  }

 private:
  sandbox::dataset& data_;
};

struct world {
  temp_dir dir;
  std::unique_ptr<storage> lmdb;
  std::unique_ptr<faulty_storage> store;
  secret_box box = secret_box::with_key("test-master-key");
  sandbox::dataset data{120, 9};
  std::shared_ptr<dataset_transport> transport = std::make_shared<dataset_transport>(data);
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<service_context> ctx;
  scheduler_actor scheduler;
  engine_actor engine;
  caf::actor queries;
  size_t query_workers = 2;
  bool detached_queries = false;  // a test of real concurrency puts them on threads of their own

  explicit world(size_t prune_step = 500) {
    std::string err;
    lmdb = open_lmdb_storage(dir.path, err);
    store = std::make_unique<faulty_storage>(*lmdb);
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    ctx = std::make_shared<service_context>();
    ctx->store = store.get();
    ctx->secrets = &box;
    ctx->make_transport = [t = transport](const tls_options&) { return t; };
    ctx->clock.anchor_wall = *parse_iso("2026-11-23T10:00:00Z");
    ctx->clock.anchor_steady = sys->clock().now();
    ctx->writer = spawn_log_writer(*sys, store.get(), false,
                                   log_writer_options{ctx->clock, minutes(1), prune_step});
  }
  ~world() {
    caf::anon_send_exit(queries, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ctx->writer, caf::exit_reason::user_shutdown);
    sched->run();
  }

  void start() {
    scheduler = spawn_scheduler(*sys, ctx);
    engine = spawn_engine(*sys, ctx, scheduler, "tok");
    queries = spawn_queries(*sys, ctx, engine, "tok", query_workers, detached_queries);
    sched->run();
  }

  error_kind last_kind = error_kind::none;
  int64_t last_retry_after_ms = 0;

  // The exit code the CLI would give for the reply's kind, and the reply's body.
  // Where the front door sends `op`: the queries for reads, the engine for the rest.
  caf::actor route(const std::string& op) {
    auto* spec = ops::find(op);
    if (spec && spec->route == ops::route::queries) return queries;
    return caf::actor_cast<caf::actor>(engine);
  }

  std::pair<int, json> call(const std::string& op, const std::string& name,
                            json args = json::object()) {
    caf::scoped_actor self{*sys};
    client_request req;
    req.token = "tok";
    req.op = op;
    req.name = name;
    req.args = args.dump();
    self->send(route(op), req);
    sched->run();
    std::pair<int, json> out{-1, json()};
    self->receive(
        [&](const client_reply& r) {
          // Every kind an operation answers with is one the table declares for it.
          if (auto* spec = ops::find(op)) CHECK(ops::declares(*spec, r.kind));
          out = {cli::exit_code_for(r.kind), json::parse(r.body)};
          last_kind = r.kind;
          last_retry_after_ms = r.retry_after_ms;
        },
        caf::after(std::chrono::seconds(0)) >> [] {});
    return out;
  }

  void add(const std::string& name, const std::string& schedule = "manual", bool run = true,
           uint32_t burst = 2) {
    integration_config c;
    c.name = name;
    c.base_url = "http://sandbox.test";
    c.api_key = "sk_test_sandbox";
    c.schedule = schedule;
    c.streams = default_rest_streams();
    for (auto& s : c.streams) s.page_size = 50;
    c.manual_burst = burst;
    c.retry.max_attempts = 3;
    auto [code, body] = call("add", "", {{"config", to_json(c, true)}, {"run_after_save", run}});
    REQUIRE(code == 0);
  }

  json status(const std::string& name) { return call("status", name).second; }
  // Runs everything due now, then moves time forward until nothing is pending (bounded).
  void settle(milliseconds max = hours(1)) {
    sched->run();
    auto end = sys->clock().now() + max;
    while (sys->clock().now() < end) {
      if (status_running_none()) break;
      if (!sched->trigger_timeout()) break;
      sched->run();
    }
  }
  // How many of `name`'s sync-log events are `event`.
  int count_events(const std::string& name, const std::string& event) {
    int n = 0;
    for (auto& l : lmdb->logs(name, 100000))
      if (json::parse(l)["event"] == event) ++n;
    return n;
  }

  // What a run that failed midway leaves: a pass under way, no run marked active.
  void leave_pass_under_way(const std::string& name) {
    write_batch b;
    b.integration = name;
    b.cursors["customers"] = R"({"watermark":"","in_pass":true,"page_token":"","pages":1})";
    batch_result r;
    REQUIRE(lmdb->apply(b, r).ok());
  }

  // What a kill -9 in the middle of `name`'s run 1 leaves: its record "running", the pass
  // under way.
  void leave_interrupted_run(const std::string& name) {
    auto doc = json::parse(*lmdb->integration_doc(name));
    doc["status"]["active_run_id"] = 1;
    doc["status"]["last_run_id"] = 1;
    write_batch b;
    b.integration = name;
    b.run_id = 1;
    b.run_patch = R"({"run_id":1,"status":"running","kind":"manual"})";
    b.integration_doc = doc.dump();
    b.cursors["customers"] = R"({"watermark":"","in_pass":true,"page_token":"","pages":1})";
    batch_result r;
    REQUIRE(lmdb->apply(b, r).ok());
  }

  // The engine, its integration actors and the queries start again, as after a restart.
  void restart() {
    caf::anon_send_exit(queries, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    sched->run();
    start();
  }

  bool status_running_none() {
    auto all = call("list", "").second;
    for (auto& s : all)
      if (s.value("running", false)) return false;
    return true;
  }
};

}  // namespace ledgersync::testing
