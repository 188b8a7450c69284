#include "cli/client.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <caf/io/all.hpp>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "actors/messages.hpp"
#include "actors/service.hpp"
#include "cli/errors.hpp"
#include "core/control_gate.hpp"

namespace ledgersync::cli {

namespace {

// "the CLI (user NAME)": the sync log's record of who changed what from this machine.
std::string local_user() {
  auto* pw = ::getpwuid(::getuid());
  return std::string("the CLI (user ") +
         (pw && pw->pw_name ? pw->pw_name : std::to_string(::getuid())) + ")";
}

class caf_client final : public service_client {
 public:
  static caf::actor_system_config& config() {
    static caf::actor_system_config cfg = [] {
      caf::actor_system_config c;
      c.load<caf::io::middleman>();
      add_message_types(c);
      c.set("logger.verbosity", caf::atom("quiet"));
      return c;
    }();
    return cfg;
  }

  explicit caf_client(std::chrono::milliseconds timeout)
      : sys_(std::make_unique<caf::actor_system>(config())), timeout_(timeout) {}
  int64_t timeout_ms() const override { return timeout_.count(); }

  // Once a deadline has passed, CAF's I/O thread may still be inside the connection attempt
  // (the OpenSSL transport reads its handshake blocking), and destroying the actor system joins
  // that thread: such a system is left to the process's exit instead.
  ~caf_client() override {
    if (gave_up_) (void)sys_.release();
  }

  // What remote_actor does, with a deadline: it would wait for the service's handshake forever
  // (a service that is stopped, or busy past the listen backlog, still completes TCP's).
  bool connect(const service_address& a, std::string& error) {
    token_ = a.token;
    {
      // The gate in front of the port reads the token before CAF's handshake
      // (core/control_gate.hpp); the connect hook writes it.
      auto& gate = control_gate::instance();
      std::lock_guard<std::mutex> lock(gate.mutex);
      gate.present(a.port, a.token);
    }
    auto where = a.host + ":" + std::to_string(a.port);
    caf::scoped_actor self{*sys_};
    self->request(sys_->middleman().actor_handle(), timeout_, caf::connect_atom::value, a.host,
                  a.port)
        .receive(
            [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
              if (!ptr)
                error = "nothing is published at " + where + "; is it a ledgersync service?";
              else if (!ifs.empty())  // the front door is published untyped (front_door.cpp)
                error = "the service at " + where + " speaks another protocol; is it ledgersync?";
              else
                engine_ = caf::actor_cast<caf::actor>(std::move(ptr));
            },
            [&](const caf::error& e) {
              gave_up_ = e == caf::sec::request_timeout;
              if (gave_up_)
                error = "the service at " + where + " did not complete the connection within " +
                        seconds_text() + "; is `ledgersync serve` running and responsive?" +
                        longer_hint;
              else
                error = "cannot reach the service at " + where + " (" + sys_->render(e) +
                        "); is `ledgersync serve` running?";
            });
    return engine_ != nullptr;
  }

  reply call(const std::string& op, const std::string& name, const nlohmann::json& args) override {
    return exchange(op, name, args, false);
  }
  reply call_text(const std::string& op, const std::string& name) override {
    return exchange(op, name, nlohmann::json::object(), true);
  }

 private:
  reply exchange(const std::string& op, const std::string& name, const nlohmann::json& args,
                 bool keep_text) {
    caf::scoped_actor self{*sys_};
    reply out;
    client_request req;
    req.token = token_;
    req.op = op;
    req.name = name;
    req.args = args.dump();
    req.by = local_user();
    self->request(engine_, timeout_, std::move(req))
        .receive(
            [&](const caf::error& e) {
              out.code = unreachable;
              auto what = "`" + op + (name.empty() ? "" : " " + name) + "`";
              if (e == caf::sec::request_timeout) {
                gave_up_ = true;
                out.body = {{"error", "the service did not answer " + what + " within " +
                                          seconds_text() + longer_hint}};
              } else {
                out.body = {
                    {"error", "the service did not answer " + what + ": " + sys_->render(e)}};
              }
            },
            // The reply of this protocol, or a protocol-1 service's (which says which of the
            // two to upgrade).
            caf::others >> [&](caf::message_view& x) -> caf::result<caf::message> {
              auto m = x.move_content_to_message();
              if (m.match_elements<client_reply>()) {
                auto& r = m.get_as<client_reply>(0);
                out.kind = r.kind;
                out.code = exit_code_for(r.kind);
                if (keep_text && r.kind == error_kind::none)
                  out.text = std::move(r.body);
                else
                  out.body = nlohmann::json::parse(r.body, nullptr, false);
              } else if (m.match_elements<client_reply_v1>()) {
                auto& r = m.get_as<client_reply_v1>(0);
                out.code = r.code;
                out.kind = r.code == 0 ? error_kind::none : error_kind::invalid_argument;
                out.body = nlohmann::json::parse(r.body, nullptr, false);
              } else {
                out.code = failed;
                out.body = {{"error", "the service answered " + to_string(m).substr(0, 80) +
                                          "; is it ledgersync?"}};
              }
              return caf::message{};
            });
    return out;
  }

  static constexpr const char* longer_hint =
      " (wait longer with --timeout SECONDS or LEDGERSYNC_TIMEOUT)";

  std::string seconds_text() const {
    std::ostringstream s;
    s << static_cast<double>(timeout_.count()) / 1000 << " s";
    return s.str();
  }

  std::unique_ptr<caf::actor_system> sys_;
  std::chrono::milliseconds timeout_;
  bool gave_up_ = false;
  caf::actor engine_;  // the service's front door
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

std::optional<std::chrono::milliseconds> request_timeout(std::optional<double> flag_seconds,
                                                         std::string& error) {
  double seconds = 60;
  if (flag_seconds) {
    seconds = *flag_seconds;
  } else if (auto* v = std::getenv("LEDGERSYNC_TIMEOUT"); v && *v) {
    char* end = nullptr;
    seconds = std::strtod(v, &end);
    if (*end != '\0' || !(seconds >= 0.001) || seconds > 86400) {
      error = "LEDGERSYNC_TIMEOUT must be a number of seconds from 0.001 to 86400, got '" +
              std::string(v) + "'";
      return std::nullopt;
    }
  }
  return std::chrono::milliseconds(std::max<int64_t>(1, std::llround(seconds * 1000)));
}

std::unique_ptr<service_client> service_client::open(const std::string& data_dir,
                                                     const std::string& connect,
                                                     std::chrono::milliseconds timeout,
                                                     std::string& error) {
  service_address a;
  if (!read_service_address(data_dir, a, error)) return nullptr;
  if (!connect.empty() && !parse_host_port(connect, a.host, a.port, error)) {
    error = "--connect: " + error;
    return nullptr;
  }
  auto c = std::make_unique<caf_client>(timeout);
  if (!c->connect(a, error)) return nullptr;
  return c;
}

}  // namespace ledgersync::cli
