// Tries the control port as an attacker would, for tests/e2e.sh. Exit 0 = the service held.
//   control_plane_probe plain HOST PORT           CAF without TLS: must be refused
//   control_plane_probe stranger HOST PORT DIR    TLS with a credential of its own (made in DIR):
//                                                 must be refused
//   control_plane_probe insider HOST PORT DATA    with the data dir's credential: sends exit
//                                                 (user_shutdown and kill), down, error and stray
//                                                 messages, then a ping that must still be answered
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <iostream>

#include "actors/messages.hpp"
#include "actors/service.hpp"
#include "storage/control_credential.hpp"

using namespace ledgersync;

namespace {

int usage() {
  std::cerr << "usage: control_plane_probe plain|stranger|insider HOST PORT [DIR]\n";
  return 2;
}

caf::actor_system_config& base(caf::actor_system_config& c) {
  c.load<caf::io::middleman>();
  add_message_types(c);
  c.set("logger.verbosity", caf::atom("quiet"));
  return c;
}

int tls_probe(const std::string& mode, const std::string& host, uint16_t port,
              const std::string& dir) {
  if (mode == "stranger")
    if (auto e = ensure_control_credential(dir); !e.empty()) {
      std::cerr << e << "\n";
      return 2;
    }
  auto cred = control_credential_paths(dir);
  caf::actor_system_config cfg;
  base(cfg).load<caf::openssl::manager>();
  cfg.openssl_certificate = cred.certificate;
  cfg.openssl_key = cred.key;
  cfg.openssl_cafile = cred.certificate;
  caf::actor_system sys{cfg};
  auto door = caf::openssl::remote_actor(sys, host, port);
  if (mode == "stranger") {
    std::cout << (door ? "FAIL: a stranger's certificate was admitted\n"
                       : "refused: " + sys.render(door.error()) + "\n");
    return door ? 1 : 0;
  }
  if (!door) {
    std::cout << "FAIL: the insider could not connect: " << sys.render(door.error()) << "\n";
    return 1;
  }
  caf::scoped_actor self{sys};
  self->send_exit(*door, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(*door, caf::exit_reason::kill);
  self->send(*door, caf::down_msg{self->address(), caf::exit_reason::kill});
  self->send(*door, caf::make_error(caf::sec::runtime_error, "die"));
  self->send(*door, 42, std::string("stray"));
  service_address a;
  std::string err, token;
  if (read_service_address(dir, a, err)) token = a.token;
  client_request req;
  req.token = token;
  req.op = "ping";
  int rc = 1;
  self->request(*door, std::chrono::seconds(20), req)
      .receive(
          [&](const client_reply& r) {
            std::cout << "unharmed: ping answered " << r.body << "\n";
            rc = r.code == 0 ? 0 : 1;
          },
          [&](const caf::error& e) {
            std::cout << "FAIL: no answer after the attack: " << sys.render(e) << "\n";
          });
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return usage();
  std::string mode = argv[1], host = argv[2];
  auto port = static_cast<uint16_t>(std::stoul(argv[3]));
  if (mode == "plain") {
    caf::actor_system_config cfg;
    caf::actor_system sys{base(cfg)};
    auto door = sys.middleman().remote_actor(host, port);
    std::cout << (door ? "FAIL: a plain CAF client was admitted\n"
                       : "refused: " + sys.render(door.error()) + "\n");
    return door ? 1 : 0;
  }
  if (argc < 5 || (mode != "stranger" && mode != "insider")) return usage();
  return tls_probe(mode, host, port, argv[4]);
}
