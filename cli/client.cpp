#include "cli/client.hpp"

#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/messages.hpp"
#include "actors/service.hpp"
#include "storage/control_credential.hpp"

namespace ledgersync::cli {

namespace {

class caf_client final : public service_client {
 public:
  // The service admits only peers presenting its data dir's certificate (TLS both ways).
  static caf::actor_system_config& config(const control_credential& cred) {
    static caf::actor_system_config cfg = [&] {
      caf::actor_system_config c;
      c.load<caf::io::middleman>();
      c.load<caf::openssl::manager>();
      c.openssl_certificate = cred.certificate;
      c.openssl_key = cred.key;
      c.openssl_cafile = cred.certificate;
      add_message_types(c);
      c.set("logger.verbosity", caf::atom("quiet"));
      return c;
    }();
    return cfg;
  }

  explicit caf_client(const control_credential& cred) : sys_(config(cred)) {}

  bool connect(const service_address& a, std::string& error) {
    token_ = a.token;
    auto e = caf::openssl::remote_actor(sys_, a.host, a.port);
    if (!e) {
      error = "cannot reach the service at " + a.host + ":" + std::to_string(a.port) + " (" +
              sys_.render(e.error()) + "); is `ledgersync serve` running?";
      return false;
    }
    engine_ = *e;
    return true;
  }

  reply call(const std::string& op, const std::string& name, const nlohmann::json& args) override {
    caf::scoped_actor self{sys_};
    reply out;
    client_request req;
    req.token = token_;
    req.op = op;
    req.name = name;
    req.args = args.dump();
    self->request(engine_, std::chrono::seconds(180), std::move(req))
        .receive(
            [&](const client_reply& r) {
              out.code = r.code;
              out.body = nlohmann::json::parse(r.body, nullptr, false);
            },
            [&](const caf::error& e) {
              out.code = unreachable;
              out.body = {{"error", "the service did not answer: " + sys_.render(e)}};
            });
    return out;
  }

 private:
  caf::actor_system sys_;
  caf::actor engine_;  // the service's front door (published untyped: see front_door.cpp)
  std::string token_;
};

}  // namespace

bool parse_host_port(const std::string& text, std::string& host, uint16_t& port, std::string& error,
                     bool allow_any_port) {
  auto colon = text.rfind(':');
  auto digits = colon == std::string::npos ? std::string() : text.substr(colon + 1);
  host = colon == std::string::npos ? std::string() : text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    error = "expected HOST:PORT (e.g. 127.0.0.1:7420), got '" + text + "'";
    return false;
  }
  auto n = std::stoul(digits);
  if (n > 65535 || (n == 0 && !allow_any_port)) {
    error = "port " + digits + " is out of range (" + (allow_any_port ? "0" : "1") + "-65535)";
    return false;
  }
  port = static_cast<uint16_t>(n);
  return true;
}

std::unique_ptr<service_client> service_client::open(const std::string& data_dir,
                                                     const std::string& connect,
                                                     std::string& error) {
  service_address a;
  if (!read_service_address(data_dir, a, error)) return nullptr;
  if (!connect.empty() && !parse_host_port(connect, a.host, a.port, error)) {
    error = "--connect: " + error;
    return nullptr;
  }
  auto cred = control_credential_paths(data_dir);
  if (auto e = check_control_credential(cred); !e.empty()) {
    error = e;
    return nullptr;
  }
  auto c = std::make_unique<caf_client>(cred);
  if (!c->connect(a, error)) return nullptr;
  return c;
}

}  // namespace ledgersync::cli
