// The engine's state and the functions its two files share: actors/engine.cpp (supervision:
// start-up, sleep and wake, crashes, the schedule; the actor's behaviour) and
// actors/engine_ops.cpp (the operations it answers). Private to those two files.
#pragma once

#include <functional>
#include <vector>

#include "actors/context.hpp"
#include "core/status_model.hpp"

namespace ledgersync::engine_detail {

using nlohmann::json;

using actor_use = std::function<void(integration_actor)>;

// An integration is awake (hdl), asleep (resting), or stopped after a crash storm (neither).
struct supervised {
  integration_actor hdl;
  // What an asleep integration's status says: replaced, never changed in place, since `list`
  // readers on other threads share it.
  std::shared_ptr<const status_inputs> resting;
  std::string last_skip_reason;  // handed from one actor to the next
  int64_t next_run_ms = 0;       // the scheduler's, for whichever actor is awake
  bool dozing = false;           // asked to sleep: `held` waits for the answer
  std::vector<actor_use> held;
  // A vector, not a deque: an empty deque allocates ~600 bytes, per integration.
  std::vector<caf::actor_clock::time_point> restarts;
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

int64_t now_ms(self_ptr self);
// `catch_up`: a fire missed while the service (or the actor) was down runs once now.
void schedule_of(self_ptr self, const std::string& name, const std::string& doc_text,
                 bool catch_up);
// A new actor for `name` from its stored document, and its schedule.
void start_integration(self_ptr self, const std::string& name, const std::string& doc,
                       bool catch_up);
// Runs `use` with `name`'s actor: at once when awake, after waking it when asleep, after the
// answer to a sleep request when one is out. A null actor: stopped after crashes (or gone).
void with_actor(self_ptr self, const std::string& name, actor_use use);
// A client request routed to the supervisor (actors/engine_ops.cpp).
reply_promise answer(self_ptr self, client_request& req);

}  // namespace ledgersync::engine_detail
