// A run of the integration actor (actors/integration_state.hpp): the streams in order, each
// page fetched, parsed, validated and handed to the log writer with the cursor that follows it;
// the run's end recorded; the status published as each write lands.
#include "actors/integration_state.hpp"

namespace ledgersync::integration_detail {

std::chrono::nanoseconds mono(self_ptr self) {
  return self->clock().now().time_since_epoch();
}
int64_t now_ms(self_ptr self) {
  return to_ms(self->state.ctx->now(self->clock().now()));
}

json event(self_ptr self, const char* level, const std::string& what, const std::string& message) {
  return log_event(now_ms(self), level, what, message);
}

json error_event(self_ptr self, const error_info& e, const std::string& what) {
  auto ev = log_error_event(now_ms(self), e, what);
  if (self->state.run) ev["run_id"] = self->state.run->id;
  return ev;
}

// Applies new settings: connector, buckets, retry policy. Cursors and status stay.
void apply_config(self_ptr self, integration_config cfg) {
  auto& st = self->state;
  auto before = std::exchange(st.cfg, std::move(cfg));
  carry_access_token(self, before);
  std::string err;
  st.sched = schedule::parse(st.cfg.schedule, err);
  st.conn = make_connector(st.cfg);
  st.writer = make_push_writer(st.cfg);
  st.manual = token_bucket(st.cfg.manual_burst, std::chrono::seconds(st.cfg.manual_refill_s));
  st.upstream = upstream_bucket(st.cfg);
  st.shared = shared_limit_of(st.cfg);
  st.retry = retry_policy(st.cfg.retry, st.ctx->seed ^ std::hash<std::string>{}(st.cfg.name));
}

std::string doc_of(self_ptr self) {
  auto& st = self->state;
  if (uses_oauth(st.cfg)) {
    // The access token is short-lived and comes back from the refresh token: never stored.
    auto c = st.cfg;
    c.api_key.clear();
    return make_integration_doc(c, *st.ctx->secrets, st.facts.to_json().dump());
  }
  return make_integration_doc(st.cfg, *st.ctx->secrets, st.facts.to_json().dump());
}

status_inputs inputs(self_ptr self) {
  auto& st = self->state;
  status_inputs in;
  in.name = st.cfg.name;
  in.connector = st.cfg.connector;
  in.schedule = st.cfg.schedule;
  in.enabled = st.cfg.enabled;
  in.now_ms = now_ms(self);
  in.next_run_ms = st.next_run_ms;
  in.stale_after_ms = st.sched ? st.sched->stale_after().count() : 0;
  in.scheduled = st.sched && !st.sched->is_manual();
  in.facts = st.facts;
  if (st.run) {
    auto& r = *st.run;
    auto& p = in.progress;
    p.running = true;
    p.run_id = r.id;
    p.kind = r.kind;
    p.stream = r.stream_idx < st.cfg.streams.size() ? st.cfg.streams[r.stream_idx].name : "";
    p.fetched = r.fetched;
    p.streams = r.streams_json();
    p.percent = r.percent();
    p.total = 0;
    for (auto& s : p.streams)
      if (s["total"].is_number()) p.total += s["total"].get<uint64_t>();
    p.resumes = r.resumes;
    p.inserted = r.inserted;
    p.updated = r.updated;
    p.unchanged = r.unchanged;
    p.invalid = r.invalid;
    p.started_ms = r.started_ms;
    p.waiting = r.waiting ? r.waiting_text : "";
  }
  return in;
}

// Tells the status feed where this integration stands (the feed drops repeats). Held while a
// run's end is on its way to the store: the status would say "not running" too early.
void publish_status(self_ptr self) {
  auto& st = self->state;
  if (!st.ctx->feed || st.ends_in_flight > 0) return;
  self->send(st.ctx->feed, status_changed_atom::value, st.cfg.name,
             status_text(inputs(self)));
}

// Every change of what the status says is written (a page, a run's start or end, settings), so
// the status is published as each write lands.
void write(self_ptr self, write_batch b, std::function<void(const batch_result&)> ok,
           std::function<void(const caf::error&)> fail) {
  b.integration = self->state.cfg.name;
  b.at_ms = now_ms(self);
  ++self->state.writes_in_flight;
  bool doc = !b.integration_doc.empty();
  self->request(self->state.ctx->writer, caf::infinite, write_atom::value, std::move(b))
      .then(
          [self, ok, doc](const batch_result& r) {
            --self->state.writes_in_flight;
            if (doc) self->state.doc_unsaved = false;
            ok(r);
            publish_status(self);
          },
          [self, fail, doc](const caf::error& e) {
            --self->state.writes_in_flight;
            if (doc) self->state.doc_unsaved = true;
            fail(e);
            publish_status(self);
          });
}

// /metrics (core/metrics.hpp): every series names its integration.
void count_metric(self_ptr self, const char* name, const char* help, metrics::labels more,
                  uint64_t by) {
  more.insert(more.begin(), {"integration", self->state.cfg.name});
  metrics::instance().count(name, help, more, by);
}

// Writes a batch that must not be lost with a run still going on without it (a run's end, the
// closing of interrupted runs): when the commit fails (a full disk), it is kept and written
// again every 10 s until it lands, so no run stays "running" in the history.
// `settled` runs once the batch has landed or been kept for the retry, whichever comes first.
void persist(self_ptr self, write_batch b, std::function<void()> settled) {
  auto copy = b;
  write(
      self, std::move(b),
      [self, settled](const batch_result& res) {
        self->state.facts.set_aside = res.set_aside_total;
        if (settled) settled();
      },
      [self, copy, settled](const caf::error& e) mutable {
        if (settled) settled();
        auto& st = self->state;
        spdlog::error("{}: could not record a run's end ({}); trying again in 10s", st.cfg.name,
                      caf::to_string(e));
        st.unwritten.push_back(std::move(copy));
        if (!st.persist_armed) {
          st.persist_armed = true;
          self->delayed_send(self, std::chrono::seconds(10), persist_atom::value);
        }
      });
}

// A run's end (or a crashed run's closing): status requests wait until it has landed, so that
// "not running" is never said while the history still says "running".
void persist_run_end(self_ptr self, write_batch b) {
  ++self->state.ends_in_flight;
  persist(self, std::move(b), [self] {
    auto& st = self->state;
    if (--st.ends_in_flight > 0) return;
    auto status = status_json(inputs(self));
    for (auto& rp : std::exchange(st.status_waiting, {})) rp.deliver(status.dump());
    uint64_t active = st.run ? st.run->id : 0;
    for (auto it = st.run_waiters.begin(); it != st.run_waiters.end();) {
      if (it->second.run_id == active) {
        ++it;
        continue;
      }
      it->second.rp.deliver(json{{"done", true}, {"status", status}}.dump());
      it = st.run_waiters.erase(it);
    }
  });
}

void fail_run(self_ptr self, error_info e) {
  auto& r = *self->state.run;
  if (r.error.ok()) r.error = std::move(e);
  r.request_id = 0;
  r.waiting = false;
  ++self->state.timer_gen;  // any pending retry timer is now stale
  maybe_finish(self);
}

void start_stream(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  auto& s = st.cfg.streams[r.stream_idx];
  auto committed = st.cursors.count(s.name) ? st.cursors[s.name] : stream_cursor{};
  r.fetch_cursor = committed;
  // Again for the last committed page: a crash may have come between its commit and the hook.
  st.conn->committed(s, committed.state);
  if (!committed.in_pass)  // a new pass; an interrupted one resumes where it stood
    r.fetch_cursor = cursor_for_pass(*st.conn, s, committed, r.full,
                                     r.full ? "run-" + std::to_string(r.id) : "");
  r.stream_fetched_all = false;
  r.guard = paging_guard(st.cfg.max_pages_per_pass);
  r.guard.followed(st.conn->page_token(r.fetch_cursor.state));
  r.attempt = r.rate_waits = 0;
  fetch_page(self);
}

void next_stream(self_ptr self) {
  auto& r = *self->state.run;
  ++r.stream_idx;
  if (r.stream_idx >= self->state.cfg.streams.size() || !r.error.ok() || r.cancelled)
    return maybe_finish(self);
  start_stream(self);
}

void arm_retry(self_ptr self, milliseconds delay, std::string text) {
  auto& r = *self->state.run;
  r.waiting = true;
  r.waiting_text = std::move(text);
  self->delayed_send(self, delay, retry_atom::value, ++self->state.timer_gen);
}

bool may_call(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  if (auto now = mono(self); now < st.quota_free_at) {
    count_metric(self, "rate_limit_waits_total",
                 "waits before an upstream call: our own pacing, or the upstream's 429",
                 {{"limiter", "upstream_quota"}});
    auto wait = std::chrono::ceil<milliseconds>(st.quota_free_at - now);
    arm_retry(self, wait,
              "the upstream's quota is spent, next request in " +
                  std::to_string((wait.count() + 999) / 1000) + "s");
    return false;
  }
  if (auto wait = st.upstream.wait_time(mono(self)); wait > wait.zero()) {
    count_metric(self, "rate_limit_waits_total",
                 "waits before an upstream call: our own pacing, or the upstream's 429",
                 {{"limiter", "pacing"}});
    arm_retry(self, std::max(std::chrono::ceil<milliseconds>(wait), milliseconds(1)),
              "pacing upstream calls");
    return false;
  }
  if (r.adopting_token) return false;
  if (needs_token(self)) {
    request_token(self);
    return false;
  }
  // Taken only once our own bucket has a token for it, so a wait here wastes none of the app's.
  if (st.shared) {
    auto& l = *st.shared;
    if (auto wait = st.ctx->budgets->take(l.key, l.rate.burst, l.rate.spacing(), mono(self));
        wait > wait.zero()) {
      count_metric(self, "rate_limit_waits_total",
                   "waits before an upstream call: our own pacing, or the upstream's 429",
                   {{"limiter", "shared"}});
      auto ms = std::max(std::chrono::ceil<milliseconds>(wait), milliseconds(1));
      arm_retry(self, ms,
                "the app's request budget, shared with its other integrations, is spent; next "
                "request in " +
                    std::to_string((ms.count() + 999) / 1000) + "s");
      return false;
    }
  }
  st.upstream.try_take(mono(self));
  return true;
}

void fetch_page(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  if (r.request_id || r.waiting || !r.error.ok() || r.cancelled) return;
  // Pushes and pages take turns on the same buckets: the outbox's item first.
  if (r.pushing) return push_fetch(self);
  if (r.stream_fetched_all) return;
  if (static_cast<int>(r.commits.size()) >= st.ctx->write_window) return;  // backpressure
  if (!may_call(self)) return;
  auto& s = st.cfg.streams[r.stream_idx];
  send_request(self, st.conn->page_request(s, r.fetch_cursor));
}

void send_request(self_ptr self, http_request req) {
  auto& st = self->state;
  auto id = st.next_request++;
  st.run->request_id = id;
  auto hdl = caf::actor_cast<integration_actor>(self);
  // The HTTP client enforces the request's own timeouts; this deadline catches anything else
  // (a transport that never answers), on the actor clock so tests can reach it.
  self->delayed_send(self, milliseconds(req.timeout_ms * 2 + 5000), deadline_atom::value, id);
  st.transport->fetch(std::move(req), [hdl, id](http_response resp) {
    caf::anon_send(hdl, fetched_atom::value, id, std::move(resp));
  });
}

void apply_pauses(self_ptr self, int64_t pause_ms, int64_t shared_pause_ms) {
  auto& st = self->state;
  if (pause_ms > 0) st.quota_free_at = mono(self) + milliseconds(pause_ms);
  if (shared_pause_ms > 0 && st.shared)
    st.ctx->budgets->pause(st.shared->key, mono(self) + milliseconds(shared_pause_ms));
}

void on_page_error(self_ptr self, const error_info& e) {
  auto& st = self->state;
  auto& r = *st.run;
  auto delay = st.retry.next_delay(e, r.attempt, r.rate_waits);
  if (!delay) return fail_run(self, e);
  json ev = error_event(self, e,
                        e.category == error_category::rate_limited ? "rate_limited" : "retrying");
  ev["level"] = "warn";
  ev["retry_in_ms"] = delay->count();
  ev["attempt"] = r.attempt + 1;
  write_batch b;
  b.log_events.push_back(ev.dump());
  write(
      self, std::move(b), [](const batch_result&) {}, [](const caf::error&) {});
  if (e.category == error_category::rate_limited) {
    count_metric(self, "rate_limit_waits_total",
                 "waits before an upstream call: our own pacing, or the upstream's 429",
                 {{"limiter", "upstream_429"}});
    ++r.rate_waits;
  } else {
    ++r.attempt;
  }
  arm_retry(self, *delay,
            std::string(e.category == error_category::rate_limited ? "rate limited" : "retrying") +
                " (" + std::string(category_name(e.category)) + "), next attempt in " +
                std::to_string(delay->count() / 1000) + "s");
}

void on_page(self_ptr self, const http_response& resp) {
  auto& st = self->state;
  auto& r = *st.run;
  auto& s = st.cfg.streams[r.stream_idx];
  if (resp.status == 401 && reauthorize(self)) return;
  auto page = st.conn->parse_page(s, r.fetch_cursor, resp);
  // Before the error: a 429 that names the app's limit holds every integration of the app.
  apply_pauses(self, page.pause_ms, page.shared_pause_ms);
  if (!page.error.ok()) return on_page_error(self, page.error);
  if (auto loop = r.guard.check(s.name, r.fetch_cursor.pages, page.has_more, page.next_token);
      !loop.ok())
    return fail_run(self, loop);
  r.attempt = 0;
  r.rate_waits = 0;
  auto stop = std::move(page.stop_after);
  auto next = cursor_after(*st.conn, s, r.fetch_cursor, page);
  r.count_page(r.stream_idx, page.records.size() + page.invalid.size(), page.total,
               r.fetch_cursor.pages == 0, !page.has_more);
  r.fetched += page.records.size() + page.invalid.size();
  r.invalid += page.invalid.size();
  r.pages += 1;
  write_batch b;
  b.records = std::move(page.records);
  b.cursors[s.name] = next.to_json();
  for (auto& bad : page.invalid) {
    std::string fields;
    for (auto& m : bad.missing) fields += (fields.empty() ? "" : ", ") + m;
    auto e = make_error_info(error_category::validation,
                             s.name + " record " + bad.id + " is missing " + fields);
    auto ev = error_event(self, e, "invalid_record");
    ev["stream"] = s.name;
    ev["record_id"] = bad.id;
    ev["missing"] = bad.missing;
    b.log_events.push_back(ev.dump());
    b.set_aside.push_back({s.name, bad.id, std::move(bad.body), bad.missing});
  }
  for (auto& why : page.rejected) {
    auto ev = error_event(self, make_error_info(error_category::validation, why), "rejected");
    ev["stream"] = s.name;
    b.log_events.push_back(ev.dump());
  }
  if (r.fetch_cursor.full) {
    b.seen_pass = r.fetch_cursor.pass_id;
    if (!page.has_more && self->state.conn->full_pass_sees_everything(s))
      b.sweep.emplace_back(s.name, r.fetch_cursor.pass_id);
  }
  b.run_id = r.id;
  b.run_patch = self->state.run->progress_record().dump();
  r.fetch_cursor = next;
  r.commits.push_back({s.name, next, !page.has_more});
  if (!page.has_more) r.stream_fetched_all = true;
  auto run_id = r.id;
  write(
      self, std::move(b),
      [self, run_id](const batch_result& res) {
        auto& st = self->state;
        if (!st.run || st.run->id != run_id || st.run->commits.empty()) return;
        auto& r = *st.run;
        auto c = std::move(r.commits.front());
        r.commits.pop_front();
        if (c.adopt) st.cursors[c.stream] = c.cursor;
        for (auto& s : st.cfg.streams)
          if (s.name == c.stream) st.conn->committed(s, c.cursor.state);
        r.inserted += res.inserted;
        r.updated += res.updated;
        r.unchanged += res.unchanged;
        r.deleted += res.deleted;
        st.facts.set_aside = res.set_aside_total;
        if (!r.error.ok() || r.cancelled) return maybe_finish(self);
        if (c.stream_done && r.commits.empty()) return next_stream(self);
        fetch_page(self);
      },
      [self, run_id](const caf::error& err) {
        auto& st = self->state;
        if (!st.run || st.run->id != run_id) return;
        st.run->commits.clear();  // nothing of these pages was stored; the cursor stays
        fail_run(self, make_error_info(error_category::storage, caf::to_string(err)));
      });
  // No more calls for hours (a daily quota spent): the page above still commits, then the run
  // ends with the reason, which holds back the next runs (run_tally::settle).
  if (!stop.ok()) return fail_run(self, std::move(stop));
  fetch_page(self);
}

void maybe_finish(self_ptr self) {
  auto& st = self->state;
  if (!st.run) return;
  auto& r = *st.run;
  bool done_streams = r.stream_idx >= st.cfg.streams.size();
  bool stopping = !r.error.ok() || r.cancelled;
  if (!(done_streams || stopping) || !r.commits.empty() || r.request_id || r.ending ||
      r.adopting_token || r.push_writes || (r.pushing && !stopping))
    return;
  // Items pushed while the streams ran go out before the run ends.
  if (!stopping && !r.push_stopped && has_push_work(self)) {
    r.pushing = true;
    return next_push(self);
  }
  r.ending = true;
  auto now = now_ms(self);
  r.settle(st.facts, now);
  count_metric(self, "runs_total", "runs ended, by kind and outcome",
               {{"kind", r.kind}, {"outcome", r.outcome()}});
  for (auto [change, n] : {std::pair{"inserted", r.inserted}, std::pair{"updated", r.updated},
                           std::pair{"unchanged", r.unchanged}, std::pair{"deleted", r.deleted}})
    if (n > 0)
      count_metric(self, "records_synced_total", "records written by runs, by what changed",
                   {{"change", change}}, n);
  if (!r.error.ok())
    count_metric(self, "run_errors_total", "runs ended by an error, by its category",
                 {{"category", std::string(category_name(r.error.category))}});
  write_batch b;
  b.run_id = r.id;
  b.run_patch = r.final_record(now).dump();
  b.log_events.push_back(r.final_event(now).dump());
  b.integration_doc = doc_of(self);
  spdlog::info("{}: {}", st.cfg.name, r.summary());
  st.run.reset();
  persist_run_end(self, std::move(b));
  if (std::exchange(st.push_after_run, false) && has_push_work(self))
    caf::anon_send(caf::actor_cast<integration_actor>(self), sync_atom::value,
                   sync_request{sync_kind::push, false});
  else
    arm_push_retry(self);  // items a failure held go out later
}

// Runs that a crash ended (of the process, or of this actor) still read "running" in the
// history. They are closed as interrupted before anything else is written; the resume run, if
// a pass was under way, names the latest of them.
void close_interrupted(self_ptr self) {
  auto& st = self->state;
  std::set<uint64_t> ids;
  if (st.facts.active_run_id) ids.insert(st.facts.active_run_id);
  for (auto& text : st.ctx->store->runs(st.cfg.name, 20)) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_object() && j.value("status", "") == "running")
      ids.insert(j.value("run_id", uint64_t{0}));
  }
  ids.erase(0);
  if (ids.empty()) return;
  auto now = now_ms(self);
  st.facts.active_run_id = 0;
  st.facts.last_run_id = std::max(st.facts.last_run_id, *ids.rbegin());  // ids never reused
  for (auto id : ids) {
    write_batch b;
    b.run_id = id;
    b.run_patch = json{{"status", "interrupted"}, {"finished", format_iso(from_ms(now))}}.dump();
    auto ev = event(self, "warn", "run_interrupted",
                    "run " + std::to_string(id) +
                        " was interrupted: the service or the integration stopped before it "
                        "ended; what it committed is kept and the next run goes on from there");
    ev["run_id"] = id;
    b.log_events.push_back(ev.dump());
    if (id == *ids.rbegin()) b.integration_doc = doc_of(self);
    persist_run_end(self, std::move(b));
  }
  st.interrupted_run = *ids.rbegin();
}

