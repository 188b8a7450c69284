// The engine: registry and supervisor of integration actors. It answers the operations that
// change something (actors/engine_ops.cpp), each through the integration's actor, which owns
// it; reads of stored state are the queries' (actors/queries.cpp), which ask it only which
// integrations are awake and what the asleep ones' status says.
//
// Supervision: each integration actor is monitored. An unexpected exit restarts it from what
// storage holds (its cursors are durable, so an interrupted pass resumes); more than
// `max_restarts` within `restart_window` leaves it stopped with status Error and the reason.
//
// Sleep: an integration has an actor only while it has something to do. Start-up makes one
// only for an integration with work left (a run a stop interrupted, a pass to resume, pushes
// to send); the others are asleep: the engine keeps what their status says and the scheduler
// their next fire. A fire or an operation that needs the actor wakes it from the stored
// document and what the last actor handed over; an actor idle for `sleep_after` is asked to
// sleep, and everything meant for it waits for its answer, so nothing reaches a stopped actor.
// 10,000 idle integrations cost the engine's entries, not 10,000 actors with their
// connectors, transports and timers.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "actors/engine_state.hpp"
#include "actors/requests.hpp"
#include "config/config_change.hpp"
#include "config/integration_config.hpp"
#include "config/schedule.hpp"
#include "connectors/connector.hpp"
#include "connectors/registry.hpp"

