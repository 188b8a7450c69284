// The front door: the only actor the control port publishes. CAF's middleman hands a connected
// peer a handle to the published actor, and a scheduled actor obeys some system messages no
// matter what its handlers say (an exit_msg with reason `kill` ends it unconditionally; a
// published engine once quit on a plain exit_msg while the process kept the port). So the
// published actor is a blocking actor, to which every message is ordinary: it takes
// client_request and delegates it by the operations table to the engine or the queries
// (which answer the client directly, so a slow request never holds up the next), and drops
// everything else — exits, downs, errors, stray types — with a log line. It stops only when
// the service has set the shared `stopping` flag: a peer can claim any sender, but it cannot
// write the service's memory.
#include <spdlog/spdlog.h>

#include "actors/context.hpp"
#include "ops/operations.hpp"

namespace ledgersync {

namespace {

class front_door : public caf::blocking_actor {
 public:
  front_door(caf::actor_config& cfg, engine_actor engine, caf::actor queries,
             std::shared_ptr<std::atomic<bool>> stopping)
      : caf::blocking_actor(cfg),
        engine_(std::move(engine)),
        queries_(std::move(queries)),
        stopping_(std::move(stopping)) {}

  const char* name() const override { return "front_door"; }

  void act() override {
    bool running = true;
    auto refuse = [](const char* what, const std::string& detail) {
      spdlog::warn("control port: ignored {} from a client ({})", what, detail);
    };
    receive_while(running)(
        [&](client_request& req) {
          // An older CLI cannot decode this protocol's reply: tell it in its own.
          if (req.version < protocol_version) {
            auto why = "this CLI speaks protocol " + std::to_string(req.version) +
                       ", the service " + std::to_string(protocol_version) + ": upgrade the CLI";
            make_response_promise().deliver(client_reply_v1{1, 2, "{\"error\":\"" + why + "\"}"});
            return;
          }
          // Reads go to the queries, so they never wait behind the supervisor's work.
          auto* op = ops::find(req.op);
          if (op && op->route == ops::route::queries)
            delegate(queries_, std::move(req));
          else
            delegate(engine_, std::move(req));
        },
        [&](caf::exit_msg& em) {
          if (stopping_->load()) {
            running = false;
            return;
          }
          refuse("an exit message", caf::to_string(em.reason));
        },
        [&](caf::down_msg& dm) { refuse("a down message", caf::to_string(dm.reason)); },
        [&](caf::error& err) { refuse("an error message", caf::to_string(err)); },
        caf::others >> [&](caf::message_view& x) -> caf::result<caf::message> {
          // No request of ours; left unmatched it would stay in the mailbox for good.
          refuse("a message of another type", caf::to_string(x.content()).substr(0, 120));
          return caf::sec::unexpected_message;
        });
  }

 private:
  engine_actor engine_;
  caf::actor queries_;
  std::shared_ptr<std::atomic<bool>> stopping_;
};

}  // namespace

caf::actor spawn_front_door(caf::actor_system& sys, engine_actor engine, caf::actor queries,
                            std::shared_ptr<std::atomic<bool>> stopping) {
  return sys.spawn<front_door>(std::move(engine), std::move(queries), std::move(stopping));
}

}  // namespace ledgersync
