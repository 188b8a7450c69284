// Write-back in the integration actor (actors/integration_state.hpp): accepting pushed records
// into the outbox, and sending them in a run, one at a time in the order accepted.
//
// Exactly one effect per item: an item is committed before the reply ("accepted" is durable);
// before a request that may change the vendor's data the item is committed as `sending`; its
// idempotency key is fixed when it is accepted. After any failure that leaves the outcome
// unknown (a timeout, a 5xx, a crash), the writer is asked to start the item again knowing it
// was `sending` (connectors/push.hpp): it re-sends with the same key, or looks the record up
// by its reference before creating it again. Requests go through the same pacing, shared
// budget, sign-in and retry policy as pages (may_call, on_push_error), so a 429 or an outage
// delays a push and never drops or repeats it.
#include <strings.h>

#include <random>

#include "actors/integration_state.hpp"
#include "storage/feed_reader.hpp"
#include "ops/operations.hpp"

namespace ledgersync::integration_detail {
namespace {

// The random part of idempotency keys (push_idempotency_key).
uint64_t rng() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen();
}

// A vendor's text may be anything but UTF-8 (a Latin-1 error page, a message cut mid-character):
// what is stored and logged replaces such bytes instead of throwing in the actor.
std::string text_of(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

outbox_write write_of(const push_item& it) {
  return {it.seq, it.entity, it.external_id, push_status_name(it.status), text_of(it.to_json())};
}

std::optional<push_item> item_of(const std::optional<outbox_row>& row) {
  if (!row) return std::nullopt;
  auto it = push_item::from_json(json::parse(row->doc, nullptr, false));
  if (it) it->seq = row->seq;
  return it;
}

// How long `it` has been `sending`: its mark is its last change until its outcome.
int64_t sending_for(self_ptr self, const push_item& it) {
  return it.status == push_status::sending ? std::max<int64_t>(0, now_ms(self) - it.updated_ms) : 0;
}

// The store's counts, read after each outbox write lands: the status shows them.
void refresh_counts(self_ptr self) {
  auto& st = self->state;
  st.push_counts = st.ctx->store->outbox_counts(st.cfg.name);
  st.facts.count_pushes(st.push_counts);
}

// The vendor's version of the synced copy of (entity, vendor id): what the application last
// read, when it names no base_version of its own.
std::string synced_version(self_ptr self, const std::string& entity, const std::string& id) {
  auto& st = self->state;
  if (id.empty()) return "";
  for (const auto& [stream, own] : stream_entities(*st.ctx->store, st.cfg.name)) {
    if (own != entity) continue;
    if (auto rec = st.ctx->store->record(st.cfg.name, stream, id); rec && !rec->deleted)
      return st.writer->version_of(entity, rec->body);
  }
  return "";
}

json refusal(std::string error, const std::vector<std::string>& problems) {
  json list = json::array();
  for (size_t i = 0; i < problems.size() && i < 100; ++i) list.push_back(problems[i]);
  if (problems.size() > 100)
    list.push_back("… and " + std::to_string(problems.size() - 100) + " more");
  return json{{"error", std::move(error)}, {"problems", std::move(list)}};
}

void reply_error(caf::typed_response_promise<std::string>& rp, json j) {
  rp.deliver(text_of(j));
}

void next_in_queue(self_ptr self);
void continue_push(self_ptr self);

// The run's sending, held while a push was being accepted, goes on.
void resume_pushing(self_ptr self) {
  auto& st = self->state;
  if (!st.run || !st.run->pushing || st.run->push_writes) return;
  if (!st.run->push_seq)
    next_push(self);
  else
    fetch_page(self);
}

// Starts a push run now, or says why the items wait.
json kick(self_ptr self) {
  auto& st = self->state;
  if (!st.cfg.enabled) return {{"held", st.cfg.name + " is disabled: the items are sent once it is enabled"}};
  if (st.run) {
    // A run that is stopping sends nothing more: a push run follows it at once.
    if (!st.run->error.ok() || st.run->cancelled) {
      st.push_after_run = true;
      return {{"held", "run " + std::to_string(st.run->id) +
                           " is ending; a push run follows it"}};
    }
    return {{"run_id", st.run->id}};
  }
  if (st.facts.awaiting_key)
    return {{"held", "waiting for new credentials: the items are sent by the next run after "
                     "they are fixed"}};
  if (now_ms(self) < st.facts.rate_limited_until_ms) {
    arm_push_retry(self);
    return {{"held", "the upstream's rate limit is used up until " +
                         format_iso(from_ms(st.facts.rate_limited_until_ms))}};
  }
  auto r = start_run(self, sync_request{sync_kind::push, false});
  return {{"run_id", r.run_id}};
}

void accept_now(self_ptr self, const std::string& text,
                caf::typed_response_promise<std::string> rp) {
  auto& st = self->state;
  auto args = json::parse(text, nullptr, false);
  if (!st.writer)
    return reply_error(rp, refusal(st.cfg.connector + " integrations cannot push records: only "
                                                      "the accounting and payment connectors write",
                                   {}));
  auto parsed = ops::parse_request(*ops::find("push"), st.cfg.name, args);
  if (auto* e = std::get_if<ops::op_error>(&parsed)) return reply_error(rp, refusal(e->message, {}));
  auto a = std::get<ops::push_args>(std::get<ops::op_args>(parsed));
  auto now = now_ms(self);
  std::vector<push_item> items;
  std::vector<std::string> problems;
  std::vector<push_item> superseded;
  if (a.retry) {
    auto old = item_of(st.ctx->store->outbox_item(st.cfg.name, a.retry));
    if (!old) return reply_error(rp, refusal("no pushed item " + std::to_string(a.retry), {}));
    if (old->status != push_status::failed && old->status != push_status::conflict)
      return reply_error(rp, refusal("item " + std::to_string(a.retry) + " is " +
                                         push_status_name(old->status) +
                                         ": only failed or conflicting items are retried",
                                     {}));
    // A later push of the record is what the application wants now: retrying this one would
    // put older content back over it.
    if (auto newest = st.ctx->store->outbox_latest(st.cfg.name, old->entity, old->external_id);
        newest && newest->seq != old->seq)
      return reply_error(rp, refusal("item " + std::to_string(a.retry) + " was pushed again since (item " +
                                         std::to_string(newest->seq) + "): retry that one, or push again",
                                     {}));
    auto it = *old;
    it.idempotency_key.clear();  // a new attempt at the vendor: the old key's answer is spent
    it.status = push_status::pending;
    it.attempts = 0;
    it.revision = old->revision + 1;
    it.errors.clear();
    it.message.clear();
    it.hint.clear();
    it.seq = 0;
    it.by = a.by;
    it.accepted_ms = it.updated_ms = now;
    // A conflict retried means: overwrite what the vendor has now, as last synced.
    if (old->status == push_status::conflict) it.base_version.clear();
    old->status = push_status::superseded;
    old->updated_ms = now;
    superseded.push_back(std::move(*old));
    items.push_back(std::move(it));
  } else {
    auto in = a.items.is_array() ? parse_push_array(a.entity, a.items)
                                 : parse_push_items(a.entity, std::string_view(a.ndjson));
    problems = std::move(in.problems);
    for (auto& it : in.items) {
      it.by = a.by;
      if (auto why = st.writer->refuses(it.entity, it.op); !why.empty()) {
        problems.push_back(it.external_id + ": " + why);
        continue;  // its fields are beside the point
      }
      for (auto& p : st.writer->check(it)) problems.push_back(it.external_id + ": " + p);
    }
    if (problems.empty()) items = std::move(in.items);
  }
  json out_items = json::array();
  write_batch b;
  std::vector<push_item> fresh;  // the items written, in the batch's order
  size_t unchanged = 0;
  for (auto& it : items) {
    push_placement p;
    if (a.retry) {
      p.write = std::move(it);
    } else {
      auto newest = item_of(st.ctx->store->outbox_latest(st.cfg.name, it.entity, it.external_id));
      bool in_flight = newest && st.run && st.run->push_seq == newest->seq;
      p = place_push(std::move(newest), std::move(it), in_flight, now);
    }
    if (!p.problem.empty()) {
      problems.push_back(p.problem);
      continue;
    }
    if (p.unchanged) {
      ++unchanged;
      out_items.push_back({{"seq", p.unchanged->seq},
                           {"external_id", p.unchanged->external_id},
                           {"status", push_status_name(p.unchanged->status)},
                           {"vendor_id", p.unchanged->vendor_id},
                           {"unchanged", true}});
      continue;
    }
    if (p.supersede) superseded.push_back(std::move(*p.supersede));
    auto& w = *p.write;
    if (w.base_version.empty() && w.op != push_op::create)
      w.base_version = synced_version(self, w.entity, w.vendor_id);
    if (w.idempotency_key.empty()) w.idempotency_key = push_idempotency_key(st.cfg.name, w, rng());
    fresh.push_back(std::move(w));
  }
  if (!problems.empty())
    return reply_error(rp, refusal("nothing was accepted: " + std::to_string(problems.size()) +
                                       " problem(s) in the items",
                                   problems));
  for (auto& s : superseded) b.outbox.push_back(write_of(s));
  for (auto& w : fresh) b.outbox.push_back(write_of(w));
  if (fresh.empty() && superseded.empty()) {
    json out{{"accepted", 0}, {"unchanged", unchanged}, {"items", out_items}};
    rp.deliver(out.dump());
    return;
  }
  auto entity = fresh.empty() ? std::string() : fresh.front().entity;
  auto ev = event(self, "info", "push_accepted",
                  std::to_string(fresh.size()) + " " + (entity.empty() ? "item" : entity) +
                      (fresh.size() == 1 ? "" : "s") + " accepted for pushing" +
                      (a.by.empty() ? "" : " from " + a.by) +
                      (unchanged ? ", " + std::to_string(unchanged) + " unchanged" : ""));
  b.log_events.push_back(text_of(ev));
  b.actor = a.by;
  size_t first_fresh = superseded.size();
  st.push_accepting = true;
  write(
      self, std::move(b),
      [self, rp, fresh, first_fresh, out_items, unchanged](const batch_result& res) mutable {
        auto& st = self->state;
        size_t accepted = 0;
        for (size_t i = 0; i < fresh.size(); ++i) {
          auto& w = fresh[i];
          w.seq = res.outbox_seqs.at(first_fresh + i);
          out_items.push_back({{"seq", w.seq},
                               {"external_id", w.external_id},
                               {"status", push_status_name(w.status)},
                               {"revision", w.revision}});
          st.outbox[w.seq] = w;
          ++accepted;
        }
        refresh_counts(self);
        st.push_accepting = false;
        json out{{"accepted", accepted}, {"unchanged", unchanged}, {"items", out_items}};
        out.update(kick(self));
        rp.deliver(text_of(out));
        resume_pushing(self);
        next_in_queue(self);
      },
      [self, rp](const caf::error& e) mutable {
        // Nothing of the request is stored: the application pushes it again.
        rp.deliver(refusal("nothing was accepted: the store could not commit the items (" +
                               caf::to_string(e) + ")",
                           {})
                       .dump());
        self->state.push_accepting = false;
        resume_pushing(self);
        next_in_queue(self);
      });
}

void next_in_queue(self_ptr self) {
  auto& st = self->state;
  // Accepting reads the store's newest item of each external id and whether the run is sending
  // it: with an outcome or a mark still on its way to the store, that reading would be stale.
  if (st.push_accepting || st.push_queue.empty() || (st.run && st.run->push_writes)) return;
  auto [text, rp] = std::move(st.push_queue.front());
  st.push_queue.pop_front();
  accept_now(self, text, std::move(rp));
}

// The item as the writer sees it: references to records pushed earlier replaced by the
// vendor's ids; "" in `problem` when they all resolved.
push_item resolved(self_ptr self, const push_item& stored, field_error& problem) {
  auto& st = self->state;
  auto it = stored;
  for (auto [ref, entity, id_field] :
       {std::tuple{"customer_external_id", "customer", "customer_id"},
        std::tuple{"invoice_external_id", "invoice", "invoice_id"}}) {
    auto f = it.fields.find(ref);
    if (f == it.fields.end() || !f->is_string()) continue;
    auto ext = f->get<std::string>();
    auto row = item_of(st.ctx->store->outbox_latest(st.cfg.name, entity, ext));
    if (!row || row->vendor_id.empty()) {
      problem = {ref, std::string("no ") + entity + " pushed under \"" + ext +
                          "\" has a vendor id yet (its push is missing, still open, or failed): "
                          "push it first"};
      return it;
    }
    it.fields[id_field] = row->vendor_id;
    it.fields.erase(f);
  }
  return it;
}

// The item's outcome: written with its log event; later open items of the same record learn
// the vendor's id in the same transaction. The next item goes once it has landed.
void settle(self_ptr self, push_item item, const push_answer& ans) {
  auto& st = self->state;
  auto& r = *st.run;
  auto now = now_ms(self);
  item.status = ans.status;
  // Refused, but a later push of the record is already on its way: that one is what counts.
  if (item.status == push_status::failed || item.status == push_status::conflict)
    for (auto& [seq, other] : st.outbox)
      if (seq > item.seq && other.entity == item.entity && other.external_id == item.external_id)
        item.status = push_status::superseded;
  if (!ans.vendor_id.empty()) item.vendor_id = ans.vendor_id;
  item.vendor_version = ans.vendor_version;
  item.errors = ans.errors;
  item.message = ans.message;
  item.hint = ans.hint;
  item.updated_ms = now;
  write_batch b;
  b.outbox.push_back(write_of(item));
  std::vector<uint64_t> taught;
  if (!item.vendor_id.empty())
    for (auto& [seq, other] : st.outbox)
      if (seq > item.seq && other.entity == item.entity &&
          other.external_id == item.external_id && other.vendor_id.empty()) {
        auto o = other;
        o.vendor_id = item.vendor_id;
        b.outbox.push_back(write_of(o));
        taught.push_back(seq);
      }
  std::string what = item.entity + " " + item.external_id;
  json ev;
  if (item.status == push_status::succeeded) {
    ++r.pushed;
    ev = event(self, "info", "push_succeeded",
               what + (item.op == push_op::create ? " created" : " written") + " as " +
                   item.vendor_id + " (item " + std::to_string(item.seq) + ")");
  } else {
    ++r.push_failed;
    // A conflict is the record's, like a validation failure: the application decides what to
    // do (read again, then push again); the connection is fine.
    auto e = make_error_info(error_category::validation,
                             what + ": " + (item.message.empty() ? "refused" : item.message));
    if (!item.hint.empty()) e.specific_hint = item.hint;
    ev = error_event(self, e, item.status == push_status::conflict ? "push_conflict" : "push_failed");
    if (item.status == push_status::conflict) ev["level"] = "warn";
    json errs = json::array();
    for (auto& f : item.errors) errs.push_back({{"field", f.field}, {"message", f.message}});
    ev["errors"] = errs;
  }
  ev["seq"] = item.seq;
  ev["external_id"] = item.external_id;
  if (!item.vendor_id.empty()) ev["vendor_id"] = item.vendor_id;
  b.log_events.push_back(text_of(ev));
  b.run_id = r.id;
  b.run_patch = r.progress_record().dump();
  ++r.push_writes;
  auto run_id = r.id;
  auto seq = item.seq;
  auto vendor_id = item.vendor_id;
  write(
      self, std::move(b),
      [self, run_id, seq, taught, vendor_id](const batch_result&) {
        auto& st = self->state;
        st.outbox.erase(seq);
        for (auto t : taught)
          if (auto it = st.outbox.find(t); it != st.outbox.end()) it->second.vendor_id = vendor_id;
        refresh_counts(self);
        if (!st.run || st.run->id != run_id) return next_in_queue(self);
        auto& r = *st.run;
        --r.push_writes;
        r.push_seq = 0;
        r.push_at.reset();
        next_in_queue(self);
        if (!r.error.ok() || r.cancelled) return maybe_finish(self);
        next_push(self);
      },
      [self, run_id](const caf::error& err) {
        auto& st = self->state;
        if (!st.run || st.run->id != run_id) return;
        --st.run->push_writes;
        // The outcome is not stored: the item stays `sending` and is settled again by a
        // later run (the vendor replays it under the same key, or the lookup finds it).
        st.run->push_seq = 0;
        fail_run(self, make_error_info(error_category::storage, caf::to_string(err)));
      });
}

// The current item's next request: committed as `sending` first when it may write.
void continue_push(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  auto& stored = st.outbox.at(r.push_seq);
  if (!r.push_at->writes || stored.status == push_status::sending) return fetch_page(self);
  if (st.push_accepting) return;  // resume_pushing comes back here
  stored.status = push_status::sending;
  stored.updated_ms = now_ms(self);
  write_batch b;
  b.outbox.push_back(write_of(stored));
  ++r.push_writes;
  auto run_id = r.id;
  write(
      self, std::move(b),
      [self, run_id](const batch_result&) {
        auto& st = self->state;
        refresh_counts(self);
        if (!st.run || st.run->id != run_id) return next_in_queue(self);
        --st.run->push_writes;
        st.run->push_sent.status = push_status::sending;
        next_in_queue(self);
        if (!st.run->error.ok() || st.run->cancelled) return maybe_finish(self);
        fetch_page(self);
      },
      [self, run_id](const caf::error& err) {
        auto& st = self->state;
        if (!st.run || st.run->id != run_id) return;
        --st.run->push_writes;
        // Not durable, so not sent: the item is as it was, in memory as in the store.
        if (auto it = st.outbox.find(st.run->push_seq); it != st.outbox.end())
          it->second.status = push_status::pending;
        st.run->push_seq = 0;
        fail_run(self, make_error_info(error_category::storage, caf::to_string(err)));
      });
}

}  // namespace

caf::typed_response_promise<std::string> accept_push(self_ptr self, std::string args) {
  auto rp = self->make_response_promise<std::string>();
  auto& st = self->state;
  st.push_queue.emplace_back(std::move(args), rp);
  next_in_queue(self);
  return rp;
}

void load_outbox(self_ptr self) {
  auto& st = self->state;
  refresh_counts(self);
  if (st.facts.push_open == 0) return;
  uint64_t after = 0;
  for (;;) {
    auto rows = st.ctx->store->outbox(st.cfg.name, after, 1000);
    if (rows.empty()) break;
    for (auto& row : rows) {
      after = row.seq;
      auto it = item_of(row);
      if (it && !is_final(it->status)) st.outbox[it->seq] = std::move(*it);
    }
  }
}

bool has_push_work(self_ptr self) {
  auto& st = self->state;
  return st.writer && st.cfg.enabled && !st.outbox.empty();
}

void next_push(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  if (r.push_seq || r.push_writes || st.push_accepting) return;
  if (!r.error.ok() || r.cancelled || r.push_stopped || !has_push_work(self)) {
    r.pushing = false;
    if (r.error.ok() && !r.cancelled && !r.streams_started &&
        r.stream_idx < st.cfg.streams.size()) {
      r.streams_started = true;
      return start_stream(self);
    }
    return maybe_finish(self);
  }
  auto& stored = st.outbox.begin()->second;
  r.push_seq = stored.seq;
  r.attempt = r.rate_waits = 0;
  field_error problem;
  auto item = resolved(self, stored, problem);
  if (problem.field.empty() && item.op == push_op::update && item.vendor_id.empty())
    problem = {"id", "an update needs the vendor's id, and no earlier push of " +
                         item.external_id + " has one"};
  if (!problem.field.empty()) {
    push_answer a;
    a.status = push_status::failed;
    a.errors = {problem};
    a.message = problem.field + ": " + problem.message;
    a.hint = problem.field == "id"
                 ? "push it with op create or upsert, or give the vendor's id as fields.id"
                 : "push the record it refers to first, then push this one again";
    return settle(self, stored, a);
  }
  item.sending_for_ms = sending_for(self, stored);
  r.push_at = st.writer->first_step(item, stored.status == push_status::sending);
  r.push_sent = std::move(item);
  continue_push(self);
}

void push_fetch(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  if (!r.push_seq || !r.push_at || r.push_writes) return;
  // Whatever step comes next (the first, a retry's, one after a lookup), a write is never sent
  // before the store says the item may have reached the vendor.
  if (r.push_at->writes && st.outbox.at(r.push_seq).status != push_status::sending)
    return continue_push(self);
  if (!may_call(self)) return;
  auto req = r.push_at->request;
  // The step was built with the token of its time; sign-in may have brought a new one since
  // (may_call fetched it, or a 401 did): the request goes with the current one.
  if (!st.cfg.api_key.empty()) {
    auto h = std::find_if(req.headers.begin(), req.headers.end(), [](const auto& kv) {
      return kv.first.size() == 13 && strncasecmp(kv.first.c_str(), "authorization", 13) == 0;
    });
    if (h != req.headers.end()) h->second = "Bearer " + st.cfg.api_key;
    else req.headers.emplace_back("Authorization", "Bearer " + st.cfg.api_key);
  }
  if (r.push_at->writes) ++st.outbox.at(r.push_seq).attempts;
  send_request(self, std::move(req));
}

void on_push_answer(self_ptr self, const http_response& resp) {
  auto& st = self->state;
  auto& r = *st.run;
  if (resp.status == 401 && reauthorize(self)) return;
  r.push_sent.status = st.outbox.at(r.push_seq).status;
  auto ans = st.writer->on_answer(r.push_sent, *r.push_at, resp);
  apply_pauses(self, ans.pause_ms, ans.shared_pause_ms);
  if (!ans.error.ok()) return on_push_error(self, ans.error);
  r.attempt = r.rate_waits = 0;
  r.reauthorized = false;
  if (ans.next) {
    r.push_at = std::move(*ans.next);
    return continue_push(self);
  }
  settle(self, st.outbox.at(r.push_seq), ans);
}

void on_push_error(self_ptr self, const error_info& e) {
  auto& st = self->state;
  auto& r = *st.run;
  auto& stored = st.outbox.at(r.push_seq);
  auto delay = e.retryable() ? st.retry.next_delay(e, r.attempt, r.rate_waits) : std::nullopt;
  if (!delay) {
    // The item stays as it is (pending, or sending: resumed with care), for a later run.
    r.push_seq = 0;
    r.push_at.reset();
    if (r.kind == sync_kind_name(sync_kind::push)) return fail_run(self, e);
    // A run that reads goes on reading: a vendor that refuses writes (a read-only scope) or
    // an outage of its write endpoints must not stop the data coming in.
    r.push_stopped = true;
    r.pushing = false;
    auto ev = error_event(self, e, "push_stopped");
    ev["message"] = "pushes stopped for this run (" + e.message + "); " +
                    std::to_string(st.outbox.size()) + " item(s) wait for a later run";
    write_batch b;
    b.log_events.push_back(text_of(ev));
    write(
        self, std::move(b), [](const batch_result&) {}, [](const caf::error&) {});
    if (!r.streams_started && r.stream_idx < st.cfg.streams.size()) {
      r.streams_started = true;
      return start_stream(self);
    }
    return maybe_finish(self);
  }
  json ev = error_event(self, e,
                        e.category == error_category::rate_limited ? "rate_limited" : "retrying");
  ev["level"] = "warn";
  ev["retry_in_ms"] = delay->count();
  ev["attempt"] = r.attempt + 1;
  ev["seq"] = stored.seq;
  ev["external_id"] = stored.external_id;
  write_batch b;
  b.log_events.push_back(text_of(ev));
  write(
      self, std::move(b), [](const batch_result&) {}, [](const caf::error&) {});
  if (e.category == error_category::rate_limited)
    ++r.rate_waits;
  else
    ++r.attempt;
  // The outcome of a write is unknown now: the item starts again, resumed when it was sent.
  r.push_sent.status = stored.status;
  r.push_sent.sending_for_ms = sending_for(self, stored);
  r.push_at = st.writer->first_step(r.push_sent, stored.status == push_status::sending);
  arm_retry(self, *delay,
            std::string(e.category == error_category::rate_limited ? "rate limited" : "retrying") +
                " a push (" + std::string(category_name(e.category)) + "), next attempt in " +
                std::to_string(delay->count() / 1000) + "s");
}

void arm_push_retry(self_ptr self) {
  auto& st = self->state;
  if (st.push_retry_armed || st.outbox.empty() || !st.cfg.enabled || !st.writer ||
      st.facts.awaiting_key)
    return;
  auto now = now_ms(self);
  int64_t delay = std::max<int64_t>(60'000, scheduled_backoff_ms(st.facts.consecutive_failures));
  if (st.facts.rate_limited_until_ms > now) delay = st.facts.rate_limited_until_ms - now;
  st.push_retry_armed = true;
  caf::delayed_anon_send(caf::actor_cast<integration_actor>(self), milliseconds(delay),
                         sync_atom::value, sync_request{sync_kind::push, false});
}

}  // namespace ledgersync::integration_detail