namespace ledgersync {

namespace engine_detail {

int64_t now_ms(self_ptr self) {
  return to_ms(self->state.ctx->now(self->clock().now()));
}

// When `name`'s next scheduled run is due: told to the actor if awake, kept for its status
// (and the next actor) either way. Not published for an asleep one: only start-up changes it
// (an operation or a fire wakes it first), before the status feed's first full reading.
void set_next_run(self_ptr self, const std::string& name, int64_t at_ms) {
  auto it = self->state.live.find(name);
  if (it == self->state.live.end()) return;
  auto& e = it->second;
  e.next_run_ms = at_ms;
  if (e.hdl) {
    self->send(e.hdl, next_run_atom::value, at_ms);
  } else if (e.resting && e.resting->next_run_ms != at_ms) {
    auto in = std::make_shared<status_inputs>(*e.resting);
    in->next_run_ms = at_ms;
    e.resting = in;
  }
}

// `j`'s object `key`, or an empty one: read in place, never copied.
const json& member(const json& j, const char* key) {
  static const json none = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : none;
}

// `catch_up`: a fire missed while the service (or the actor) was down runs once now. Not after
// enable or a settings change: fires skipped while disabled were skipped on purpose.
void schedule_of(self_ptr self, const std::string& name, const json& j, bool catch_up) {
  auto& cfg = member(j, "config");
  auto& e = self->state.live[name];
  if (!e.hdl && !e.resting) return;  // stopped after crashes
  if (!cfg.value("enabled", true)) {
    self->send(self->state.sched, unschedule_atom::value, name);
    set_next_run(self, name, 0);
    return;
  }
  auto me = caf::actor_cast<engine_actor>(self);
  auto facts = status_facts::from_json(member(j, "status"));
  auto last_fire = catch_up ? std::max(facts.last_scheduled_ms, facts.created_at_ms) : 0;
  // At start-up (and a restart, which follows the last change) a manual schedule has no entry
  // to drop: 10,000 manual integrations need no message to the scheduler.
  for (bool full : {false, true}) {
    auto spec = cfg.value(full ? "reconcile" : "schedule", "manual");
    if (catch_up && spec == "manual") continue;
    // Reconcile passes are heavy and weekly at most: a missed one waits for its next slot.
    self->send(self->state.sched, schedule_atom::value, name, spec, full ? int64_t{0} : last_fire,
               full, me);
  }
}

void schedule_of(self_ptr self, const std::string& name, const std::string& doc_text,
                 bool catch_up) {
  schedule_of(self, name, json::parse(doc_text, nullptr, false), catch_up);
}

// An actor for `name`, from its stored document; `woken` is what the one that slept handed
// over (slept false: none).
void spawn_actor(self_ptr self, const std::string& name, const std::string& doc,
                 integration_rest woken) {
  auto& e = self->state.live[name];
  e.hdl = spawn_integration(self->system(), self->state.ctx, doc,
                            caf::actor_cast<engine_actor>(self), std::move(woken));
  self->monitor(e.hdl);
  e.resting.reset();
  e.stopping = false;
}

void start_integration(self_ptr self, const std::string& name, const std::string& doc,
                       bool catch_up) {
  spawn_actor(self, name, doc, {});
  schedule_of(self, name, doc, catch_up);
}

// What an asleep integration's status needs, from what its actor handed over.
std::shared_ptr<const status_inputs> resting_inputs(const std::string& name,
                                                    const integration_rest& r, status_facts facts,
                                                    int64_t next_run_ms) {
  auto in = std::make_shared<status_inputs>();
  in->name = name;
  in->connector = r.connector;
  in->schedule = r.schedule;
  in->enabled = r.enabled;
  in->next_run_ms = next_run_ms;
  std::string err;
  auto sched = schedule::parse(r.schedule, err);
  in->stale_after_ms = sched ? sched->stale_after().count() : 0;
  in->scheduled = sched && !sched->is_manual();
  in->facts = std::move(facts);
  return in;
}

// Wakes an asleep integration; false when its document is gone (removed meanwhile).
bool wake(self_ptr self, const std::string& name) {
  auto& e = self->state.live[name];
  auto doc = self->state.ctx->store->integration_doc(name);
  if (!doc) return false;
  integration_rest woken{true,
                         e.resting->facts.to_json().dump(),
                         e.resting->connector,
                         e.resting->schedule,
                         e.resting->enabled,
                         e.next_run_ms,
                         e.last_skip_reason};
  spawn_actor(self, name, *doc, std::move(woken));
  return true;
}

// Runs `use` with `name`'s actor: at once when awake, after waking it when asleep, after the
// answer to a sleep request when one is out. A null actor: stopped after crashes (or gone).
void with_actor(self_ptr self, const std::string& name, actor_use use) {
  auto it = self->state.live.find(name);
  if (it == self->state.live.end()) return use(integration_actor{});
  auto& e = it->second;
  if (e.dozing) return e.held.push_back(std::move(use));
  if (!e.hdl && e.resting && !wake(self, name)) return use(integration_actor{});
  use(e.hdl);
}

// Drops a removed integration's entry; what waited for its sleep answer is told it is gone.
void forget(self_ptr self, std::map<std::string, supervised>::iterator it) {
  auto held = std::move(it->second.held);
  self->state.live.erase(it);
  for (auto& use : held) use(integration_actor{});
}

// The answer to a sleep request (`r` null: none came). Whatever waited for it goes on, to the
// same actor or to a new one.
void settle_sleep(self_ptr self, const std::string& name, const integration_actor& who,
                  const integration_rest* r) {
  auto it = self->state.live.find(name);
  if (it == self->state.live.end()) return;
  auto& e = it->second;
  e.dozing = false;
  bool slept = r && r->slept && e.hdl == who;
  if (slept && e.stopping) {  // removed while it fell asleep: no down message will say so
    forget(self, it);
    return;
  }
  if (slept) {
    e.hdl = nullptr;
    e.last_skip_reason = r->last_skip_reason;
    auto facts = status_facts::from_json(json::parse(r->facts, nullptr, false));
    e.resting = resting_inputs(name, *r, std::move(facts), e.next_run_ms);
  }
  auto held = std::move(e.held);
  e.held.clear();
  for (auto& use : held) with_actor(self, name, std::move(use));
}

// Start-up: whether `name` has work left that needs its actor now, rather than at its next
// fire or operation: a run the stop interrupted (closed, and its pass resumed), a pass to
// resume, or pushes to send. The actor's construction checks the same.
// Settings that do not read also need it: its failing start shows them as a crash at once.
// `facts` hold the outbox's push counts.
bool work_left(self_ptr self, const std::string& name, const json& cfg, const status_facts& facts) {
  auto& store = *self->state.ctx->store;
  if (facts.active_run_id != 0) return true;
  bool enabled = cfg.value("enabled", true);
  std::string err;
  auto readable = cfg;  // what the actor reads once its secrets are unsealed
  for (auto* sealed : {"api_key_sealed", "tls_client_key_sealed", "settings_sealed"})
    readable.erase(sealed);
  if (!config_from_json(readable, err)) return true;
  if (!enabled) return false;  // its pushes and its pass wait for it to be enabled
  if (facts.push_open > 0) return true;
  // Only a cursor that says true somewhere can be in a pass: the others need no parse.
  for (auto& [stream, text] : store.cursors(name))
    if (text.find("true") != std::string::npos && stream_cursor::from_json(text).in_pass)
      return true;
  return false;
}

void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (auto i = st.live.begin(); i != st.live.end(); ++i) {
    auto& e = i->second;
    if (!e.hdl || caf::actor_cast<caf::actor_addr>(e.hdl) != dm.source) continue;
    e.hdl = nullptr;
    if (e.stopping) {
      forget(self, i);
      return;
    }
    auto name = i->first;
    auto reason = caf::to_string(dm.reason);
    auto now = self->clock().now();
    std::erase_if(e.restarts, [&](auto at) { return now - at > st.ctx->restart_window; });
    auto doc = st.ctx->store->integration_doc(name);
    if (!doc) return;
    if (static_cast<int>(e.restarts.size()) < st.ctx->max_restarts) {
      e.restarts.push_back(now);
      spdlog::warn("engine: {} stopped unexpectedly ({}); restart {} of {}", name, reason,
                   e.restarts.size(), st.ctx->max_restarts);
      start_integration(self, name, *doc, true);
      return;
    }
    auto msg = "stopped after " + std::to_string(e.restarts.size() + 1) + " crashes within " +
               std::to_string(st.ctx->restart_window.count()) + "s; last: " + reason;
    spdlog::error("engine: {} {}", name, msg);
    self->send(st.sched, unschedule_atom::value, name);
    auto j = json::parse(*doc, nullptr, false);
    j["status"]["crash"] = msg;
    write_batch b;
    b.integration = name;
    b.at_ms = now_ms(self);
    b.integration_doc = j.dump();
    auto ev = log_event(b.at_ms, "error", "crashed", msg);
    ev["category"] = "crash";
    b.log_events.push_back(ev.dump());
    self->request(st.ctx->writer, caf::infinite, write_atom::value, std::move(b))
        .then([](const batch_result&) {}, [](const caf::error&) {});
    return;
  }
}

}  // namespace engine_detail

