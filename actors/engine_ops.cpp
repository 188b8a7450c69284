// The operations the engine answers (ops/operations.hpp, route supervisor): each change goes
// through the integration's actor, which owns it (woken first if asleep); who asked is
// recorded before it is made.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "actors/engine_state.hpp"
#include "actors/requests.hpp"
#include "config/config_change.hpp"
#include "config/integration_config.hpp"
#include "config/schedule.hpp"
#include "connectors/connector.hpp"
#include "connectors/registry.hpp"

namespace ledgersync::engine_detail {

namespace {

// An integration stopped after crashes gets a fresh start (new settings, enable).
void restart_if_stopped(self_ptr self, const std::string& name) {
  auto& e = self->state.live[name];
  if (e.hdl || e.resting) return;
  e.restarts.clear();
  if (auto doc = self->state.ctx->store->integration_doc(name))
    start_integration(self, name, *doc, false);
}

void after_save(self_ptr self, reply_promise rp, const std::string& name, bool run, json body) {
  if (!run) {
    rp.deliver(reply(body));
    return;
  }
  with_actor(self, name, [self, rp, body](integration_actor a) mutable {
    if (!a) {
      rp.deliver(reply(body));
      return;
    }
    self->request(a, std::chrono::seconds(30), sync_atom::value,
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
  if (!current) return self->state.live.erase(name), rp.deliver(no_integration(name)), rp;
  auto change = change_config(name, std::move(*current), args.changes);
  if (!change.config) return rp.deliver(fail(error_kind::invalid_argument, change.error)), rp;
  auto& cfg = change.config;
  auto body = std::move(change.answer);
  restart_if_stopped(self, name);  // new settings get a fresh start
  bool run = args.run_after_save && cfg->enabled;
  auto text = to_json(*cfg, true).dump();
  with_actor(self, name, [self, rp, name, run, body, text](integration_actor a) mutable {
    if (!a) {
      rp.deliver(no_integration(name));
      return;
    }
    self->request(a, std::chrono::seconds(30), configure_atom::value, text)
        .then(
            [self, rp, name, run, body](bool) mutable {
              if (auto doc = self->state.ctx->store->integration_doc(name))
                schedule_of(self, name, *doc, false);
              after_save(self, rp, name, run, std::move(body));
            },
            [rp](const caf::error& err) mutable {
              rp.deliver(fail(error_kind::unavailable, "could not save: " + caf::to_string(err)));
            });
  });
  return rp;
}

reply_promise op_enable(self_ptr self, const std::string& name, bool on) {
  auto rp = self->make_response_promise<client_reply>();
  if (!self->state.ctx->store->integration_doc(name))
    return self->state.live.erase(name), rp.deliver(no_integration(name)), rp;
  restart_if_stopped(self, name);
  with_actor(self, name, [self, rp, name, on](integration_actor a) mutable {
    if (!a) {
      rp.deliver(no_integration(name));
      return;
    }
    self->request(a, std::chrono::seconds(30), enable_atom::value, on)
        .then(
            [self, rp, name, on](bool) mutable {
              if (auto d = self->state.ctx->store->integration_doc(name))
                schedule_of(self, name, *d, false);
              rp.deliver(reply(json{{on ? "enabled" : "disabled", name}}));
            },
            [rp](const caf::error& err) mutable {
              rp.deliver(fail(error_kind::unavailable, caf::to_string(err)));
            });
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
  with_actor(self, name, [self, rp, name, timeout, done, xs...](integration_actor a) mutable {
    if (!a && !self->state.live.count(name)) {  // removed while the request waited
      rp.deliver(no_integration(name));
      return;
    }
    if (!a) {
      rp.deliver(fail(error_kind::unavailable, name + " is stopped after repeated crashes",
                      ops::hint_with_action("Check the service log; enabling it restarts it.",
                                            "enable", name)));
      return;
    }
    self->request(a, timeout, xs...)
        .then([rp, done](const Reply& r) mutable { rp.deliver(done(r)); },
              [rp](const caf::error& err) mutable {
                rp.deliver(fail(error_kind::unavailable, caf::to_string(err)));
              });
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

}  // namespace

reply_promise answer(self_ptr self, client_request& req) {
  sample_backlog(self, "engine");
  // Every integration has an entry in `live` (a stopped one too) from start-up or
  // its add until its removal: the registry answers, not storage.
  auto admitted = admit([self](const std::string& n) { return self->state.live.count(n) > 0; },
                        self->state.token, req);
  if (auto* refused = std::get_if<client_reply>(&admitted)) return now(self, std::move(*refused));
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
    self->request(self->state.ctx->writer, caf::infinite, write_atom::value, std::move(audit))
        .then([](const batch_result&) {}, [](const caf::error&) {});
  }
  return std::visit(dispatch{self, req.name, req.by}, std::get<ops::op_args>(admitted));
}

}  // namespace ledgersync::engine_detail
