// The seam between the HTTP API and the operations layer. The API turns a request into an
// `op_call` (the operation's name as the engine spells it, the integration, JSON arguments and
// who is asking) and writes the `op_result` it gets back; it knows nothing of actors. The lead
// wires an implementation over the operations table; tests use a fake.
// Thread-safety: `call` and `subscribe` are invoked from the server's I/O threads; `done` and
// the event sink may be used from any thread, later (a long-poll answers when the feed moves).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace ledgersync::api {

enum class role { viewer, admin };
const char* role_name(role r);

struct principal {
  std::string token_name;  // recorded in the sync log as who made a change
  api::role role = role::viewer;
};

struct op_call {
  std::string op;           // list, status, show, add, configure, enable, disable, remove, test,
                            // sync, run, logs, records, changes, set_aside, dismiss
  std::string integration;  // empty for list, add, changes
  nlohmann::json args = nlohmann::json::object();
  api::principal principal;
};

struct op_result {
  // Empty when the operation succeeded; otherwise one of invalid_argument, not_found, conflict,
  // rate_limited, unavailable, upstream_failed, unauthorized, forbidden, internal.
  std::string error;
  nlohmann::json body;  // the success document
  std::string message, hint;
  int64_t retry_after_s = 0;  // with rate_limited: sent as Retry-After
  bool ok() const { return error.empty(); }

  static op_result success(nlohmann::json body) { return {{}, std::move(body), {}, {}, 0}; }
  static op_result failure(std::string kind, std::string message, std::string hint = {},
                           int64_t retry_after_s = 0) {
    return {std::move(kind), nullptr, std::move(message), std::move(hint), retry_after_s};
  }
};

// A server-sent-events stream held open for one client. `send` may be called from any thread;
// it returns false once the client has gone, and the subscriber should then drop the sink.
class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual bool send(const std::string& event, const nlohmann::json& data) = 0;
  virtual bool closed() const = 0;
};

class gateway {
 public:
  virtual ~gateway() = default;
  // `done` is called exactly once, possibly later and from another thread. For `sync`, a body
  // with "joined": true means the call joined a running sync (200 instead of 202).
  virtual void call(const op_call& c, std::function<void(op_result)> done) = 0;
  // Live status and progress for /api/v1/events: keep `sink` and push to it until it closes.
  virtual void subscribe(const principal& who, std::shared_ptr<event_sink> sink) = 0;
  // The operational endpoints outside /api: /metrics (Prometheus text; a viewer token),
  // /healthz (the process answers) and /readyz (store open, actors running), the last two
  // without a token. `done(status, content_type, body)` once, from any thread.
  using probe_done = std::function<void(int, std::string, std::string)>;
  virtual void probe(const std::string& /*path*/, probe_done done) {
    done(404, "text/plain; charset=utf-8", "no such endpoint\n");
  }
};

}  // namespace ledgersync::api
