// The engine: registry and supervisor of integration actors, and the front door every client
// request comes through (token checked here). Reads go straight to storage; anything that
// changes an integration goes to its actor, which owns it.
//
// Supervision: each integration actor is monitored. An unexpected exit restarts it from what
// storage holds (its cursors are durable, so an interrupted pass resumes); more than
// `max_restarts` within `restart_window` leaves it stopped with status Error and the reason.
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <deque>
#include <set>

#include "actors/context.hpp"
#include "config/integration_config.hpp"
#include "config/schedule.hpp"
#include "core/status_model.hpp"
#include "ops/operations.hpp"
#include "storage/feed_reader.hpp"

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
  size_t parked = 0;  // `changes` long polls waiting for the feed to move
  static inline const char* name = "engine";
};

using self_ptr = engine_actor::stateful_pointer<engine_state>;
using reply_promise = caf::typed_response_promise<client_reply>;

client_reply reply(json body) {
  return client_reply{protocol_version, error_kind::none, 0, body.dump()};
}
client_reply fail(error_kind kind, const std::string& message, json extra = json::object()) {
  extra["error"] = message;
  return client_reply{protocol_version, kind, 0, extra.dump()};
}
client_reply no_integration(const std::string& name) {
  return fail(error_kind::not_found, "no integration named '" + name + "'");
}

int64_t now_ms(self_ptr self) {
  return to_ms(self->state.ctx->now(self->clock().now()));
}

