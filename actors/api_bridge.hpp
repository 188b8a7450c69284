// The HTTP API's gateway (api/gateway.hpp) over the actor system: every call becomes the same
// client_request the CLI sends, handed to the front door in-process, so the API and the CLI are
// two adapters over one set of operations. Server-sent events forward the status feed's
// changes (status_feed_actor in actors/messages.hpp).
#pragma once

#include <caf/actor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "api/gateway.hpp"
#include "api/http_server.hpp"

namespace ledgersync {
namespace notify {
class subscription_store;
}

// `front_door` is the published actor; `token` the service's own credential (the HTTP server
// has already authenticated the caller and checked its role).
// `status_feed` (a status_feed_actor) feeds /api/v1/events; without it the stream stays quiet.
std::unique_ptr<api::gateway> make_api_bridge(caf::actor_system& sys, caf::actor front_door,
                                              std::string token,
                                              notify::subscription_store* hooks = nullptr,
                                              caf::actor status_feed = {});

// The HTTP API as the service runs it: the bridge, the token file of the data dir and the server.
struct http_api_options {
  std::string listen;                  // HOST:PORT; port 0 picks one
  bool fall_back_to_any_port = false;  // when the port is taken (the demo)
  std::string tls_cert_file, tls_key_file;
  std::string data_dir;
  notify::subscription_store* webhooks = nullptr;  // for /api/v1/webhooks
  caf::actor status_feed;                          // for /api/v1/events
};
class http_api {
 public:
  virtual ~http_api() = default;
  virtual uint16_t port() const = 0;
  virtual void stop() = 0;
};
// Watches the status feed and hands each of its batches ({"snapshot", "changed": [status
// documents], "removed": [names]}) to `seen`, on an actor's thread (webhooks derive their
// events from them: notify/status_events.hpp); the first is a snapshot of every integration.
// It keeps no document: what it needs of them is `seen`'s to keep.
// The caller stops it (an exit message) and waits for it before `seen`'s captures go away.
caf::actor watch_statuses(caf::actor_system& sys, caf::actor status_feed,
                          std::function<void(const nlohmann::json&)> seen);

// Null, with `error`, when the address is unusable, taken, or beyond loopback without TLS.
std::unique_ptr<http_api> start_http_api(caf::actor_system& sys, caf::actor front_door,
                                         std::string token, const http_api_options& o,
                                         std::string& error);

}  // namespace ledgersync
