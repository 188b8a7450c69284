// The log writer: the only code that writes to storage. Group commit falls out of the mailbox:
// a write joins the pending group and, if no flush is queued yet, queues one behind itself. By
// the time the flush runs, every write that arrived meanwhile is in the group, and one durable
// transaction answers them all.
//
// Retention pruning rides the same mailbox at low priority: each step deletes a bounded number
// of keys in its own transaction and queues the next step behind whatever arrived meanwhile; a
// step that finds a flush queued goes behind it once, so a page commit waits for at most one
// small step and pruning still progresses under constant load.
#include <spdlog/spdlog.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "actors/context.hpp"
#include "config/integration_config.hpp"
#include "core/metrics.hpp"

namespace ledgersync {

namespace {

struct pending_write {
  write_batch batch;
  caf::typed_response_promise<batch_result> promise;
};

// A long poll on the change feed, answered when a commit takes the feed beyond `since`.
struct feed_waiter {
  uint64_t since = 0;
  caf::actor_clock::time_point until;
  caf::typed_response_promise<uint64_t> promise;
};

struct log_writer_state {
  storage* store = nullptr;
  log_writer_options opts;
  std::vector<pending_write> pending;
  bool flush_queued = false;
  uint64_t groups = 0, batches = 0;
  std::vector<feed_waiter> waiters;
  std::deque<std::string> to_prune;  // integration documents left in this pruning pass
  bool step_queued = false, step_deferred = false;
  static inline const char* name = "log_writer";
};

using self_ptr = log_writer_actor::stateful_pointer<log_writer_state>;

void queue_step(self_ptr self) {
  if (self->state.step_queued) return;
  self->state.step_queued = true;
  self->send(self, prune_step_atom::value);
}

// Answers the waiters the feed has moved past, and (with `expire`) lets go of those whose wait
// is over: their callers' request timeouts have answered them already.
void wake_waiters(self_ptr self, bool expire) {
  auto& st = self->state;
  if (st.waiters.empty()) return;
  auto last = st.store->last_change_seq();
  auto now = self->clock().now();
  auto keep = st.waiters.begin();
  for (auto& w : st.waiters) {
    if (w.since < last || (expire && w.until <= now))
      w.promise.deliver(last);
    else
      *keep++ = std::move(w);
  }
  st.waiters.erase(keep, st.waiters.end());
}

// One step of the pass: the front integration, at most `prune_step_deletes` keys.
void prune_step(self_ptr self) {
  auto& st = self->state;
  if (st.to_prune.empty()) return;
  auto doc = nlohmann::json::parse(st.to_prune.front(), nullptr, false);
  auto cfg =
      doc.is_object() ? doc.value("config", nlohmann::json::object()) : nlohmann::json::object();
  auto name = cfg.value("name", "");
  auto keep = retention_of(cfg);
  auto now = st.opts.clock.at(self->clock().now());
  retention_limits limits{to_ms(now - std::chrono::hours(24) * keep.days),
                          static_cast<uint64_t>(keep.events), static_cast<uint64_t>(keep.runs)};
  prune_result out;
  auto err =
      name.empty() ? error_info{} : st.store->prune(name, limits, st.opts.prune_step_deletes, out);
  if (!err.ok())
    spdlog::warn("log writer: pruning {}'s history failed: {}", name, err.message);
  else if (out.events + out.runs > 0)
    spdlog::debug("log writer: pruned {} events and {} runs of {}", out.events, out.runs, name);
  if (!err.ok() || !out.more) st.to_prune.pop_front();
  if (!st.to_prune.empty()) queue_step(self);
}

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_queued = false;
  if (st.pending.empty()) return;
  auto group = std::move(st.pending);
  st.pending.clear();
  std::vector<const write_batch*> batches;
  batches.reserve(group.size());
  for (auto& w : group) batches.push_back(&w.batch);
  std::vector<batch_result> results;
  auto began = std::chrono::steady_clock::now();
  auto err = st.store->apply_group(batches, results);
  auto& m = metrics::instance();
  m.observe("writer_batch_size", "writes committed together in one transaction",
            {1, 2, 4, 8, 16, 32, 64, 128, 256}, static_cast<double>(group.size()));
  m.observe("writer_commit_seconds", "time to commit one group (durable: fsync included)",
            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  if (!err.ok()) m.count("writer_failures_total", "groups the store refused (a full disk)", {});
  ++st.groups;
  st.batches += group.size();
  if (!err.ok()) {
    spdlog::error("log writer: {} ({} writes refused)", err.message, group.size());
    for (auto& w : group) w.promise.deliver(caf::make_error(caf::sec::runtime_error, err.message));
    return;
  }
  for (size_t i = 0; i < group.size(); ++i) group[i].promise.deliver(results[i]);
  wake_waiters(self, false);
}

log_writer_actor::behavior_type log_writer(self_ptr self, storage* store, log_writer_options opts) {
  self->state.store = store;
  self->state.opts = opts;
  // A stop (SIGTERM) can arrive between a write and the flush it queued behind itself: the
  // writes already taken are committed before the writer goes, so a page that was handed over
  // is durable (and its run's cursor with it) instead of fetched again after the restart.
  self->set_exit_handler([=](const caf::exit_msg& m) {
    flush(self);
    self->quit(m.reason);
  });
  self->delayed_send(self, opts.prune_every, prune_atom::value);
  return {[=](write_atom, write_batch& b) -> caf::typed_response_promise<batch_result> {
            auto p = self->make_response_promise<batch_result>();
            self->state.pending.push_back({std::move(b), p});
            sample_backlog(self, "log_writer");
            metrics::instance().set_gauge("writer_pending_writes",
                                          "writes waiting for the writer's next commit (backlog)",
                                          {}, static_cast<double>(self->state.pending.size()));
            if (!self->state.flush_queued) {
              self->state.flush_queued = true;
              self->send(self, flush_atom::value);
            }
            return p;
          },
          [=](flush_atom) { flush(self); },
          [=](feed_wait_atom, uint64_t since,
              int64_t wait_ms) -> caf::typed_response_promise<uint64_t> {
            auto p = self->make_response_promise<uint64_t>();
            auto last = self->state.store->last_change_seq();
            if (last > since) {
              p.deliver(last);
              return p;
            }
            auto until =
                self->clock().now() + std::chrono::milliseconds(std::max<int64_t>(0, wait_ms));
            self->state.waiters.push_back({since, until, p});
            return p;
          },
          [=](prune_atom) {
            auto& st = self->state;
            wake_waiters(self, true);
            if (st.to_prune.empty())
              for (auto& d : st.store->integration_docs()) st.to_prune.push_back(std::move(d));
            if (!st.to_prune.empty()) queue_step(self);
            self->delayed_send(self, st.opts.prune_every, prune_atom::value);
          },
          [=](prune_step_atom) {
            auto& st = self->state;
            st.step_queued = false;
            if (st.flush_queued && !st.step_deferred) {
              st.step_deferred = true;
              queue_step(self);
              return;
            }
            st.step_deferred = false;
            prune_step(self);
          }};
}

}  // namespace

log_writer_actor spawn_log_writer(caf::actor_system& sys, storage* store, bool detached,
                                  log_writer_options opts) {
  if (detached) return sys.spawn<caf::detached>(log_writer, store, opts);
  return sys.spawn(log_writer, store, opts);
}

}  // namespace ledgersync