namespace {

using namespace engine_detail;

engine_actor::behavior_type engine_fn(self_ptr self, context_ptr ctx, scheduler_actor sched,
                                      std::string token) {
  self->state.ctx = ctx;
  self->state.sched = sched;
  self->state.token = std::move(token);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  // Integration actors are monitored, not linked (a crash must not take the engine down), so
  // the engine's own exit has to be passed on to them explicitly.
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& [name, e] : self->state.live) {
      if (!e.hdl) continue;
      e.stopping = true;
      self->send_exit(e.hdl, em.reason);
    }
    self->quit(em.reason);
  });
  auto began = std::chrono::steady_clock::now();
  size_t awake = 0;
  for (auto& doc : ctx->store->integration_docs()) {
    auto j = json::parse(doc, nullptr, false);
    if (!j.is_object() || !j.contains("config") || !j["config"].is_object()) continue;
    auto& cfg = j["config"];
    auto name = cfg.value("name", "");
    auto facts = status_facts::from_json(member(j, "status"));
    if (!facts.crash.empty()) {
      self->state.live[name];  // stays stopped until enabled or reconfigured
      continue;
    }
    // The push counts its status shows come from the outbox, as an actor's do.
    facts.count_pushes(ctx->store->outbox_counts(name));
    if (work_left(self, name, cfg, facts)) {
      start_integration(self, name, doc, true);
      ++awake;
      continue;
    }
    integration_rest r{true,
                       "",
                       cfg.value("connector", std::string(default_connector_kind)),
                       cfg.value("schedule", "manual"),
                       cfg.value("enabled", true),
                       0,
                       ""};
    self->state.live[name].resting = resting_inputs(name, r, std::move(facts), 0);
    schedule_of(self, name, j, true);
  }
  spdlog::info("engine: {} integrations taken up in {} ms, {} of them with work left (awake)",
               self->state.live.size(),
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - began)
                   .count(),
               awake);
  return {
      [=](client_request& req) -> reply_promise { return answer(self, req); },
      [=](live_atom, const std::string& which) {
        live_integrations out;
        auto take = [&out](const std::string& name, const supervised& e) {
          if (e.hdl && !e.stopping)
            out.entries.emplace_back(name, e.hdl);
          else if (e.resting)
            out.resting.emplace_back(name, e.resting);
        };
        if (which.empty()) {
          out.entries.reserve(self->state.live.size());
          out.resting.reserve(self->state.live.size());
          for (auto& [name, e] : self->state.live) take(name, e);
        } else if (auto it = self->state.live.find(which); it != self->state.live.end()) {
          take(it->first, it->second);
        }
        return out;
      },
      [=](sync_atom, const std::string& name,
          const sync_request& req) -> caf::typed_response_promise<sync_reply> {
        auto rp = self->make_response_promise<sync_reply>();
        with_actor(self, name, [self, rp, req](integration_actor a) mutable {
          if (!a) {
            rp.deliver(sync_reply{sync_outcome::skipped, 0, 0,
                                  "stopped after repeated crashes, or removed"});
            return;
          }
          self->request(a, std::chrono::seconds(30), sync_atom::value, req)
              .then([rp](const sync_reply& r) mutable { rp.deliver(r); },
                    [rp](const caf::error& err) mutable { rp.deliver(err); });
        });
        return rp;
      },
      [=](next_run_atom, const std::string& name, int64_t at_ms) {
        set_next_run(self, name, at_ms);
      },
      [=](idle_atom, const std::string& name, integration_actor who) {
        auto it = self->state.live.find(name);
        if (it == self->state.live.end()) return;
        auto& e = it->second;
        if (e.hdl != who || e.dozing || e.stopping) return;
        e.dozing = true;
        // No timeout: an answer that came after one would find the actor taken for
        // awake, and its normal exit for a crash. A dead actor answers with an error.
        self->request(who, caf::infinite, sleep_atom::value)
            .then(
                [self, name, who](const integration_rest& r) { settle_sleep(self, name, who, &r); },
                [self, name, who](const caf::error&) { settle_sleep(self, name, who, nullptr); });
      }};
}

}  // namespace

engine_actor spawn_engine(caf::actor_system& sys, context_ptr ctx, scheduler_actor sched,
                          std::string token) {
  return sys.spawn(engine_fn, std::move(ctx), std::move(sched), std::move(token));
}

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<error_info>("ledgersync::error_info");
  cfg.add_message_type<http_response>("ledgersync::http_response");
  cfg.add_message_type<record_write>("ledgersync::record_write");
  cfg.add_message_type<write_batch>("ledgersync::write_batch");
  cfg.add_message_type<batch_result>("ledgersync::batch_result");
  cfg.add_message_type<sync_request>("ledgersync::sync_request");
  cfg.add_message_type<sync_reply>("ledgersync::sync_reply");
  cfg.add_message_type<client_request>("ledgersync::client_request");
  // Protocol 1's reply keeps its type name so that either side decodes the other's
  // version-mismatch answer; this protocol's reply has a name of its own.
  cfg.add_message_type<client_reply_v1>("ledgersync::client_reply");
  cfg.add_message_type<client_reply>("ledgersync::client_reply_v2");
  cfg.add_message_type<integration_actor>("ledgersync::integration_actor");
  cfg.add_message_type<integration_rest>("ledgersync::integration_rest");
}

}  // namespace ledgersync