sync_reply start_run(self_ptr self, const sync_request& req) {
  auto& st = self->state;
  active_run r;
  r.id = st.facts.last_run_id + 1;
  r.kind = sync_kind_name(req.kind);
  r.full = req.full;
  r.started_ms = now_ms(self);
  if (req.kind == sync_kind::resume) r.resumes = std::exchange(st.interrupted_run, 0);
  for (auto& s : st.cfg.streams) r.streams.push_back({s.name, 0, -1, false});
  st.facts.last_run_id = r.id;
  st.facts.active_run_id = r.id;
  st.facts.last_attempt_ms = r.started_ms;
  st.last_skip_reason.clear();
  if (req.kind == sync_kind::scheduled) st.facts.last_scheduled_ms = r.started_ms;
  st.run = std::move(r);
  write_batch b;
  b.run_id = st.run->id;
  b.run_patch = self->state.run->progress_record().dump();
  auto started = event(
      self, "info", "run_started",
      std::string("run ") + std::to_string(st.run->id) + " started (" + sync_kind_name(req.kind) +
          (req.full ? ", full" : "") +
          (st.run->resumes ? ", resuming run " + std::to_string(st.run->resumes) : std::string()) +
          ")");
  started["run_id"] = st.run->id;
  if (st.run->resumes) started["resumes"] = st.run->resumes;
  b.log_events.push_back(started.dump());
  b.integration_doc = doc_of(self);
  write(
      self, std::move(b), [](const batch_result&) {}, [](const caf::error&) {});
  auto id = st.run->id;
  // A push run only sends the outbox: its streams count as done.
  bool push_only = req.kind == sync_kind::push;
  st.run->stream_idx = push_only ? st.cfg.streams.size() : 0;
  if (has_push_work(self)) {  // the outbox first, so the run's reading sees what it wrote
    st.run->pushing = true;
    next_push(self);
    return {sync_outcome::started, id, 0, "run " + std::to_string(id) + " started"};
  }
  if (st.cfg.streams.empty() || push_only) {
    maybe_finish(self);
    return {sync_outcome::started, id, 0, push_only ? "nothing to push" : "nothing to sync"};
  }
  st.run->streams_started = true;
  start_stream(self);
  return {sync_outcome::started, id, 0, "run " + std::to_string(id) + " started"};
}

}  // namespace ledgersync::integration_detail
