// The scheduler: one timer per scheduled integration, on the actor clock. `delayed_send` cannot
// be cancelled, so each timer carries a generation and a superseded one is ignored when it
// arrives. Identical schedules are spread by a per-name offset; a fire missed while the service
// was down runs once at start-up, not once per missed slot. Fires go to the engine, which
// wakes an integration that is asleep; an asleep one has no actor to send them to.
#include <spdlog/spdlog.h>

#include "actors/context.hpp"
#include "config/schedule.hpp"

namespace ledgersync {

namespace {

struct scheduled_entry {
  std::string name;
  bool full = false;
  schedule sched;
  std::chrono::milliseconds offset{0};
  engine_actor target;
  uint64_t gen = 0;
};

struct scheduler_state {
  std::map<std::string, scheduled_entry> entries;
  uint64_t next_gen = 1;
  static inline const char* name = "scheduler";
};

using sched_ptr = scheduler_actor::stateful_pointer<scheduler_state>;

void arm(sched_ptr self, const context_ptr& ctx, const std::string& key, sys_ms after) {
  auto& e = self->state.entries[key];
  e.gen = self->state.next_gen++;
  auto next = e.sched.next_after(after, e.offset);
  if (!next) {
    if (!e.full) self->send(e.target, next_run_atom::value, e.name, int64_t{0});
    return;
  }
  auto now = ctx->now(self->clock().now());
  auto delay = std::max<std::chrono::milliseconds>(*next - now, std::chrono::milliseconds(0));
  self->delayed_send(self, delay, tick_atom::value, key, e.gen);
  if (!e.full) self->send(e.target, next_run_atom::value, e.name, to_ms(*next));
}

// Entries are keyed by name, and a reconcile schedule by name + "\n" (names never hold one).
std::string entry_key(const std::string& name, bool full) {
  return full ? name + "\nreconcile" : name;
}

void fire(sched_ptr self, const std::string& name, bool full, engine_actor target) {
  self->request(target, std::chrono::seconds(30), sync_atom::value, name,
                sync_request{sync_kind::scheduled, full})
      .then(
          [name](const sync_reply& r) {
            if (r.outcome == sync_outcome::skipped)
              spdlog::info("scheduler: {}: fire skipped: {}", name, r.message);
          },
          [name](const caf::error& err) {
            spdlog::warn("scheduler: {}: fire not delivered: {}", name, caf::to_string(err));
          });
}

scheduler_actor::behavior_type scheduler_fn(sched_ptr self, context_ptr ctx) {
  return {[=](schedule_atom, const std::string& name, const std::string& spec, int64_t last_fire_ms,
              bool full, engine_actor target) {
            std::string err;
            auto s = schedule::parse(spec, err);
            auto key = entry_key(name, full);
            if (!s || s->is_manual()) {
              self->state.entries.erase(key);
              if (!s) spdlog::warn("scheduler: {}: {}", name, err);
              if (!full) self->send(target, next_run_atom::value, name, int64_t{0});
              return;
            }
            auto& e = self->state.entries[key];
            e.name = name;
            e.full = full;
            e.sched = *s;
            e.offset = s->spread_offset(name);
            e.target = target;
            auto now = ctx->now(self->clock().now());
            if (last_fire_ms > 0) {
              auto due = s->next_after(from_ms(last_fire_ms), e.offset);
              if (due && *due <= now) {
                spdlog::info("scheduler: {}: missed the fire at {}, running it once now", name,
                             format_iso(*due));
                fire(self, name, full, target);
              }
            }
            arm(self, ctx, key, now);
          },
          [=](unschedule_atom, const std::string& name) {
            self->state.entries.erase(entry_key(name, false));
            self->state.entries.erase(entry_key(name, true));
          },
          [=](tick_atom, const std::string& key, uint64_t gen) {
            auto i = self->state.entries.find(key);
            if (i == self->state.entries.end() || i->second.gen != gen) return;  // superseded
            fire(self, i->second.name, i->second.full, i->second.target);
            arm(self, ctx, key, ctx->now(self->clock().now()));
          }};
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& sys, context_ptr ctx) {
  return sys.spawn(scheduler_fn, std::move(ctx));
}

}  // namespace ledgersync
