#include "core/control_gate.hpp"

#include <catch2/catch.hpp>

using ledgersync::control_gate;
using namespace std::chrono_literals;

TEST_CASE("the control gate guards every listener but the exempt ones until it knows its port",
          "[control_gate]") {
  control_gate gate;
  CHECK_FALSE(gate.guards(7420));  // not armed: a process that serves nothing guards nothing
  gate.arm("abc123", {9000});
  CHECK(gate.guards(7420));
  CHECK_FALSE(gate.guards(9000));  // the demo's sandbox
  gate.guard_port(7420);
  CHECK(gate.guards(7420));
  CHECK_FALSE(gate.guards(7421));  // e.g. the HTTP API, started after the control port
}

TEST_CASE("a proof is the token after a fixed prefix, checked as it arrives", "[control_gate]") {
  control_gate gate;
  gate.arm("abc123", {});
  auto proof = control_gate::proof_for("abc123");
  CHECK(proof == "LSAUTH1 abc123\n");
  CHECK(gate.proof_size() == proof.size());
  CHECK(gate.check(proof) == control_gate::verdict::valid);
  CHECK(gate.check("") == control_gate::verdict::incomplete);
  CHECK(gate.check("LSAU") == control_gate::verdict::incomplete);
  CHECK(gate.check("LSAUTH1 abc") == control_gate::verdict::incomplete);
  // Another protocol is told apart at its first byte; a wrong token once it is complete.
  CHECK(gate.check("GET / HTTP/1.1") == control_gate::verdict::invalid);
  CHECK(gate.check(std::string("\0\0\0", 3)) == control_gate::verdict::invalid);
  CHECK(gate.check("LSAUTH1 abc124\n") == control_gate::verdict::invalid);
  CHECK(gate.check(proof + "x") == control_gate::verdict::invalid);
  control_gate unarmed;
  CHECK(unarmed.check(proof) == control_gate::verdict::invalid);
}

TEST_CASE("silent connections wait a bounded time, and only so many at once, the oldest making way",
          "[control_gate]") {
  control_gate gate;
  gate.arm("t", {});
  control_gate::clock::time_point t0{};
  CHECK_FALSE(gate.next_deadline());
  REQUIRE_FALSE(gate.wait(10, "", t0));
  REQUIRE_FALSE(gate.wait(11, "LSA", t0 + 500ms));
  CHECK(gate.next_deadline() == t0 + control_gate::proof_timeout);
  CHECK(gate.expire(t0 + control_gate::proof_timeout - 1ms).empty());
  CHECK(gate.expire(t0 + control_gate::proof_timeout) == std::vector<int>{10});
  CHECK(gate.waiting_list().size() == 1);
  CHECK(gate.expire(t0 + 500ms + control_gate::proof_timeout) == std::vector<int>{11});
  for (int fd = 0; fd < static_cast<int>(control_gate::max_waiting); ++fd)
    REQUIRE_FALSE(gate.wait(100 + fd, "", t0 + 1ms * fd));
  // Full: the longest-waiting connection makes way for the newcomer.
  CHECK(gate.wait(999, "", t0 + 1s) == 100);
  CHECK(gate.wait(998, "", t0 + 1s) == 101);
  CHECK(gate.waiting_list().size() == control_gate::max_waiting);
  CHECK(gate.waiting_list().back().fd == 998);
}

TEST_CASE("proven connections are handed out in order; the client presents only to its port",
          "[control_gate]") {
  control_gate gate;
  CHECK_FALSE(gate.take_admitted());
  gate.admit_later(5);
  gate.admit_later(6);
  CHECK(gate.take_admitted() == 5);
  CHECK(gate.take_admitted() == 6);
  CHECK_FALSE(gate.take_admitted());
  CHECK_FALSE(gate.proof_to_present(7420));
  gate.present(7420, "tok");
  CHECK(gate.proof_to_present(7420) == std::string("LSAUTH1 tok\n"));
  CHECK_FALSE(gate.proof_to_present(443));  // connectors' upstreams never see it
}
