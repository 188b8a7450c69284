#include "actors/api_bridge.hpp"

#include <atomic>
#include <caf/all.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "actors/messages.hpp"
#include "api/tokens.hpp"
#include "api/web_files.hpp"

namespace ledgersync {

namespace {

using nlohmann::json;

// How often an events stream looks for changes: a progress bar moves once a second.
constexpr auto events_every = std::chrono::milliseconds(1000);
// The longest an operation may take before the API answers 503: a connection test against a
// slow upstream, a change-feed wait of 60 s.
constexpr auto call_timeout = std::chrono::seconds(130);

std::string kind_for(int code, const json& body) {
  if (body.is_object() && body.contains("kind") && body["kind"].is_string())
    return body["kind"].get<std::string>();
  switch (code) {
    case 2:
      return "invalid_argument";
    case 3:
      return "rate_limited";
    case 4:
      return "not_found";
    default:
      return "conflict";
  }
}

api::op_result to_result(const std::string& op, const client_reply& r) {
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return api::op_result::failure("internal", "unreadable reply");
  if (r.code == 0) {
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
  int64_t retry_s = 0;
  if (body.is_object() && body.contains("retry_after_ms") && body["retry_after_ms"].is_number())
    retry_s = (body["retry_after_ms"].get<int64_t>() + 999) / 1000;
  return api::op_result::failure(kind_for(r.code, body), message, text("hint"), retry_s);
}

client_request request_for(const api::op_call& c, const std::string& token) {
  client_request req;
  req.token = token;
  req.op = c.op;
  req.name = c.integration;
  req.args = c.args.dump();
  return req;
}

class bridge final : public api::gateway {
 public:
  bridge(caf::actor_system& sys, caf::actor door, std::string token)
      : sys_(sys), door_(std::move(door)), token_(std::move(token)) {}

  void call(const api::op_call& c, std::function<void(api::op_result)> done) override {
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

  void subscribe(const api::principal&, std::shared_ptr<api::event_sink> sink) override {
    auto list = request_for(api::op_call{"list", "", json::object(), {}}, token_);
    auto door = door_;
    sys_.spawn([list, door, sink](caf::event_based_actor* self) {
      auto seen = std::make_shared<std::map<std::string, std::string>>();
      auto poll = [self, list, door, sink, seen] {
        self->request(door, call_timeout, list)
            .then(
                [self, sink, seen](const client_reply& r) {
                  auto docs = json::parse(r.body, nullptr, false);
                  if (!docs.is_array()) return;
                  std::map<std::string, std::string> now;
                  for (auto& d : docs) {
                    auto name = d.value("name", "");
                    // "now" changes on every poll: what changed is the rest of the document.
                    auto compared = d;
                    compared.erase("now");
                    auto text = compared.dump();
                    now[name] = text;
                    auto it = seen->find(name);
                    if (it != seen->end() && it->second == text) continue;
                    if (!sink->send("status", d)) return self->quit();
                    if (d.value("running", false) && !d["progress"].is_null()) {
                      json p = d["progress"];
                      p["name"] = name;
                      if (!sink->send("progress", p)) return self->quit();
                    }
                  }
                  for (auto& [name, _] : *seen)
                    if (!now.count(name) && !sink->send("removed", json{{"name", name}}))
                      return self->quit();
                  *seen = std::move(now);
                },
                [](const caf::error&) {});
      };
      poll();
      self->delayed_send(self, events_every, tick_atom::value);
      return caf::behavior{[self, sink, poll](tick_atom) {
        if (sink->closed()) return self->quit();
        poll();
        self->delayed_send(self, events_every, tick_atom::value);
      }};
    });
  }

 private:
  caf::actor_system& sys_;
  caf::actor door_;
  std::string token_;
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
        make_api_bridge(sys, front_door, token),
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
                                              std::string token) {
  return std::make_unique<bridge>(sys, std::move(front_door), std::move(token));
}

}  // namespace ledgersync
