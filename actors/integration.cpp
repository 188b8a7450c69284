// The integration actor: one per integration, the only owner of its config, status, cursors,
// active run, token buckets and retry policy.
//
// A run walks the streams in order. For each page: fetch (async, on the I/O threads) → parse →
// validate → hand the page, the cursor that follows it and the run's progress to the log writer
// as one batch → the committed cursor moves only when the writer confirms. The next page is
// fetched while the previous commit is outstanding (at most `write_window` pages), which keeps
// both the network and the disk busy without unbounded mailboxes.
#include "actors/integration_state.hpp"
#include "config/config_change.hpp"

namespace ledgersync {

using namespace integration_detail;

namespace integration_detail {

bool idle(self_ptr self) {
  auto& st = self->state;
  auto now = mono(self);
  bool buckets_full = st.manual.available(now) == st.manual.burst() &&
                      st.upstream.available(now) == st.upstream.burst();
  bool token_current = !st.access_token.empty() && now_ms(self) < st.access_expires_ms;
  bool sign_in_open = st.sign_in && now_ms(self) < st.sign_in->expires_ms;
  // Open pushes a disabled integration (or a kind that cannot send them) holds need no actor:
  // enabling it wakes one, which reads them again.
  return !st.run && st.ends_in_flight == 0 && st.writes_in_flight == 0 && st.unwritten.empty() &&
         !st.persist_armed && !st.doc_unsaved && st.status_waiting.empty() &&
         st.run_waiters.empty() && st.probes.empty() && st.probe_tokens.empty() &&
         st.connects.empty() && st.token_requests.empty() && st.token_request == 0 &&
         !sign_in_open && !token_current && !has_push_work(self) && st.push_queue.empty() &&
         !st.push_accepting && !st.push_retry_armed && !st.push_after_run &&
         now >= st.quota_free_at && buckets_full;
}

}  // namespace integration_detail

namespace {

integration_actor::behavior_type integration_fn(self_ptr self, context_ptr ctx, std::string doc,
                                                engine_actor engine, integration_rest woken) {
  auto& st = self->state;
  st.ctx = ctx;
  st.engine = std::move(engine);
  auto j = json::parse(doc, nullptr, false);
  std::string err;
  auto cfg_json = j.is_object() && j.contains("config") ? j["config"] : json::object();
  std::vector<std::string> unsealable;
  unseal_config(cfg_json, *ctx->secrets, unsealable);
  auto cfg = config_from_json(cfg_json, err);
  if (!cfg) {
    // The actor stops at once; the engine sees the exit reason and reports it as a crash.
    spdlog::error("integration document unreadable: {}", err);
    self->quit(caf::make_error(caf::sec::invalid_argument, "unreadable config: " + err));
    cfg = integration_config{};
    cfg->streams = default_rest_streams();
  }
  for (auto& what : unsealable)
    spdlog::error("{}: the stored {} cannot be unsealed (master.key changed?)", cfg->name, what);
  st.facts = status_facts::from_json(j.value("status", json::object()));
  if (woken.slept) {  // what the last actor knew and had not written, it handed over
    st.facts = status_facts::from_json(json::parse(woken.facts, nullptr, false));
    st.next_run_ms = woken.next_run_ms;
    st.last_skip_reason = woken.last_skip_reason;
  }
  apply_config(self, std::move(*cfg));
  st.transport = ctx->make_transport(st.cfg.tls);
  for (auto& [stream, c] : ctx->store->cursors(st.cfg.name))
    st.cursors[stream] = stream_cursor::from_json(c);
  close_interrupted(self);
  load_outbox(self);
  // Continue a run a crash interrupted: its pass resumes from the last committed page.
  bool interrupted =
      std::any_of(st.cursors.begin(), st.cursors.end(), [](auto& kv) { return kv.second.in_pass; });
  // Not after a sleep: a pass a failed run left under way waits for the next run (which goes
  // on from it), as it did while the actor was awake; a wake for `test` starts no sync.
  if (woken.slept) {
  } else if (interrupted && st.cfg.enabled) {
    caf::anon_send(caf::actor_cast<integration_actor>(self), sync_atom::value,
                   sync_request{sync_kind::resume, false});
  } else if (has_push_work(self)) {  // pushes a stop left unsent go out now
    caf::anon_send(caf::actor_cast<integration_actor>(self), sync_atom::value,
                   sync_request{sync_kind::push, false});
  }
  publish_status(self);  // a new integration shows at once
  if (st.engine) self->delayed_send(self, ctx->sleep_after, doze_atom::value);

  return {
      [=](sync_atom, const sync_request& req) -> sync_reply {
        auto& st = self->state;
        if (!st.cfg.enabled)
          return {sync_outcome::disabled, 0, 0, st.cfg.name + " is disabled; enable it to sync"};
        if (req.kind == sync_kind::push) {
          st.push_retry_armed = false;
          if (st.run) return {sync_outcome::joined, st.run->id, 0, "the active run sends them"};
          if (!has_push_work(self)) return {sync_outcome::skipped, 0, 0, "nothing to push"};
          if (st.facts.awaiting_key || now_ms(self) < st.facts.rate_limited_until_ms) {
            arm_push_retry(self);
            return {sync_outcome::skipped, 0, 0, "pushes wait: " + scheduled_pause(st.facts, now_ms(self))};
          }
          return start_run(self, req);
        }
        if (st.run) {
          if (req.kind == sync_kind::scheduled) {
            write_batch b;
            b.log_events.push_back(event(self, "info", "schedule_skipped",
                                         "scheduled run skipped: run " +
                                             std::to_string(st.run->id) + " is still active")
                                       .dump());
            st.facts.last_scheduled_ms = now_ms(self);
            write(
                self, std::move(b), [](const batch_result&) {}, [](const caf::error&) {});
            return {sync_outcome::skipped, st.run->id, 0, "a run is already active"};
          }
          return {sync_outcome::joined, st.run->id, 0,
                  "joined run " + std::to_string(st.run->id) + " already in progress"};
        }
        if (req.kind == sync_kind::scheduled || req.kind == sync_kind::resume) {
          if (auto why = scheduled_pause(st.facts, now_ms(self)); !why.empty()) {
            if (req.kind == sync_kind::scheduled) st.facts.last_scheduled_ms = now_ms(self);
            if (why != st.last_skip_reason) {  // once per reason, not once a minute
              st.last_skip_reason = why;
              write_batch b;
              b.log_events.push_back(
                  event(self, "info", "schedule_paused", "scheduled run skipped: " + why).dump());
              write(
                  self, std::move(b), [](const batch_result&) {}, [](const caf::error&) {});
            }
            return {sync_outcome::skipped, 0, 0, why};
          }
        }
        // The upstream said when it takes calls again (a daily quota spent): a run by hand
        // before then would only be refused, or spend what little the upstream has left.
        if (req.kind == sync_kind::manual && now_ms(self) < st.facts.rate_limited_until_ms) {
          auto until = st.facts.rate_limited_until_ms, wait = until - now_ms(self);
          auto& why = st.facts.last_error.message;
          return {sync_outcome::rate_limited, 0, wait,
                  (why.empty() ? std::string("the upstream's rate limit is used up") : why) +
                      "; syncs resume at " + format_iso(from_ms(until)) + " (in " +
                      std::to_string((wait + 999) / 1000) + "s)"};
        }
        if (req.kind == sync_kind::manual && !st.manual.try_take(mono(self))) {
          count_metric(self, "manual_syncs_refused_total",
                       "Sync now requests refused by the manual-sync limit");
          auto wait = std::chrono::duration_cast<milliseconds>(st.manual.wait_time(mono(self)));
          auto secs = (wait.count() + 999) / 1000;
          return {sync_outcome::rate_limited, 0, wait.count(),
                  "manual sync limit reached (" + std::to_string(st.cfg.manual_burst) +
                      " at once, one more every " + std::to_string(st.cfg.manual_refill_s) +
                      "s); try again in " + std::to_string(secs) + "s"};
        }
        return start_run(self, req);
      },
      [=](push_atom, std::string& args) { return accept_push(self, std::move(args)); },
      [=](status_atom) -> caf::result<std::string> {
        if (self->state.ends_in_flight > 0) {
          self->state.status_waiting.push_back(self->make_response_promise<std::string>());
          return self->state.status_waiting.back();
        }
        return status_text(inputs(self));
      },
      [=](configure_atom, const std::string& cfg_text) -> caf::typed_response_promise<bool> {
        auto rp = self->make_response_promise<bool>();
        std::string err;
        auto cfg = config_from_json(json::parse(cfg_text, nullptr, false), err);
        if (!cfg) {
          rp.deliver(caf::make_error(caf::sec::invalid_argument, err));
          return rp;
        }
        // Read from the store before a rotation landed, the new settings would bring back the
        // refresh token the vendor has just spent.
        auto& spent = self->state.spent_refresh_token;
        if (!spent.empty() && cfg->settings.is_object() &&
            cfg->settings.value("refresh_token", json()) == json(spent))
          cfg->settings["refresh_token"] = self->state.cfg.settings["refresh_token"];
        bool was_enabled = self->state.cfg.enabled;
        bool new_tls = !(cfg->tls == self->state.cfg.tls);
        auto moved = compare_streams(self->state.cfg.streams, cfg->streams);
        // A run walks the streams by position: one under way stops (what it committed stays)
        // rather than go on through a list that changed under it.
        if (moved.moves() && self->state.run && !self->state.run->cancelled) {
          self->state.run->cancelled = true;
          fail_run(self, {});
        }
        apply_config(self, std::move(*cfg));
        // A fetch in flight keeps the old transport alive until it answers.
        if (new_tls) self->state.transport = self->state.ctx->make_transport(self->state.cfg.tls);
        auto& f = self->state.facts;
        if (category_disconnects(f.last_error.category) ||
            f.last_error.category == error_category::config)
          f.last_error = {};  // new settings deserve a fresh verdict
        f.awaiting_key = false;
        f.consecutive_failures = 0;
        self->state.last_skip_reason.clear();
        if (was_enabled && !self->state.cfg.enabled && self->state.run) {
          self->state.run->cancelled = true;
          fail_run(self, {});
        }
        write_batch b;
        b.integration_doc = doc_of(self);
        // Dropped with the settings, in one transaction: a removed stream's records stay.
        for (auto& stream : moved.dropped_cursors()) {
          self->state.cursors.erase(stream);
          b.cursors[stream] = "";
          if (self->state.run)
            for (auto& c : self->state.run->commits)
              if (c.stream == stream) c.adopt = false;
        }
        b.log_events.push_back(event(self, "info", "configured", "settings saved").dump());
        write(
            self, std::move(b), [rp](const batch_result&) mutable { rp.deliver(true); },
            [rp](const caf::error& e) mutable { rp.deliver(e); });
        return rp;
      },
      [=](enable_atom, bool on) -> caf::typed_response_promise<bool> {
        auto rp = self->make_response_promise<bool>();
        auto& st = self->state;
        st.cfg.enabled = on;
        st.facts.crash.clear();
        if (!on && st.run) {
          st.run->cancelled = true;
          ++st.timer_gen;
          st.run->request_id = 0;
          st.run->waiting = false;
          maybe_finish(self);
        }
        write_batch b;
        b.integration_doc = doc_of(self);
        b.log_events.push_back(
            event(self, "info", on ? "enabled" : "disabled",
                  on ? "enabled: scheduled syncs resume" : "disabled: settings kept, no syncing")
                .dump());
        write(
            self, std::move(b), [rp](const batch_result&) mutable { rp.deliver(true); },
            [rp](const caf::error& e) mutable { rp.deliver(e); });
        if (on && !st.run && has_push_work(self))  // what the pause held goes out now
          caf::anon_send(caf::actor_cast<integration_actor>(self), sync_atom::value,
                         sync_request{sync_kind::push, false});
        return rp;
      },
      [=](test_atom) -> caf::typed_response_promise<std::string> {
        auto rp = self->make_response_promise<std::string>();
        if (needs_token(self))
          test_after_token(self, rp);
        else
          send_probe(self, rp);
        return rp;
      },
      [=](connect_atom, const std::string& args) -> caf::typed_response_promise<std::string> {
        return connect_step(self, args);
      },
      [=](dismiss_atom, const std::string& stream, const std::string& id,
          const std::string& by) -> caf::typed_response_promise<std::string> {
        auto rp = self->make_response_promise<std::string>();
        auto& st = self->state;
        bool counted = false;
        for (auto& text : st.ctx->store->set_aside(st.cfg.name)) {
          auto j = json::parse(text, nullptr, false);
          if (j.is_object() && j.value("id", "") == id &&
              (stream.empty() || j.value("stream", "") == stream) && !j.value("dismissed", false)) {
            counted = true;
            write_batch b;
            b.dismiss.emplace_back(j.value("stream", ""), id);
            b.actor = by;
            write(
                self, std::move(b),
                [self, rp, id](const batch_result& res) mutable {
                  self->state.facts.set_aside = res.set_aside_total;
                  write_batch d;
                  d.integration_doc = doc_of(self);
                  write(
                      self, std::move(d), [](const batch_result&) {}, [](const caf::error&) {});
                  rp.deliver(json{{"dismissed", id}, {"set_aside", res.set_aside_total}}.dump());
                },
                [rp](const caf::error& e) mutable { rp.deliver(e); });
            break;
          }
        }
        if (!counted)
          rp.deliver(json{
              {"error", "no set-aside record '" + id + "'" +
                            (stream.empty() ? "" : " in stream " + stream) + " awaits a decision"},
              {"hint", "The set-aside list shows the records that await one."},
              {"action", {{"op", "set_aside"}, {"name", st.cfg.name}}}}
                         .dump());
        return rp;
      },
      [=](wait_atom, uint64_t run_id, int64_t timeout_ms) -> caf::result<std::string> {
        auto& st = self->state;
        bool active = st.run && st.run->id == run_id;
        // A run that has just ended counts as running until its end has landed.
        if (!active && st.ends_in_flight == 0)
          return json{{"done", true}, {"status", status_json(inputs(self))}}.dump();
        if (timeout_ms <= 0)
          return json{{"done", false}, {"status", status_json(inputs(self))}}.dump();
        auto id = st.next_waiter++;
        auto rp = self->make_response_promise<std::string>();
        st.run_waiters.emplace(id, integration_state::run_waiter{run_id, rp});
        self->delayed_send(self, milliseconds(timeout_ms), wait_over_atom::value, id);
        return rp;
      },
      [=](wait_over_atom, uint64_t id) {
        auto& st = self->state;
        auto it = st.run_waiters.find(id);
        if (it == st.run_waiters.end()) return;  // answered when the run ended
        it->second.rp.deliver(json{{"done", false}, {"status", status_json(inputs(self))}}.dump());
        st.run_waiters.erase(it);
      },
      [=](persist_atom) {
        auto& st = self->state;
        st.persist_armed = false;
        auto pending = std::move(st.unwritten);
        st.unwritten.clear();
        for (auto& b : pending) {
          if (!b.integration_doc.empty()) b.integration_doc = doc_of(self);
          persist(self, std::move(b));
        }
      },
      [=](doze_atom) {
        // Re-armed whatever the engine decides: a busy actor is asked again later.
        self->delayed_send(self, self->state.ctx->sleep_after, doze_atom::value);
        if (idle(self))
          self->send(self->state.engine, idle_atom::value, self->state.cfg.name,
                     caf::actor_cast<integration_actor>(self));
      },
      [=](sleep_atom) -> integration_rest {
        // The engine holds back whatever it would send here until this answer: a message
        // already on its way (a status read) is answered before it, or by storage after.
        auto& st = self->state;
        if (!idle(self)) return {};
        integration_rest rest{true,
                              st.facts.to_json().dump(),
                              st.cfg.connector,
                              st.cfg.schedule,
                              st.cfg.enabled,
                              st.next_run_ms,
                              st.last_skip_reason};
        self->quit();
        return rest;
      },
      [=](next_run_atom, int64_t at_ms) {
        self->state.next_run_ms = at_ms;
        publish_status(self);
      },
      [=](fetched_atom, uint64_t id, http_response& resp) {
        auto& st = self->state;
        sample_backlog(self, "integration", st.cfg.name);
        auto answer = resp.status == 0 ? std::string("transport_error")
                                       : std::to_string(resp.status / 100) + "xx";
        count_metric(self, "upstream_requests_total", "requests to upstreams, by answer",
                     {{"answer", resp.status == 429 ? std::string("429") : answer}});
        if (auto p = st.probes.find(id); p != st.probes.end()) {
          auto e = st.conn->probe_error(st.cfg.streams.front(), resp);
          json out{{"ok", e.ok()}, {"status", resp.status}};
          if (e.ok()) {
            out["message"] =
                "connected: " + st.cfg.base_url + " answered HTTP " + std::to_string(resp.status);
            if (!resp.peer_subject.empty())
              out["certificate"] = {{"subject", resp.peer_subject},
                                    {"issuer", resp.peer_issuer},
                                    {"expires", resp.peer_not_after}};
            if (st.facts.awaiting_key || st.facts.consecutive_failures > 0) {
              st.facts.awaiting_key = false;
              st.facts.consecutive_failures = 0;
              st.last_skip_reason.clear();
              write_batch b;
              b.integration_doc = doc_of(self);
              b.log_events.push_back(event(self, "info", "test_passed",
                                           "connection test passed: scheduled syncs resume")
                                         .dump());
              write(
                  self, std::move(b), [](const batch_result&) {}, [](const caf::error&) {});
            }
          } else {
            out.update(error_json(e));
          }
          p->second.deliver(out.dump());
          st.probes.erase(p);
          return;
        }
        if (on_token_fetched(self, id, resp)) return;
        if (!st.run || st.run->request_id != id) return;  // late answer to an abandoned request
        st.run->request_id = 0;
        if (st.run->pushing && st.run->push_seq)
          on_push_answer(self, resp);
        else
          on_page(self, resp);
        publish_status(self);  // fetched counts, or the wait a 429 or a retry began
      },
      [=](retry_atom, uint64_t gen) {
        auto& st = self->state;
        if (gen != st.timer_gen || !st.run || !st.run->waiting) return;
        st.run->waiting = false;
        fetch_page(self);
        publish_status(self);
      },
      [=](deadline_atom, uint64_t id) {
        auto& st = self->state;
        if (auto p = st.probes.find(id); p != st.probes.end()) {
          auto e =
              make_error_info(error_category::timeout, "no answer from " + st.cfg.base_url, true);
          auto out = error_json(e);
          out["ok"] = false;
          p->second.deliver(out.dump());
          st.probes.erase(p);
          return;
        }
        if (auto t = st.probe_tokens.find(id); t != st.probe_tokens.end()) {
          auto out = error_json(make_error_info(error_category::timeout,
                                                "no answer from the token endpoint in time", true));
          out["ok"] = false;
          t->second.deliver(out.dump());
          st.probe_tokens.erase(t);
          return;
        }
        if (auto c = st.connects.find(id); c != st.connects.end()) {
          json late{{"error", "no answer from the token endpoint in time"}, {"from_vendor", true}};
          c->second.deliver(late.dump());
          st.connects.erase(c);
          return;
        }
        if (st.token_request == id) st.token_request = 0;
        if (!st.run || st.run->request_id != id) return;
        st.run->request_id = 0;
        auto late = make_error_info(error_category::timeout, "no answer from the upstream in time",
                                    true);
        if (st.run->pushing && st.run->push_seq)
          on_push_error(self, late);
        else
          on_page_error(self, late);
      }};
}

}  // namespace

std::string make_integration_doc(const integration_config& c, const secret_box& box,
                                 const std::string& status_doc) {
  json cfg = to_json(c, false);
  cfg.erase("api_key_hint");
  cfg.erase("tls_client_key_hint");
  if (!c.api_key.empty()) cfg["api_key_sealed"] = box.seal(c.api_key);
  if (!c.tls.client_key_pem.empty()) cfg["tls_client_key_sealed"] = box.seal(c.tls.client_key_pem);
  // A secret setting may be any JSON value: its JSON text is what is sealed.
  cfg.erase("settings_hints");
  json sealed = json::object();
  for (auto& key : secret_setting_keys(c.connector))
    if (c.settings.is_object() && c.settings.contains(key))
      sealed[key] = box.seal(c.settings[key].dump());
  if (!sealed.empty()) cfg["settings_sealed"] = sealed;
  return json{{"config", cfg}, {"status", json::parse(status_doc, nullptr, false)}}.dump();
}

void unseal_config(json& cfg, const secret_box& box, std::vector<std::string>& failed) {
  for (auto [sealed, plain, what] :
       {std::tuple{"api_key_sealed", "api_key", "API key"},
        std::tuple{"tls_client_key_sealed", "tls_client_key", "TLS client key"}}) {
    if (!cfg.contains(sealed)) continue;
    auto v = box.unseal(cfg[sealed].get<std::string>());
    if (v)
      cfg[plain] = *v;
    else
      failed.push_back(what);
    cfg.erase(sealed);
  }
  if (auto it = cfg.find("settings_sealed"); it != cfg.end()) {
    if (!cfg.contains("settings") || !cfg["settings"].is_object()) cfg["settings"] = json::object();
    for (auto& [key, text] : it->items()) {
      auto v = text.is_string() ? box.unseal(text.get<std::string>()) : std::nullopt;
      auto value = v ? json::parse(*v, nullptr, false) : json();
      if (v && !value.is_discarded())
        cfg["settings"][key] = std::move(value);
      else
        failed.push_back("setting " + key);
    }
    cfg.erase("settings_sealed");
  }
}

integration_actor spawn_integration(caf::actor_system& sys, context_ptr ctx, std::string doc,
                                    engine_actor engine, integration_rest woken) {
  return sys.spawn(integration_fn, std::move(ctx), std::move(doc), std::move(engine),
                   std::move(woken));
}

}  // namespace ledgersync
