// Tries the control port as an attacker would, for tests/e2e.sh. Exit 0 = the service held.
//   control_plane_probe stranger HOST PORT DATA_DIR  connects without presenting the data dir's
//                                                    token: the connection is refused before
//                                                    CAF's handshake (core/control_gate.hpp)
//   control_plane_probe forger HOST PORT DATA_DIR    presents a wrong token: refused likewise
//   control_plane_probe insider HOST PORT DATA_DIR   presents the token, then sends a request
//                                                    with a wrong one (refused), exit
//                                                    (user_shutdown and kill), down, error and
//                                                    stray messages to the published actor, and
//                                                    a ping that must still be answered
#include <caf/io/all.hpp>
#include <iostream>
#include <mutex>

#include "actors/messages.hpp"
#include "actors/service.hpp"
#include "core/control_gate.hpp"

using namespace ledgersync;

namespace {

int usage() {
  std::cerr << "usage: control_plane_probe stranger|forger|insider HOST PORT DATA_DIR\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return usage();
  std::string mode = argv[1], host = argv[2], dir = argv[4];
  auto port = static_cast<uint16_t>(std::stoul(argv[3]));
  if (mode != "stranger" && mode != "forger" && mode != "insider") return usage();
  service_address a;
  std::string err;
  if (!read_service_address(dir, a, err)) {
    std::cout << "FAIL: " << err << "\n";
    return 1;
  }
  if (mode != "stranger") {
    auto& gate = control_gate::instance();
    std::lock_guard<std::mutex> lock(gate.mutex);
    gate.present(port, mode == "insider" ? a.token : std::string(a.token.size(), '0'));
  }
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  add_message_types(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto door = sys.middleman().remote_actor(host, port);
  if (mode != "insider") {
    std::cout << (door ? "FAIL: connected without the token\n"
                       : "refused: " + sys.render(door.error()) + "\n");
    return door ? 1 : 0;
  }
  if (!door) {
    std::cout << "FAIL: cannot connect with the token: " << sys.render(door.error()) << "\n";
    return 1;
  }
  caf::scoped_actor self{sys};
  auto ask = [&](client_request req) {
    client_reply out{protocol_version, error_kind::internal, 0, "{}"};
    self->request(*door, std::chrono::seconds(20), std::move(req))
        .receive([&](const client_reply& r) { out = r; },
                 [&](const caf::error& e) { out.body = sys.render(e); });
    return out;
  };
  client_request req;
  req.op = "sync";
  req.name = "acme";
  // Past the gate, each request still carries the token: a wrong one is refused.
  req.token = std::string(a.token.size(), '0');
  if (auto r = ask(req); r.kind != error_kind::unauthorized) {
    std::cout << "FAIL: a request with a wrong token got: " << r.body << "\n";
    return 1;
  }
  self->send_exit(*door, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(*door, caf::exit_reason::kill);
  self->send(*door, caf::down_msg{self->address(), caf::exit_reason::kill});
  self->send(*door, caf::make_error(caf::sec::runtime_error, "die"));
  self->send(*door, 42, std::string("stray"));
  req.token = a.token;
  req.op = "ping";
  auto r = ask(req);
  std::cout << (r.kind == error_kind::none ? "unharmed: ping answered "
                                           : "FAIL: no answer after the attack: ")
            << r.body << "\n";
  return r.kind == error_kind::none ? 0 : 1;
}
