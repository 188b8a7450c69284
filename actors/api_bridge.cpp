#include "actors/api_bridge.hpp"

#include <atomic>
#include <caf/all.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "actors/messages.hpp"
#include "api/tokens.hpp"
#include "api/web_files.hpp"
#include "core/metrics.hpp"
#include "core/time_util.hpp"
#include "notify/subscriptions.hpp"

namespace ledgersync {

namespace {

using nlohmann::json;

// How often a quiet events stream checks that its client is still there.
constexpr auto sink_check_every = std::chrono::seconds(5);
// The longest an operation may take before the API answers 503: a connection test against a
// slow upstream, a change-feed wait of 60 s.
constexpr auto call_timeout = std::chrono::seconds(130);

api::op_result to_result(const std::string& op, const client_reply& r) {
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return api::op_result::failure("internal", "unreadable reply");
  if (r.kind == error_kind::none) {
    if (op == "sync" && body.is_object() && body.value("outcome", "") == "joined")
      body["joined"] = true;
    return api::op_result::success(std::move(body));
  }
  auto text = [&](const char* key) {
    return body.is_object() && body.contains(key) && body[key].is_string()
               ? body[key].get<std::string>()
               : std::string();
  };
  auto message = text("error");
  if (message.empty()) message = text("message");
  // A refused push lists every problem; the API's one error shape has no place for a list, so
  // the message carries them (the CLI reads them from the reply's own list).
  if (body.is_object() && body.contains("problems") && body["problems"].is_array()) {
    std::string sep = ": ";
    for (const auto& p : body["problems"])
      if (p.is_string()) message += std::exchange(sep, "; ") + p.get<std::string>();
  }
  return api::op_result::failure(error_kind_name(r.kind), message, text("hint"),
                                 (r.retry_after_ms + 999) / 1000);
}

client_request request_for(const api::op_call& c, const std::string& token) {
  client_request req;
  req.token = token;
  req.op = c.op;
  req.name = c.integration;
  req.args = c.args.dump();
  if (!c.principal.token_name.empty()) req.by = "token '" + c.principal.token_name + "'";
  return req;
}

// Gauges of state, read from the same status documents `ledgersync list` shows.
std::string status_gauges(const json& docs) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ledgersync_") + name + " " + help + "\n# TYPE ledgersync_" + name +
           " " + type + "\n";
  };
  auto line = [&](const char* name, const metrics::labels& l, double v) {
    std::ostringstream num;
    num << v;
    out += std::string("ledgersync_") + name + metrics::format_labels(l) + " " + num.str() + "\n";
  };
  static const char* statuses[] = {"pending", "active", "error", "disconnected", "disabled"};
  static const char* healths[] = {"unknown", "healthy", "warning", "failure", "off"};
  std::map<std::string, int> by_status;
  family("integration_status", "gauge", "1 for the integration's current status");
  for (auto& d : docs)
    for (auto* s : statuses) {
      bool now = d.value("status", "") == s;
      if (now) ++by_status[s];
      line("integration_status", {{"integration", d.value("name", "")}, {"status", s}}, now);
    }
  family("integration_health", "gauge", "1 for the integration's current health reading");
  for (auto& d : docs)
    for (auto* h : healths)
      line("integration_health", {{"integration", d.value("name", "")}, {"health", h}},
           d.value("health", "") == h);
  family("integration_last_success_timestamp_seconds", "gauge",
         "when the last successful sync ended (Unix time)");
  for (auto& d : docs)
    if (d["last_sync"].is_string())
      if (auto t = parse_iso(d["last_sync"].get<std::string>()))
        line("integration_last_success_timestamp_seconds", {{"integration", d.value("name", "")}},
             static_cast<double>(to_ms(*t)) / 1000);
  family("integration_stale", "gauge", "1 when the last success is older than the schedule allows");
  for (auto& d : docs)
    line("integration_stale", {{"integration", d.value("name", "")}}, d.value("stale", false));
  family("integration_running", "gauge", "1 while a run is under way");
  for (auto& d : docs)
    line("integration_running", {{"integration", d.value("name", "")}}, d.value("running", false));
  family("integration_set_aside_records", "gauge", "records set aside for lacking fields");
  for (auto& d : docs)
    line("integration_set_aside_records", {{"integration", d.value("name", "")}},
         d.value("set_aside", 0));
  family("integrations", "gauge", "integrations by status");
  for (auto* s : statuses) line("integrations", {{"status", s}}, by_status[s]);
  return out;
}

