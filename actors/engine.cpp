// The engine: registry and supervisor of integration actors. It answers the operations that
// change something (ops/operations.hpp, route supervisor), each through the integration's
// actor, which owns it; reads of stored state are the queries' (actors/queries.cpp), which ask
// it only for the live integration actors.
//
// Supervision: each integration actor is monitored. An unexpected exit restarts it from what
// storage holds (its cursors are durable, so an interrupted pass resumes); more than
// `max_restarts` within `restart_window` leaves it stopped with status Error and the reason.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <deque>

#include "actors/context.hpp"
#include "actors/requests.hpp"
#include "config/config_change.hpp"
#include "config/integration_config.hpp"
#include "config/schedule.hpp"
#include "connectors/registry.hpp"
#include "core/status_model.hpp"

namespace ledgersync {

using nlohmann::json;

namespace {

struct supervised {
  integration_actor hdl;  // null while stopped after a crash storm
  std::deque<caf::actor_clock::time_point> restarts;
  bool stopping = false;
};

struct engine_state {
  context_ptr ctx;
  scheduler_actor sched;
  std::string token;
  std::map<std::string, supervised> live;
  static inline const char* name = "engine";
};

using self_ptr = engine_actor::stateful_pointer<engine_state>;
using reply_promise = caf::typed_response_promise<client_reply>;

int64_t now_ms(self_ptr self) {
  return to_ms(self->state.ctx->now(self->clock().now()));
}

// `catch_up`: a fire missed while the service (or the actor) was down runs once now. Not after
// enable or a settings change: fires skipped while disabled were skipped on purpose.
void schedule_of(self_ptr self, const std::string& name, const std::string& doc_text,
                 bool catch_up) {
  auto j = json::parse(doc_text, nullptr, false);
  auto cfg = j.value("config", json::object());
  auto facts = status_facts::from_json(j.value("status", json::object()));
  auto& e = self->state.live[name];
  if (!e.hdl) return;
  if (!cfg.value("enabled", true)) {
    self->send(self->state.sched, unschedule_atom::value, name);
    self->send(e.hdl, next_run_atom::value, int64_t{0});
    return;
  }
  auto last_fire = catch_up ? std::max(facts.last_scheduled_ms, facts.created_at_ms) : 0;
  self->send(self->state.sched, schedule_atom::value, name, cfg.value("schedule", "manual"),
             last_fire, false, e.hdl);
  // Reconcile passes are heavy and weekly at most: a missed one waits for its next slot.
  self->send(self->state.sched, schedule_atom::value, name, cfg.value("reconcile", "manual"),
             int64_t{0}, true, e.hdl);
}

void start_integration(self_ptr self, const std::string& name, const std::string& doc,
                       bool catch_up) {
  auto hdl = spawn_integration(self->system(), self->state.ctx, doc);
  self->monitor(hdl);
  self->state.live[name].hdl = hdl;
  self->state.live[name].stopping = false;
  schedule_of(self, name, doc, catch_up);
}

void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (auto i = st.live.begin(); i != st.live.end(); ++i) {
    auto& e = i->second;
    if (!e.hdl || caf::actor_cast<caf::actor_addr>(e.hdl) != dm.source) continue;
    e.hdl = nullptr;
    if (e.stopping) {
      st.live.erase(i);
      return;
    }
    auto name = i->first;
    auto reason = caf::to_string(dm.reason);
    auto now = self->clock().now();
    while (!e.restarts.empty() && now - e.restarts.front() > st.ctx->restart_window)
      e.restarts.pop_front();
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

void after_save(self_ptr self, reply_promise rp, const std::string& name, bool run, json body) {
  auto& e = self->state.live[name];
  if (!run || !e.hdl) {
    rp.deliver(reply(body));
    return;
  }
  self->request(e.hdl, std::chrono::seconds(30), sync_atom::value,
                sync_request{sync_kind::after_save, false})
      .then(
          [rp, body](const sync_reply& r) mutable {
            body["sync"] = {{"outcome", sync_outcome_name(r.outcome)},
                            {"run_id", r.run_id},
                            {"message", r.message}};
            rp.deliver(reply(body));
          },
          [rp, body](const caf::error& err) mutable {
            body["sync"] = {{"outcome", "failed"}, {"message", caf::to_string(err)}};
            rp.deliver(reply(body));
          });
}

json connector_names() {
  json names = json::array();
  for (auto& k : connector_kinds()) names.push_back(k.name);
  return names;
}

reply_promise op_add(self_ptr self, const ops::add_args& args) {
  auto rp = self->make_response_promise<client_reply>();
  std::string err;
  // A new integration's defaults, for every surface: its connector kind's streams and base URL
  // unless the request names its own (config/config_change.hpp; config_from_json defaults the
  // rest).
  auto conf = args.config;
  auto kind_name = conf.is_object() && conf.contains("connector") && conf["connector"].is_string()
                       ? conf["connector"].get<std::string>()
                       : std::string(default_connector_kind);
  auto* kind = find_connector_kind(kind_name);
  if (!kind)
    return rp.deliver(fail(error_kind::invalid_argument,
                           "invalid settings: unknown connector '" + kind_name +
                               "' (known: " + known_connector_kinds() + ")",
                           json{{"hint", "The connectors list describes each kind."},
                                {"action", {{"op", "connectors"}, {"name", ""}}},
                                {"connectors", connector_names()}})),
           rp;
  conf = with_kind_defaults(std::move(conf), *kind);
  auto cfg = config_from_json(conf, err);
  if (!cfg) return rp.deliver(fail(error_kind::invalid_argument, err)), rp;
  if (auto v = validate(*cfg); !v.empty())
    return rp.deliver(fail(error_kind::invalid_argument, "invalid settings: " + v)), rp;
  if (self->state.live.count(cfg->name) || self->state.ctx->store->integration_doc(cfg->name)) {
    // A conflict, not a usage error: the request itself was well formed.
    return rp.deliver(fail(error_kind::conflict,
                           "an integration named '" + cfg->name + "' already exists",
                           ops::hint_with_action("Pick another name, or change the settings of "
                                                 "the one there is.",
                                                 "configure", cfg->name))),
           rp;
  }
  cfg->created_at_ms = now_ms(self);
  status_facts facts;
  facts.created_at_ms = cfg->created_at_ms;
  auto doc = make_integration_doc(*cfg, *self->state.ctx->secrets, facts.to_json().dump());
  write_batch b;
  b.integration = cfg->name;
  b.at_ms = cfg->created_at_ms;
  b.integration_doc = doc;
  b.log_events.push_back(log_event(now_ms(self), "info", "added",
                                   "integration added (" + cfg->connector + ", " + cfg->base_url +
                                       ", " + cfg->schedule + ")")
                             .dump());
  auto name = cfg->name;
  bool run = args.run_after_save && cfg->enabled;
  self->request(self->state.ctx->writer, caf::infinite, write_atom::value, std::move(b))
      .then(
          [self, rp, name, doc, run](const batch_result&) mutable {
            start_integration(self, name, doc, false);
            after_save(self, rp, name, run, json{{"added", name}});
          },
          [rp](const caf::error& e) mutable {
            rp.deliver(fail(error_kind::unavailable, "could not save: " + caf::to_string(e)));
          });
  return rp;
}

reply_promise op_configure(self_ptr self, const std::string& name,
                           const ops::configure_args& args) {
  auto rp = self->make_response_promise<client_reply>();
  auto current = stored_config(*self->state.ctx, name);
  auto& e = self->state.live[name];
  if (!current) return self->state.live.erase(name), rp.deliver(no_integration(name)), rp;
  auto change = change_config(name, std::move(*current), args.changes);
  if (!change.config) return rp.deliver(fail(error_kind::invalid_argument, change.error)), rp;
  auto& cfg = change.config;
  auto body = std::move(change.answer);
  if (!e.hdl) {  // stopped after crashes: new settings get a fresh start
    e.restarts.clear();
    auto doc = self->state.ctx->store->integration_doc(name);
    start_integration(self, name, *doc, false);
  }
  bool run = args.run_after_save && cfg->enabled;
  auto text = to_json(*cfg, true).dump();
  self->request(e.hdl, std::chrono::seconds(30), configure_atom::value, text)
      .then(
          [self, rp, name, run, body](bool) mutable {
            if (auto doc = self->state.ctx->store->integration_doc(name))
              schedule_of(self, name, *doc, false);
            after_save(self, rp, name, run, std::move(body));
          },
          [rp](const caf::error& err) mutable {
            rp.deliver(fail(error_kind::unavailable, "could not save: " + caf::to_string(err)));
          });
  return rp;
}

reply_promise op_enable(self_ptr self, const std::string& name, bool on) {
  auto rp = self->make_response_promise<client_reply>();
  auto doc = self->state.ctx->store->integration_doc(name);
  if (!doc) return self->state.live.erase(name), rp.deliver(no_integration(name)), rp;
  auto& e = self->state.live[name];
  if (!e.hdl) {
    e.restarts.clear();
    start_integration(self, name, *doc, false);
  }
  self->request(e.hdl, std::chrono::seconds(30), enable_atom::value, on)
      .then(
          [self, rp, name, on](bool) mutable {
            if (auto d = self->state.ctx->store->integration_doc(name))
              schedule_of(self, name, *d, false);
            rp.deliver(reply(json{{on ? "enabled" : "disabled", name}}));
          },
          [rp](const caf::error& err) mutable {
            rp.deliver(fail(error_kind::unavailable, caf::to_string(err)));
          });
  return rp;
}

reply_promise op_remove(self_ptr self, const std::string& name) {
  auto rp = self->make_response_promise<client_reply>();
  if (!self->state.ctx->store->integration_doc(name))
    return self->state.live.erase(name), rp.deliver(no_integration(name)), rp;
  auto& e = self->state.live[name];
  self->send(self->state.sched, unschedule_atom::value, name);
  if (e.hdl) {
    e.stopping = true;
    self->send_exit(e.hdl, caf::exit_reason::user_shutdown);
  } else {
    self->state.live.erase(name);
  }
  write_batch b;
  b.integration = name;
  b.at_ms = now_ms(self);
  b.remove_integration = true;
  self->request(self->state.ctx->writer, caf::infinite, write_atom::value, std::move(b))
      .then(
          [self, rp, name](const batch_result&) mutable {
            if (self->state.ctx->feed) self->send(self->state.ctx->feed, removed_atom::value, name);
            rp.deliver(reply(json{{"removed", name}}));
          },
          [rp](const caf::error& err) mutable {
            rp.deliver(fail(error_kind::unavailable, caf::to_string(err)));
          });
  return rp;
}

// Asks the integration's actor; `done` turns its answer into the reply.
template <class Reply, class F, class... Ts>
reply_promise ask_actor(self_ptr self, const std::string& name, std::chrono::seconds timeout,
                        F done, Ts... xs) {
  auto rp = self->make_response_promise<client_reply>();
  auto& e = self->state.live[name];
  if (!e.hdl) {
    rp.deliver(fail(
        error_kind::unavailable, name + " is stopped after repeated crashes",
        ops::hint_with_action("Check the service log; enabling it restarts it.", "enable", name)));
    return rp;
  }
  self->request(e.hdl, timeout, xs...)
      .then([rp, done](const Reply& r) mutable { rp.deliver(done(r)); },
            [rp](const caf::error& err) mutable {
              rp.deliver(fail(error_kind::unavailable, caf::to_string(err)));
            });
  return rp;
}

reply_promise now(self_ptr self, client_reply r) {
  auto rp = self->make_response_promise<client_reply>();
  rp.deliver(std::move(r));
  return rp;
}

// The supervisor's operations, chosen by the type of their parsed arguments. Reads are the
// queries' (actors/queries.cpp): the front door sends them there.
struct dispatch {
  self_ptr self;
  const std::string& name;
  const std::string& by;  // who asks (the request's), for what records it

  reply_promise operator()(const ops::ping_args&) {
    return now(self, reply(json{{"service", "ledgersync"},
                                {"protocol", protocol_version},
                                {"pid", ::getpid()},
                                {"integrations", self->state.live.size()}}));
  }
  reply_promise operator()(const ops::add_args& a) { return op_add(self, a); }
  reply_promise operator()(const ops::configure_args& a) { return op_configure(self, name, a); }
  reply_promise operator()(const ops::enable_args&) { return op_enable(self, name, true); }
  reply_promise operator()(const ops::disable_args&) { return op_enable(self, name, false); }
  reply_promise operator()(const ops::remove_args&) { return op_remove(self, name); }
  reply_promise operator()(const ops::test_args&) {
    auto n = name;
    return ask_actor<std::string>(
        self, name, std::chrono::seconds(120),
        [n](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          if (j.value("ok", false)) return reply(j);
          if (j.contains("action") && j["action"].is_object()) j["action"]["name"] = n;
          auto r = fail(error_kind::upstream_failed, j.value("message", "the test failed"), j);
          return r;
        },
        test_atom::value);
  }
  reply_promise operator()(const ops::sync_args& a) {
    auto n = name;
    return ask_actor<sync_reply>(
        self, name, std::chrono::seconds(30),
        [n](const sync_reply& r) {
          json body{{"outcome", sync_outcome_name(r.outcome)},
                    {"run_id", r.run_id},
                    {"retry_after_ms", r.retry_after_ms},
                    {"message", r.message}};
          if (r.outcome == sync_outcome::rate_limited) {
            auto out = fail(error_kind::rate_limited, r.message, body);
            out.retry_after_ms = r.retry_after_ms;
            return out;
          }
          if (r.outcome == sync_outcome::disabled) {
            body.update(ops::hint_with_action("The integration is disabled.", "enable", n));
            return fail(error_kind::conflict, r.message, body);
          }
          return reply(body);
        },
        sync_atom::value, sync_request{sync_kind::manual, a.full});
  }
  reply_promise operator()(const ops::dismiss_args& a) {
    auto by = a.by.empty() ? std::string("unknown user") : a.by;
    return ask_actor<std::string>(
        self, name, std::chrono::seconds(30),
        [](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          if (!j.contains("error")) return reply(j);
          return fail(error_kind::not_found, j.value("error", ""), j);
        },
        dismiss_atom::value, a.stream, a.id, by);
  }
  reply_promise operator()(const ops::connect_args& a) {
    json args{
        {"step", a.step}, {"redirect_uri", a.redirect_uri}, {"code", a.code}, {"state", a.state}};
    auto n = name;
    // The code exchange waits for the vendor's token endpoint (its own timeout is 30 s).
    return ask_actor<std::string>(
        self, name, std::chrono::seconds(90),
        [n](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          if (!j.is_object()) return fail(error_kind::internal, "connect: unreadable answer");
          if (!j.contains("error")) return reply(j);
          auto kind =
              j.value("from_vendor", false) ? error_kind::upstream_failed : error_kind::conflict;
          auto msg = j.value("error", "");
          j.erase("from_vendor");
          return fail(kind, msg, j);
        },
        connect_atom::value, args.dump());
  }
  reply_promise operator()(const ops::push_args& a) {
    // The request's own `by` (the API token's name, the CLI's user) over what the arguments say.
    json args{{"by", !by.empty() ? by : a.by.empty() ? std::string("an unnamed client") : a.by}};
    if (a.retry)
      args["retry"] = a.retry;
    else
      args["entity"] = a.entity;
    if (!a.ndjson.empty()) args["ndjson"] = a.ndjson;
    if (a.items.is_array()) args["items"] = a.items;
    return ask_actor<std::string>(
        self, name, std::chrono::seconds(60),
        [](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          if (!j.is_object()) return fail(error_kind::internal, "push: unreadable answer");
          if (!j.contains("error")) return reply(j);
          return fail(error_kind::invalid_argument, j.value("error", ""), j);
        },
        push_atom::value, args.dump());
  }
  template <class Read>
  reply_promise operator()(const Read&) {
    return now(self, fail(error_kind::internal, "reads are answered by the queries, not here"));
  }
};

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
  for (auto& doc : ctx->store->integration_docs()) {
    auto j = json::parse(doc, nullptr, false);
    if (!j.is_object() || !j.contains("config")) continue;
    auto name = j["config"].value("name", "");
    if (!j.value("status", json::object()).value("crash", "").empty()) {
      self->state.live[name];  // stays stopped until enabled or reconfigured
      continue;
    }
    start_integration(self, name, doc, true);
  }
  return {[=](client_request& req) -> reply_promise {
            sample_backlog(self, "engine");
            // Every integration has an entry in `live` (a stopped one too) from start-up or
            // its add until its removal: the registry answers, not storage.
            auto admitted =
                admit([self](const std::string& n) { return self->state.live.count(n) > 0; },
                      self->state.token, req);
            if (auto* refused = std::get_if<client_reply>(&admitted))
              return now(self, std::move(*refused));
            auto* spec = ops::find(req.op);
            auto target = req.name;
            if (auto* add = std::get_if<ops::add_args>(&std::get<ops::op_args>(admitted)))
              target = add->config.value("name", "");
            if (spec && spec->needs == ops::role::admin && !target.empty()) {
              // Who asked for each change, before it is made: the events that follow say
              // what it did.
              write_batch audit;
              audit.integration = target;
              auto by = req.by.empty() ? std::string("an unnamed client") : req.by;
              auto ev = log_event(now_ms(self), "info", "change_requested",
                                  std::string(spec->name) + " requested by " + by);
              ev["by"] = by;
              ev["op"] = std::string(spec->name);
              audit.log_events.push_back(ev.dump());
              self->request(self->state.ctx->writer, caf::infinite, write_atom::value,
                            std::move(audit))
                  .then([](const batch_result&) {}, [](const caf::error&) {});
            }
            return std::visit(dispatch{self, req.name, req.by}, std::get<ops::op_args>(admitted));
          },
          [=](live_atom) {
            live_integrations out;
            for (auto& [name, e] : self->state.live)
              if (e.hdl && !e.stopping) out.entries.emplace_back(name, e.hdl);
            return out;
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
  cfg.add_message_type<live_integrations>("ledgersync::live_integrations");
}

}  // namespace ledgersync