// Status of an integration whose actor is not running (crashed), from storage alone.
json stored_status(self_ptr self, const std::string& name) {
  auto doc = self->state.ctx->store->integration_doc(name);
  auto j = json::parse(doc.value_or("{}"), nullptr, false);
  auto cfg = j.value("config", json::object());
  status_inputs in;
  in.name = name;
  in.connector = cfg.value("connector", "rest");
  in.schedule = cfg.value("schedule", "manual");
  in.enabled = cfg.value("enabled", true);
  in.now_ms = now_ms(self);
  in.facts = status_facts::from_json(j.value("status", json::object()));
  return status_json(in);
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

// Loads an integration's stored config (key unsealed) as JSON.
std::optional<json> stored_config(self_ptr self, const std::string& name) {
  auto doc = self->state.ctx->store->integration_doc(name);
  if (!doc) return std::nullopt;
  auto j = json::parse(*doc, nullptr, false);
  auto cfg = j.value("config", json::object());
  std::vector<std::string> failed;
  unseal_config(cfg, *self->state.ctx->secrets, failed);
  return cfg;
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

reply_promise op_add(self_ptr self, const ops::add_args& args) {
  auto rp = self->make_response_promise<client_reply>();
  std::string err;
  auto cfg = config_from_json(args.config, err);
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
  auto current = stored_config(self, name);
  auto& e = self->state.live[name];
  if (!current) return self->state.live.erase(name), rp.deliver(no_integration(name)), rp;
  auto& changes = args.changes;
  if (changes.contains("name") && changes["name"] != name)
    return rp.deliver(fail(error_kind::invalid_argument,
                           "an integration cannot be renamed; add a new one")),
           rp;
  for (auto& [k, v] : changes.items()) (*current)[k] = v;
  std::string err;
  auto cfg = config_from_json(*current, err);
  if (!cfg) return rp.deliver(fail(error_kind::invalid_argument, err)), rp;
  if (auto v = validate(*cfg); !v.empty())
    return rp.deliver(fail(error_kind::invalid_argument, "invalid settings: " + v)), rp;
  if (!e.hdl) {  // stopped after crashes: new settings get a fresh start
    e.restarts.clear();
    auto doc = self->state.ctx->store->integration_doc(name);
    start_integration(self, name, *doc, false);
  }
  bool run = args.run_after_save && cfg->enabled;
  auto text = to_json(*cfg, true).dump();
  self->request(e.hdl, std::chrono::seconds(30), configure_atom::value, text)
      .then(
          [self, rp, name, run](bool) mutable {
            if (auto doc = self->state.ctx->store->integration_doc(name))
              schedule_of(self, name, *doc, false);
            after_save(self, rp, name, run, json{{"configured", name}});
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
          [rp, name](const batch_result&) mutable {
            rp.deliver(reply(json{{"removed", name}}));
          },
          [rp](const caf::error& err) mutable {
            rp.deliver(fail(error_kind::unavailable, caf::to_string(err)));
          });
  return rp;
}

// Status of one or all integrations: live ones asked, stopped ones read from storage.
reply_promise op_status(self_ptr self, std::vector<std::string> names, bool single) {
  auto rp = self->make_response_promise<client_reply>();
  struct gather {
    std::vector<json> out;
    size_t pending = 0;
  };
  auto g = std::make_shared<gather>();
  g->out.resize(names.size());
  auto finish = [rp, g, single]() mutable {
    if (single)
      rp.deliver(reply(g->out.front()));
    else
      rp.deliver(reply(json(g->out)));
  };
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = self->state.live.find(names[i]);
    if (it == self->state.live.end() || !it->second.hdl) {
      g->out[i] = stored_status(self, names[i]);
      continue;
    }
    ++g->pending;
    auto name = names[i];
    self->request(it->second.hdl, std::chrono::seconds(10), status_atom::value)
        .then(
            [g, i, finish](const std::string& s) mutable {
              g->out[i] = json::parse(s, nullptr, false);
              if (--g->pending == 0) finish();
            },
            [self, g, i, name, finish](const caf::error&) mutable {
              g->out[i] = stored_status(self, name);
              g->out[i]["unresponsive"] = true;
              if (--g->pending == 0) finish();
            });
  }
  if (g->pending == 0) finish();
  return rp;
}

std::vector<std::string> all_names(self_ptr self) {
  std::vector<std::string> names;
  for (auto& d : self->state.ctx->store->integration_docs()) {
    auto j = json::parse(d, nullptr, false);
    if (j.is_object() && j.contains("config")) names.push_back(j["config"].value("name", ""));
  }
  return names;
}

client_reply op_show(self_ptr self, const std::string& name) {
  auto cfg = stored_config(self, name);
  if (!cfg) return no_integration(name);
  std::string err;
  auto parsed = config_from_json(*cfg, err);
  json out;
  out["config"] = parsed ? to_json(*parsed, false) : *cfg;
  auto& store = *self->state.ctx->store;
  out["records"] = store.record_counts(name);
  json cursors = json::object();
  for (auto& [s, c] : store.cursors(name)) cursors[s] = json::parse(c, nullptr, false);
  out["cursors"] = cursors;
  json runs = json::array();
  for (auto& r : store.runs(name, 5)) runs.push_back(json::parse(r, nullptr, false));
  out["recent_runs"] = runs;
  json aside = json::array();
  for (auto& text : store.set_aside(name)) {
    auto j = json::parse(text, nullptr, false);
    if (!j.is_object() || j.value("dismissed", false)) continue;
    aside.push_back(json{{"stream", j.value("stream", "")},
                         {"id", j.value("id", "")},
                         {"missing", j.value("missing", json::array())},
                         {"first_seen", j.value("first_seen", "")},
                         {"last_seen", j.value("last_seen", "")}});
    if (aside.size() >= 100) break;  // `ledgersync set-aside NAME` lists them all
  }
  out["set_aside"] = aside;
  // How much history is kept, beside the limits it is pruned to.
  auto& conf = out["config"];
  auto keep = retention_of(conf);
  auto h = store.history(name);
  out["retention"] = {
      {"events", h.events},
      {"runs", h.runs},
      {"oldest_event", h.oldest_event_at.empty() ? json(nullptr) : json(h.oldest_event_at)},
      {"keep_days", keep.days},
      {"keep_events", keep.events},
      {"keep_runs", keep.runs}};
  // Times in JSON output are ISO 8601 (the stored config keeps epoch ms).
  if (conf.contains("created_at_ms")) {
    auto ms = conf["created_at_ms"].is_number_integer() ? conf["created_at_ms"].get<int64_t>() : 0;
    conf.erase("created_at_ms");
    conf["created_at"] = ms > 0 ? json(format_iso(from_ms(ms))) : json(nullptr);
  }
  return reply(out);
}

// The change feed. A request with `wait_ms` that finds nothing new is parked until a commit
// moves the feed (the log writer answers the wait) or the wait is over (the request's timeout,
// on the actor clock), so a follower never busy-polls. Bounded: each wait at most 60 s (the
// operations table refuses more), at most `max_parked` at once; beyond that a wait is refused
// (answering it at once instead would turn its follower into a busy poll).
constexpr size_t max_parked = 1000;

client_reply feed_reply(self_ptr self, const feed_page& p) {
  return reply(json{{"changes", p.changes},
                    {"next_since", p.next_since},
                    {"last_seq", self->state.ctx->store->last_change_seq()}});
}

void await_feed(self_ptr self, reply_promise rp, feed_query q, caf::actor_clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - self->clock().now());
  if (left.count() <= 0) {
    rp.deliver(feed_reply(self, read_feed(*self->state.ctx->store, q)));
    return;
  }
  ++self->state.parked;
  self->request(self->state.ctx->writer, left, feed_wait_atom::value, q.since,
                static_cast<int64_t>(left.count()))
      .then(
          [self, rp, q, until](uint64_t) mutable {
            --self->state.parked;
            auto page = read_feed(*self->state.ctx->store, q);
            if (!page.changes.empty() || !page.caught_up) {
              rp.deliver(feed_reply(self, page));
              return;
            }
            q.since = page.next_since;  // moved, but only other integrations' entries: wait on
            await_feed(self, rp, q, until);
          },
          [self, rp, q](const caf::error&) mutable {
            --self->state.parked;
            rp.deliver(feed_reply(self, read_feed(*self->state.ctx->store, q)));
          });
}

reply_promise op_changes(self_ptr self, const ops::changes_args& args) {
  auto rp = self->make_response_promise<client_reply>();
  auto& store = *self->state.ctx->store;
  feed_query q;
  q.since = args.since;
  q.limit = args.limit;
  q.integration = args.integration;
  q.with_records = args.with_records;
  auto wait_ms = args.wait_ms;
  if (!q.integration.empty() && !store.integration_doc(q.integration))
    return rp.deliver(no_integration(q.integration)), rp;
  auto page = read_feed(store, q);
  if (wait_ms == 0 || !page.changes.empty() || !page.caught_up)
    return rp.deliver(feed_reply(self, page)), rp;
  if (self->state.parked >= max_parked)
    return rp.deliver(fail(error_kind::rate_limited,
                           "too many clients are following the change feed (" +
                               std::to_string(max_parked) + "); try again later")),
           rp;
  q.since = page.next_since;
  await_feed(self, rp, q, self->clock().now() + std::chrono::milliseconds(wait_ms));
  return rp;
}

// `records NAME --id ID [--stream S]`: the record in that stream, or in every stream that has
// one by that id.
client_reply read_record(self_ptr self, const std::string& name, const ops::records_args& args) {
  auto& store = *self->state.ctx->store;
  auto id = args.id.value_or("");
  auto& stream = args.stream;
  std::vector<std::string> streams;
  if (!stream.empty())
    streams.push_back(stream);
  else
    for (auto& [s, n] : store.record_counts(name)) streams.push_back(s);
  json out = json::array();
  bool with_deleted = args.include_deleted;
  for (auto& s : streams)
    if (auto r = store.record(name, s, id); r && (!r->deleted || with_deleted)) {
      json row{{"stream", r->stream},
               {"id", r->id},
               {"updated_at", r->updated_at},
               {"record", json::parse(r->body, nullptr, false)}};
      if (r->deleted) row["deleted"] = true;
      out.push_back(std::move(row));
    }
  if (out.empty())
    return fail(error_kind::not_found, "no record '" + id + "' in " + name +
                                           (stream.empty() ? "" : "'s stream '" + stream + "'"));
  return reply(out);
}

client_reply op_logs(self_ptr self, const std::string& name, const ops::logs_args& args) {
  json out = json::array();
  for (auto& l : self->state.ctx->store->logs(name, args.limit))
    out.push_back(json::parse(l, nullptr, false));
  return reply(out);
}

client_reply op_set_aside(self_ptr self, const std::string& name, const ops::set_aside_args& args) {
  json entries = json::array();
  for (auto& text : self->state.ctx->store->set_aside(name)) {
    auto j = json::parse(text, nullptr, false);
    if (!j.is_object() || (!args.include_dismissed && j.value("dismissed", false))) continue;
    j.erase("hash");
    entries.push_back(std::move(j));
  }
  return reply(json{{"integration", name}, {"set_aside", entries}});
}

client_reply op_run(self_ptr self, const std::string& name, const ops::run_args& args) {
  auto r = self->state.ctx->store->run(name, args.run_id);
  if (!r) return fail(error_kind::not_found, "no such run");
  return reply(json::parse(*r, nullptr, false));
}

client_reply op_records(self_ptr self, const std::string& name, const ops::records_args& args) {
  auto& store = *self->state.ctx->store;
  if (!args.stream.empty()) {
    auto& stream = args.stream;
    // The configured streams, and any a past configuration left records in.
    std::set<std::string> streams;
    auto doc = json::parse(store.integration_doc(name).value_or("{}"), nullptr, false);
    for (auto& s : doc.value("config", json::object()).value("streams", json::array()))
      if (s.is_object()) streams.insert(s.value("name", ""));
    for (auto& [s, n] : store.record_counts(name))
      if (n > 0) streams.insert(s);
    if (!streams.count(stream)) {
      std::string list;
      for (auto& s : streams) list += (list.empty() ? "" : ", ") + s;
      auto extra = ops::hint_with_action("Show lists its streams.", "show", name);
      extra["streams"] = streams;
      return fail(error_kind::not_found,
                  "no stream '" + stream + "' in " + name + "; its streams are " +
                      (list.empty() ? "none" : list),
                  extra);
    }
  }
  if (args.id) return read_record(self, name, args);
  json out = json::array();
  for (auto& r : store.records(name, args.stream, args.after_stream, args.after_id, args.limit,
                               args.include_deleted)) {
    json row{{"stream", r.stream},
             {"id", r.id},
             {"updated_at", r.updated_at},
             {"record", json::parse(r.body, nullptr, false)}};
    if (r.deleted) row["deleted"] = true;
    out.push_back(std::move(row));
  }
  return reply(out);
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

// One handler per operation of ops::operations(), chosen by the type of its parsed arguments:
// an operation without a handler does not compile.
struct dispatch {
  self_ptr self;
  const std::string& name;

  reply_promise operator()(const ops::ping_args&) {
    return now(self, reply(json{{"service", "ledgersync"},
                                {"protocol", protocol_version},
                                {"pid", ::getpid()},
                                {"integrations", all_names(self).size()}}));
  }
  reply_promise operator()(const ops::list_args&) {
    return op_status(self, all_names(self), false);
  }
  reply_promise operator()(const ops::status_args&) {
    if (name.empty()) return op_status(self, all_names(self), false);
    return op_status(self, {name}, true);
  }
  reply_promise operator()(const ops::show_args&) { return now(self, op_show(self, name)); }
  reply_promise operator()(const ops::add_args& a) { return op_add(self, a); }
  reply_promise operator()(const ops::configure_args& a) { return op_configure(self, name, a); }
  reply_promise operator()(const ops::enable_args&) { return op_enable(self, name, true); }
  reply_promise operator()(const ops::disable_args&) { return op_enable(self, name, false); }
  reply_promise operator()(const ops::remove_args&) { return op_remove(self, name); }
  reply_promise operator()(const ops::test_args&) {
    return ask_actor<std::string>(
        self, name, std::chrono::seconds(120),
        [](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          if (j.value("ok", false)) return reply(j);
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
  reply_promise operator()(const ops::logs_args& a) { return now(self, op_logs(self, name, a)); }
  reply_promise operator()(const ops::records_args& a) {
    return now(self, op_records(self, name, a));
  }
  reply_promise operator()(const ops::run_args& a) { return now(self, op_run(self, name, a)); }
  reply_promise operator()(const ops::set_aside_args& a) {
    return now(self, op_set_aside(self, name, a));
  }
  reply_promise operator()(const ops::changes_args& a) { return op_changes(self, a); }
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
    auto& st = self->state;
    if (req.version != protocol_version)
      return now(self,
                 fail(error_kind::invalid_argument,
                      "this CLI speaks protocol " + std::to_string(req.version) + ", the service " +
                          std::to_string(protocol_version) + ": upgrade the " +
                          (req.version > protocol_version ? "service" : "CLI")));
    if (req.token.size() != st.token.size() ||
        CRYPTO_memcmp(req.token.data(), st.token.data(), st.token.size()) != 0)
      return now(self, fail(error_kind::unauthorized,
                            "not authorised: the token does not match this service's"));
    auto* op = ops::find(req.op);
    if (!op)
      return now(self, fail(error_kind::invalid_argument, "unknown operation '" + req.op + "'",
                            {{"field", "op"}}));
    // The data dir's token is the local administrator's credential.
    if (!ops::allows(ops::role::admin, op->needs))
      return now(self, fail(error_kind::forbidden, req.op + " needs the admin role"));
    auto args = json::parse(req.args, nullptr, false);
    auto parsed = ops::parse_request(*op, req.name, args);
    if (auto* e = std::get_if<ops::op_error>(&parsed))
      return now(self, fail(e->kind, e->message, {{"field", e->field}}));
    if (op->target == ops::name_use::required ||
        (op->target == ops::name_use::optional && !req.name.empty())) {
      if (!st.ctx->store->integration_doc(req.name)) {
        st.live.erase(req.name);
        return now(self, no_integration(req.name));
      }
    }
    return std::visit(dispatch{self, req.name}, std::get<ops::op_args>(parsed));
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
}

}  // namespace ledgersync