class bridge final : public api::gateway {
 public:
  bridge(caf::actor_system& sys, caf::actor door, std::string token,
         notify::subscription_store* hooks, caf::actor feed)
      : sys_(sys),
        door_(std::move(door)),
        token_(std::move(token)),
        hooks_(hooks),
        feed_(std::move(feed)) {}

  // Webhook subscriptions live in their own file (notify/subscriptions.hpp), not in the engine:
  // the same calls `ledgersync webhook ...` makes.
  api::op_result webhooks(const api::op_call& c) {
    if (!hooks_) return api::op_result::failure("unavailable", "webhooks are not set up");
    notify::notify_error err;
    auto failed = [&] {
      auto kind = err.what == notify::notify_error::invalid     ? "invalid_argument"
                  : err.what == notify::notify_error::not_found ? "not_found"
                                                                : "internal";
      return api::op_result::failure(
          kind, err.message,
          err.what == notify::notify_error::not_found ? "GET /api/v1/webhooks lists them" : "");
    };
    auto id = c.args.value("id", "");
    if (c.op == "webhook_list") {
      auto subs = hooks_->list(err);
      if (!subs) return failed();
      auto out = json::array();
      for (auto& s : *subs) out.push_back(notify::describe(s));
      return api::op_result::success(out);
    }
    if (c.op == "webhook_add") {
      for (auto& [k, v] : c.args.items())
        if (k != "url" && k != "events")
          return api::op_result::failure("invalid_argument",
                                         "webhook: unknown field '" + k + "' (url, events)");
      if (!c.args.contains("url") || !c.args["url"].is_string())
        return api::op_result::failure("invalid_argument", "webhook: url must be a string");
      std::string events;
      if (c.args.contains("events") && c.args["events"].is_array()) {
        for (auto& e : c.args["events"])
          if (e.is_string()) events += (events.empty() ? "" : ",") + e.get<std::string>();
      } else {
        return api::op_result::failure("invalid_argument",
                                       "webhook: events must be a list, e.g. [\"run_failed\"]");
      }
      auto wanted = notify::parse_events(events, err);
      if (!wanted) return failed();
      auto made = hooks_->add(c.args["url"].get<std::string>(), *wanted, err);
      if (!made) return failed();
      auto out = notify::describe(made->sub);
      out["secret"] = made->secret;  // shown once
      return api::op_result::success(out);
    }
    if (c.op == "webhook_remove")
      return hooks_->remove(id, err) ? api::op_result::success(nullptr) : failed();
    if (c.op == "webhook_resume") {
      if (!hooks_->resume(id, err)) return failed();
      auto s = hooks_->get(id, err);
      return s ? api::op_result::success(notify::describe(*s)) : failed();
    }
    auto s = hooks_->get(id, err);
    if (!s) return failed();
    auto out = json::array();
    for (auto& d : s->deliveries) out.push_back(notify::describe(d));
    return api::op_result::success(out);
  }

  void call(const api::op_call& c, std::function<void(api::op_result)> done) override {
    if (c.op.rfind("webhook_", 0) == 0) return done(webhooks(c));
    auto req = request_for(c, token_);
    auto door = door_;
    auto op = c.op;
    // A short-lived actor per call: its reply handler may run much later (a long-poll), and
    // it needs no registration of the callback as a message type.
    sys_.spawn([req = std::move(req), door, op,
                done = std::move(done)](caf::event_based_actor* self) mutable {
      self->request(door, call_timeout, std::move(req))
          .then([op, done](const client_reply& r) { done(to_result(op, r)); },
                [done](const caf::error& e) {
                  done(api::op_result::failure("unavailable",
                                               "the service did not answer: " + to_string(e),
                                               "try again; see the service log if it persists"));
                });
    });
  }

  void probe(const std::string& path, probe_done done) override {
    constexpr auto text = "text/plain; charset=utf-8";
    if (path == "/healthz") return done(200, text, "ok\n");
    auto op = path == "/metrics" ? "list" : "ping";
    auto req = request_for(api::op_call{op, "", json::object(), {}}, token_);
    auto door = door_;
    sys_.spawn([req = std::move(req), door, path,
                done = std::move(done)](caf::event_based_actor* self) mutable {
      self->request(door, std::chrono::seconds(10), std::move(req))
          .then(
              [path, done](const client_reply& r) {
                if (path == "/readyz")
                  return done(r.kind == error_kind::none ? 200 : 503, text,
                              // Unauthenticated: say what is wrong, not what the engine said.
                              r.kind == error_kind::none
                                  ? std::string("ready\n")
                                  : std::string("not ready: ") + error_kind_name(r.kind) + "\n");
                auto docs = json::parse(r.body, nullptr, false);
                if (!docs.is_array()) return done(503, text, "status unavailable\n");
                done(200, "text/plain; version=0.0.4; charset=utf-8",
                     status_gauges(docs) + metrics::instance().render());
              },
              [path, done](const caf::error& e) {
                done(503, text, "not ready: the engine did not answer (" + to_string(e) + ")\n");
              });
    });
  }

