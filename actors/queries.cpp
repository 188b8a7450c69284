// The queries: the operations that read (ops/operations.hpp, route queries), off the engine's
// mailbox. A small pool of workers, each on its own thread in the service (LMDB reads block
// and MDB_NOTLS lets read transactions run on any thread), taking requests round-robin, so a
// slow read holds up neither the supervisor nor the other reads. Live state comes from whoever
// owns it, by message: the engine names the integration actors awake, each tells its status,
// and hands over the status inputs of those asleep; one stopped after crashes is described
// from storage.
#include <algorithm>
#include <unordered_map>

#include "actors/context.hpp"
#include "actors/requests.hpp"
#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "connectors/registry.hpp"
#include "core/status_model.hpp"
#include "storage/feed_reader.hpp"

namespace ledgersync {

using nlohmann::json;

namespace {

struct queries_state {
  context_ptr ctx;
  engine_actor engine;
  std::string token;
  // `changes` long polls waiting for the feed to move, across the pool.
  std::shared_ptr<std::atomic<size_t>> parked;
  static inline const char* name = "queries";
};

using self_ptr = queries_actor::stateful_pointer<queries_state>;
using reply_promise = caf::typed_response_promise<client_reply>;

reply_promise now(self_ptr self, client_reply r) {
  auto rp = self->make_response_promise<client_reply>();
  rp.deliver(std::move(r));
  return rp;
}

int64_t now_ms(self_ptr self) {
  return to_ms(self->state.ctx->now(self->clock().now()));
}

// Status of an integration stopped after crashes, from storage alone; nothing
// for a stored document without a config, which the supervisor does not take up either (it
// could be neither shown as working nor changed nor removed).
std::optional<json> stored_status(self_ptr self, const std::string& name) {
  auto doc = self->state.ctx->store->integration_doc(name);
  auto j = json::parse(doc.value_or("{}"), nullptr, false);
  if (!j.is_object() || !j.contains("config") || !j["config"].is_object()) return std::nullopt;
  auto& cfg = j["config"];
  status_inputs in;
  in.name = name;
  in.connector = cfg.value("connector", default_connector_kind);
  in.schedule = cfg.value("schedule", "manual");
  in.enabled = cfg.value("enabled", true);
  in.now_ms = now_ms(self);
  in.facts = status_facts::from_json(j.value("status", json::object()));
  return status_json(in);
}

// An actor gone between the engine naming it and its answer went to sleep (or crashed): the
// engine, which took its sleep answer first, now has what its status says. Storage alone
// would lose the next run and what the schedule pauses.
void status_after_sleep(self_ptr self, const std::string& name,
                        std::function<void(std::string)> done) {
  auto stored = [self, name]() -> std::string {
    auto doc = stored_status(self, name);
    return doc ? doc->dump() : std::string();
  };
  self->request(self->state.engine, caf::infinite, live_atom::value, name)
      .then(
          [self, done, stored](const live_integrations& l) {
            if (l.resting.empty()) return done(stored());
            auto in = *l.resting.front().second;
            in.now_ms = now_ms(self);
            done(status_text(in));
          },
          [done, stored](const caf::error&) { done(stored()); });
}

struct live_view {
  std::unordered_map<std::string, integration_actor> awake;
  std::unordered_map<std::string, std::shared_ptr<const status_inputs>> resting;
};

// Status of one or all integrations: awake ones asked, asleep ones from the engine's inputs,
// stopped ones read from storage. Each document comes as JSON text and goes into the reply as
// it is: `list` with 10,000 integrations used to parse every one into a tree and print it
// again.
void gather_status(self_ptr self, reply_promise rp, std::vector<std::string> names, bool single,
                   const live_view& live) {
  // Everything the answers share, once: each of N pending answers holds `finish`, and a copy
  // of the names in each made a `list` of 10,000 allocate 10^8 strings.
  struct gather {
    std::vector<std::string> names, out;
    size_t pending = 0;
  };
  auto g = std::make_shared<gather>();
  g->names = std::move(names);
  g->out.resize(g->names.size());
  // An empty text: a document left out (see stored_status).
  auto finish = [rp, g, single]() mutable {
    if (single) {
      if (g->out.front().empty())
        rp.deliver(no_integration(g->names.front()));
      else
        rp.deliver(client_reply{protocol_version, error_kind::none, 0, std::move(g->out.front())});
      return;
    }
    size_t size = 2;
    for (auto& d : g->out) size += d.size() + 1;
    std::string body;
    body.reserve(size);
    body += '[';
    for (auto& d : g->out) {
      if (d.empty()) continue;
      if (body.size() > 1) body += ',';
      body += d;
    }
    body += ']';
    rp.deliver(client_reply{protocol_version, error_kind::none, 0, std::move(body)});
  };
  auto now = now_ms(self);
  const auto& wanted = g->names;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (auto r = live.resting.find(wanted[i]); r != live.resting.end()) {
      auto in = *r->second;
      in.now_ms = now;
      g->out[i] = status_text(in);
      continue;
    }
    auto it = live.awake.find(wanted[i]);
    if (it == live.awake.end()) {
      if (auto doc = stored_status(self, wanted[i])) g->out[i] = doc->dump();
      continue;
    }
    ++g->pending;
    self->request(it->second, std::chrono::seconds(10), status_atom::value)
        .then(
            [g, i, finish](std::string s) mutable {
              g->out[i] = std::move(s);
              if (--g->pending == 0) finish();
            },
            [self, g, i, finish](const caf::error& err) mutable {
              if (err == caf::sec::request_receiver_down) {
                status_after_sleep(self, g->names[i], [g, i, finish](std::string doc) mutable {
                  g->out[i] = std::move(doc);
                  if (--g->pending == 0) finish();
                });
                return;
              }
              if (auto doc = stored_status(self, g->names[i])) {
                (*doc)["unresponsive"] = true;
                g->out[i] = doc->dump();
              }
              if (--g->pending == 0) finish();
            });
  }
  if (g->pending == 0) finish();
}

// The supervisor names the integration actors awake, each asked for its status, and hands
// over the status inputs of those asleep.
reply_promise op_status(self_ptr self, std::vector<std::string> names, bool single) {
  auto rp = self->make_response_promise<client_reply>();
  auto which = single ? names.front() : std::string();
  // No timeout of its own: the engine answers from memory, and a dead one fails the request
  // at once (then only stored status is shown). A timeout would leave a timer per read.
  self->request(self->state.engine, caf::infinite, live_atom::value, which)
      .then(
          [self, rp, names, single](const live_integrations& l) mutable {
            live_view live;
            live.awake.insert(l.entries.begin(), l.entries.end());
            live.resting.insert(l.resting.begin(), l.resting.end());
            gather_status(self, rp, names, single, live);
          },
          [self, rp, names, single](const caf::error&) mutable {
            gather_status(self, rp, names, single, {});  // stored status only
          });
  return rp;
}

client_reply op_show(self_ptr self, const std::string& name) {
  auto cfg = stored_config(*self->state.ctx, name);
  if (!cfg) return no_integration(name);
  std::string err;
  auto parsed = config_from_json(*cfg, err);
  json out;
  out["config"] = parsed ? to_json(*parsed, false) : *cfg;
  auto& store = *self->state.ctx->store;
  out["records"] = store.record_counts(name);
  json cursors = json::object();
  for (auto& [s, c] : store.cursors(name)) {
    // The engine's bookkeeping beside the connector's own state (JSON for the kinds so far).
    auto cur = stream_cursor::from_json(c);
    json shown = json::parse(cur.to_json(), nullptr, false);
    shown.erase("state");
    auto state = json::parse(cur.state, nullptr, false);
    if (state.is_object()) {
      for (auto& [k, v] : state.items())
        if (!shown.contains(k)) shown[k] = v;
    } else if (!cur.state.empty()) {
      shown["state"] = cur.state;
    }
    cursors[s] = shown;
  }
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
  ++*self->state.parked;
  self->request(self->state.ctx->writer, left, feed_wait_atom::value, q.since,
                static_cast<int64_t>(left.count()))
      .then(
          [self, rp, q, until](uint64_t) mutable {
            --*self->state.parked;
            auto page = read_feed(*self->state.ctx->store, q);
            if (!page.changes.empty() || !page.caught_up) {
              rp.deliver(feed_reply(self, page));
              return;
            }
            q.since = page.next_since;  // moved, but only other integrations' entries: wait on
            await_feed(self, rp, q, until);
          },
          [self, rp, q](const caf::error&) mutable {
            --*self->state.parked;
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
  if (*self->state.parked >= max_parked)
    return rp.deliver(fail(error_kind::rate_limited,
                           "too many clients are following the change feed (" +
                               std::to_string(max_parked) + "); try again later")),
           rp;
  q.since = page.next_since;
  await_feed(self, rp, q, self->clock().now() + std::chrono::milliseconds(wait_ms));
  return rp;
}

int level_rank(const std::string& level) {
  if (level == "error") return 3;
  if (level == "warn") return 2;
  if (level == "info") return 1;
  return 0;
}

// Oldest first, like a log file. With a filter, the newest `limit` matching events among the
// last 100,000 (the retention keeps fewer by default).
client_reply op_logs(self_ptr self, const std::string& name, const ops::logs_args& args) {
  bool filtered = args.run_id != 0 || !args.level.empty();
  auto rows = self->state.ctx->store->logs(name, filtered ? 100000 : args.limit);
  json out = json::array();
  auto min_rank = level_rank(args.level);
  for (auto& l : rows) {
    auto j = json::parse(l, nullptr, false);
    if (!j.is_object()) continue;
    if (args.run_id && j.value("run_id", uint64_t{0}) != args.run_id) continue;
    if (!args.level.empty() && level_rank(j.value("level", "")) < min_rank) continue;
    out.push_back(std::move(j));
  }
  if (out.size() > args.limit) out.erase(out.begin(), out.end() - static_cast<long>(args.limit));
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

// The outbox in order, filtered; `next_after` pages on. Items show their times as ISO 8601 and
// leave out the idempotency key (a vendor-side detail of no use to read).
client_reply op_pushes(self_ptr self, const std::string& name, const ops::pushes_args& args) {
  json items = json::array();
  uint64_t after = args.after, scanned_to = args.after;
  bool more = false;
  auto* store = self->state.ctx->store;
  auto entities = stream_entities(*store, name);
  // Filtering reads ahead in steps; a page ends at `limit` items or the outbox's end. A full
  // page reads on to the next match, which alone tells whether there is more.
  for (;;) {
    auto rows = store->outbox(name, after, 500, args.status);
    if (rows.empty()) break;
    for (auto& row : rows) {
      after = row.seq;
      auto j = json::parse(row.doc, nullptr, false);
      if (!j.is_object()) continue;
      if (!args.entity.empty() && j.value("entity", "") != args.entity) continue;
      if (!args.external_id.empty() && j.value("external_id", "") != args.external_id) continue;
      if (items.size() == args.limit) {
        more = true;
        break;
      }
      j["seq"] = row.seq;
      j.erase("idempotency_key");
      for (auto [ms, iso] : {std::pair{"accepted_ms", "accepted"}, {"updated_ms", "updated"}}) {
        if (auto v = j.find(ms); v != j.end() && v->is_number_integer()) {
          j[iso] = format_iso(from_ms(v->get<int64_t>()));
          j.erase(ms);
        }
      }
      // A record the vendor took is linked to its synced copy once a sync has read it.
      if (j.value("status", "") == "succeeded" && j.contains("vendor_id")) {
        json synced = nullptr;
        for (auto& [stream, entity] : entities) {
          if (entity != j.value("entity", "")) continue;
          auto rec = store->record(name, stream, j["vendor_id"].get<std::string>());
          if (!rec) continue;
          synced = {{"stream", stream}, {"updated_at", rec->updated_at}, {"deleted", rec->deleted}};
          break;
        }
        j["synced"] = synced;
      }
      scanned_to = row.seq;
      items.push_back(std::move(j));
    }
    if (more || rows.size() < 500) break;
  }
  json counts = json::object();
  for (auto& [k, v] : store->outbox_counts(name)) counts[k] = v;
  json out{{"integration", name}, {"items", items}, {"counts", counts}};
  out["next_after"] = more ? json(scanned_to) : json(nullptr);
  return reply(out);
}

client_reply op_run(self_ptr self, const std::string& name, const ops::run_args& args) {
  if (args.run_id == 0) {
    json runs = json::array();
    for (auto& text : self->state.ctx->store->runs(name, args.limit))
      runs.push_back(json::parse(text, nullptr, false));
    return reply(json{{"integration", name}, {"runs", runs}});
  }
  auto r = self->state.ctx->store->run(name, args.run_id);
  if (!r) return fail(error_kind::not_found, "no such run");
  return reply(json::parse(*r, nullptr, false));
}

// The run's document once its end is durable; where it stands if the wait ran out first. The
// integration actor knows when the end has landed; the document is read here, off its thread.
reply_promise op_wait(self_ptr self, const std::string& name, const ops::wait_args& args) {
  auto rp = self->make_response_promise<client_reply>();
  auto ended = [self, rp, name, run_id = args.run_id]() mutable {
    auto r = op_run(self, name, ops::run_args{run_id, 1});
    if (r.kind != error_kind::none)
      rp.deliver(std::move(r));
    else
      rp.deliver(reply(json{{"done", true}, {"run", json::parse(r.body, nullptr, false)}}));
  };
  self->request(self->state.engine, caf::infinite, live_atom::value, name)
      .then(
          [self, rp, name, args, ended](const live_integrations& l) mutable {
            auto it = std::find_if(l.entries.begin(), l.entries.end(),
                                   [&](auto& e) { return e.first == name; });
            if (it == l.entries.end()) {  // not running: nothing to wait for
              ended();
              return;
            }
            auto margin = std::chrono::milliseconds(args.timeout_ms) + std::chrono::seconds(10);
            self->request(it->second, margin, wait_atom::value, args.run_id, args.timeout_ms)
                .then(
                    [rp, ended](const std::string& s) mutable {
                      auto j = json::parse(s, nullptr, false);
                      if (j.value("done", false))
                        ended();
                      else
                        rp.deliver(reply(
                            json{{"done", false}, {"status", j.value("status", json::object())}}));
                    },
                    [ended](const caf::error&) mutable { ended(); });
          },
          [ended](const caf::error&) mutable { ended(); });
  return rp;
}

// Records by stream, by entity or by id: storage/feed_reader.hpp.
client_reply op_records(self_ptr self, const std::string& name, const ops::records_args& args) {
  auto r = read_records(*self->state.ctx->store, name, args);
  if (!r.not_found.empty()) return fail(error_kind::not_found, r.not_found, std::move(r.body));
  return reply(std::move(r.body));
}

// The read operations, chosen by the type of their parsed arguments. Writes are the
// supervisor's: the front door sends them there.
struct dispatch {
  self_ptr self;
  const std::string& name;

  reply_promise operator()(const ops::list_args&) {
    return op_status(self, self->state.ctx->store->integration_names(), false);
  }
  reply_promise operator()(const ops::status_args&) {
    if (name.empty()) return op_status(self, self->state.ctx->store->integration_names(), false);
    return op_status(self, {name}, true);
  }
  reply_promise operator()(const ops::show_args&) { return now(self, op_show(self, name)); }
  reply_promise operator()(const ops::logs_args& a) { return now(self, op_logs(self, name, a)); }
  reply_promise operator()(const ops::records_args& a) {
    return now(self, op_records(self, name, a));
  }
  reply_promise operator()(const ops::run_args& a) { return now(self, op_run(self, name, a)); }
  reply_promise operator()(const ops::wait_args& a) { return op_wait(self, name, a); }
  reply_promise operator()(const ops::set_aside_args& a) {
    return now(self, op_set_aside(self, name, a));
  }
  reply_promise operator()(const ops::changes_args& a) { return op_changes(self, a); }
  reply_promise operator()(const ops::pushes_args& a) {
    return now(self, op_pushes(self, name, a));
  }
  reply_promise operator()(const ops::connectors_args& a) {
    if (a.kind.empty()) return now(self, reply(connectors_json()));
    if (auto* kind = find_connector_kind(a.kind)) return now(self, reply(to_json(*kind, true)));
    return now(self,
               fail(error_kind::not_found,
                    "no connector kind '" + a.kind + "' (known: " + known_connector_kinds() + ")",
                    {{"field", "kind"}}));
  }
  template <class Write>
  reply_promise operator()(const Write&) {
    return now(self, fail(error_kind::internal, "the supervisor answers this, not the queries"));
  }
};

queries_actor::behavior_type queries_fn(self_ptr self, context_ptr ctx, engine_actor engine,
                                        std::string token,
                                        std::shared_ptr<std::atomic<size_t>> parked) {
  self->state.ctx = std::move(ctx);
  self->state.engine = std::move(engine);
  self->state.token = std::move(token);
  self->state.parked = std::move(parked);
  return {[=](client_request& req) -> reply_promise {
    sample_backlog(self, "queries");
    auto* store = self->state.ctx->store;
    auto admitted =
        admit([store](const std::string& n) { return store->integration_doc(n).has_value(); },
              self->state.token, req);
    if (auto* refused = std::get_if<client_reply>(&admitted)) return now(self, *refused);
    return std::visit(dispatch{self, req.name}, std::get<ops::op_args>(admitted));
  }};
}

}  // namespace

caf::actor spawn_queries(caf::actor_system& sys, context_ptr ctx, engine_actor engine,
                         std::string token, size_t workers, bool detached) {
  auto parked = std::make_shared<std::atomic<size_t>>(0);
  auto spawn_one = [=, &sys]() -> caf::actor {
    auto w = detached ? sys.spawn<caf::detached>(queries_fn, ctx, engine, token, parked)
                      : sys.spawn(queries_fn, ctx, engine, token, parked);
    return caf::actor_cast<caf::actor>(w);
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, spawn_one,
                               caf::actor_pool::round_robin());
}

}  // namespace ledgersync
