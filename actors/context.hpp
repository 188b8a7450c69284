// What every actor of one service shares: the storage to read, the writer to write through,
// the key sealer, how to reach upstreams, and the wall clock anchored to the actor clock.
// Immutable after construction; the pointees are thread-safe for the uses made of them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "connectors/http_client.hpp"
#include "core/metrics.hpp"
#include "core/shared_budget.hpp"
#include "core/time_util.hpp"
#include "storage/secrets.hpp"

namespace ledgersync {

struct service_context {
  storage* store = nullptr;
  const secret_box* secrets = nullptr;
  // One transport per integration, with that integration's TLS settings.
  std::function<std::shared_ptr<http_transport>(const tls_options&)> make_transport;
  log_writer_actor writer;
  // Where integrations publish their status as it changes (may be unset: nobody watches).
  status_feed_actor feed;
  wall_clock clock;
  uint64_t seed = 42;  // retry jitter; tests fix it
  // Restart intensity: at most `max_restarts` within `restart_window`, then left stopped.
  int max_restarts = 3;
  std::chrono::seconds restart_window{60};
  // An integration actor idle this long is let go (engine_actor): nothing runs, waits or
  // is waited for. Its next fire or operation wakes it. Tests shorten it.
  std::chrono::milliseconds sleep_after{std::chrono::minutes(1)};
  // Pages whose commit may be outstanding while the next one is fetched.
  int write_window = 2;
  // What integrations of one app spend together (a connector kind's shared_limit).
  std::shared_ptr<shared_budget> budgets = std::make_shared<shared_budget>();

  sys_ms now(caf::actor_clock::time_point t) const { return clock.at(t); }
};

using context_ptr = std::shared_ptr<const service_context>;

// Samples how many messages wait in the actor's mailbox as it takes one (the gauge
// mailbox_backlog{actor, integration}): a number that keeps growing names the actor that cannot
// keep up. Called from the actor's own handlers only (the count is the owner's to read).
template <class Self>
void sample_backlog(Self* self, const char* actor, const std::string& integration = {}) {
  metrics::labels l{{"actor", actor}};
  if (!integration.empty()) l.emplace_back("integration", integration);
  metrics::instance().set_gauge("mailbox_backlog",
                                "messages waiting in an actor's mailbox, sampled as it takes one",
                                l, static_cast<double>(self->mailbox().size()));
}

// How the log writer prunes history (see log_writer_actor): the clock dates the retention
// cutoff; tests shorten the step to see steps interleave with writes.
struct log_writer_options {
  wall_clock clock;
  std::chrono::milliseconds prune_every{std::chrono::minutes(1)};
  size_t prune_step_deletes = 500;
};

// Spawns. `detached` gives the writer its own thread (it blocks on fsync); tests keep it on the
// test scheduler.
log_writer_actor spawn_log_writer(caf::actor_system& sys, storage* store, bool detached,
                                  log_writer_options opts);
scheduler_actor spawn_scheduler(caf::actor_system& sys, context_ptr ctx);
// `doc` is the stored integration document; a resumed pass (crash mid-sync) restarts at once.
// `woken`: what the actor that went to sleep handed over (slept false: none). The actor tells
// `engine` when it has been idle for `sleep_after`.
integration_actor spawn_integration(caf::actor_system& sys, context_ptr ctx, std::string doc,
                                    engine_actor engine, integration_rest woken = {});
engine_actor spawn_engine(caf::actor_system& sys, context_ptr ctx, scheduler_actor sched,
                          std::string token);
// The queries (actors/queries.cpp): a round-robin pool of `workers` queries_actor, each on its
// own thread when `detached` (the service; tests keep them on the test scheduler).
caf::actor spawn_queries(caf::actor_system& sys, context_ptr ctx, engine_actor engine,
                         std::string token, size_t workers, bool detached);
// The actor the control port publishes (actors/front_door.cpp): passes each client request to
// whoever the operations table routes it to (the engine or the queries), ignores every other
// message; stops on an exit only once `stopping` is set.
caf::actor spawn_front_door(caf::actor_system& sys, engine_actor engine, caf::actor queries,
                            std::shared_ptr<std::atomic<bool>> stopping);
// Full readings start once it is sent (source_atom, front door, token).
status_feed_actor spawn_status_feed(caf::actor_system& sys);

// The integration document as stored: {"config": {... "api_key_sealed"}, "status": {...}}.
struct integration_config;
std::string make_integration_doc(const integration_config& c, const secret_box& box,
                                 const std::string& status_json);
// The reverse for a stored config: unseals `api_key_sealed` and `tls_client_key_sealed` into
// `api_key` and `tls_client_key`, and `settings_sealed` (the connector's secret settings) into
// `settings`, in place; names each secret that cannot be unsealed in `failed`.
void unseal_config(nlohmann::json& cfg, const secret_box& box, std::vector<std::string>& failed);

}  // namespace ledgersync