  // The events stream watches the status feed: what changed, as it changes (at most every
  // 250 ms), after a first snapshot of every integration.
  void subscribe(const api::principal&, std::shared_ptr<api::event_sink> sink) override {
    if (!feed_) return;
    sys_.spawn([feed = feed_, sink](caf::event_based_actor* self) {
      self->send(feed, watch_atom::value, caf::actor_cast<caf::actor>(self));
      self->delayed_send(self, sink_check_every, tick_atom::value);
      return caf::behavior{
          [self, sink](feed_batch_atom, const std::string& text) {
            auto batch = json::parse(text, nullptr, false);
            if (!batch.is_object()) return;
            for (auto& d : batch.value("changed", json::array())) {
              if (!sink->send("status", d)) return self->quit();
              if (d.value("running", false) && d.contains("progress") &&
                  d["progress"].is_object()) {
                json p = d["progress"];
                p["name"] = d.value("name", "");
                if (!sink->send("progress", p)) return self->quit();
              }
            }
            for (auto& name : batch.value("removed", json::array()))
              if (!sink->send("removed", json{{"name", name}})) return self->quit();
          },
          // A quiet feed sends nothing: whether the client left is looked at now and then.
          [self, sink](tick_atom) {
            if (sink->closed()) return self->quit();
            self->delayed_send(self, sink_check_every, tick_atom::value);
          }};
    });
  }

 private:
  caf::actor_system& sys_;
  caf::actor door_;
  std::string token_;
  notify::subscription_store* hooks_;
  caf::actor feed_;
};

class running_api final : public http_api {
 public:
  running_api(std::unique_ptr<api::gateway> gw, std::unique_ptr<api::token_store> tokens,
              api::server_config cfg)
      : gw_(std::move(gw)),
        tokens_(std::move(tokens)),
        server_(
            std::move(cfg), *gw_,
            [t = tokens_.get()](std::string_view bearer) { return t->verify(bearer); },
            api::web_files()) {}
  ~running_api() override { stop(); }
  bool start(std::string& error) { return server_.start(error); }
  uint16_t port() const override { return server_.port(); }
  void stop() override {
    if (!stopped_.exchange(true)) server_.stop();
  }

 private:
  std::unique_ptr<api::gateway> gw_;
  std::unique_ptr<api::token_store> tokens_;
  api::http_server server_;
  std::atomic<bool> stopped_{false};
};

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

caf::actor watch_statuses(caf::actor_system& sys, caf::actor feed,
                          std::function<void(const json&)> seen) {
  return sys.spawn([feed = std::move(feed), seen = std::move(seen)](caf::event_based_actor* self) {
    self->send(feed, watch_atom::value, caf::actor_cast<caf::actor>(self));
    return caf::behavior{[seen](feed_batch_atom, const std::string& text) {
      auto batch = json::parse(text, nullptr, false);
      if (batch.is_object()) seen(batch);
    }};
  });
}

std::unique_ptr<http_api> start_http_api(caf::actor_system& sys, caf::actor front_door,
                                         std::string token, const http_api_options& o,
                                         std::string& error) {
  api::server_config cfg;
  cfg.listen = o.listen;
  if (!o.tls_cert_file.empty() && (!read_file(o.tls_cert_file, cfg.tls_cert_pem, error) ||
                                   !read_file(o.tls_key_file, cfg.tls_key_pem, error)))
    return nullptr;
  auto make = [&](api::server_config c) {
    return std::make_unique<running_api>(
        make_api_bridge(sys, front_door, token, o.webhooks, o.status_feed),
        std::make_unique<api::token_store>(o.data_dir + "/api_tokens.json"), std::move(c));
  };
  auto api = make(cfg);
  if (api->start(error)) return api;
  if (!o.fall_back_to_any_port) return nullptr;
  auto colon = cfg.listen.rfind(':');
  cfg.listen = cfg.listen.substr(0, colon) + ":0";
  api = make(cfg);
  if (!api->start(error)) return nullptr;
  return api;
}

std::unique_ptr<api::gateway> make_api_bridge(caf::actor_system& sys, caf::actor front_door,
                                              std::string token, notify::subscription_store* hooks,
                                              caf::actor status_feed) {
  return std::make_unique<bridge>(sys, std::move(front_door), std::move(token), hooks,
                                  std::move(status_feed));
}

}  // namespace ledgersync
