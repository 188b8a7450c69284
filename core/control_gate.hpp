// The control port's transport gate: a connection reaches CAF only after it has presented the
// data dir's secret.
//
// Why not CAF's OpenSSL transport: in 0.17.6 its handshake runs on the middleman's one
// multiplexer thread, and 200 concurrent CLI calls left up to 180 unanswered (ENGINEERING-NOTES,
// issue 5's note). Why not check a request's token only: a peer that never sends a request can
// still talk BASP to the service (look up SpawnServ and ConfigServ, fill its tables). So the
// client writes a short proof right after connect(2) returns, before CAF's handshake, and the
// service reads it right after accept(2), before CAF sees the socket:
//
//     "LSAUTH1 " <the token from service.json> "\n"
//
// The service checks it in constant time and closes the connection on anything else. A proof
// that is already in the socket buffer (the usual case: the client writes it in the same breath
// as its connect) is checked inline; a late one is waited for off CAF's thread, so a peer that
// connects and says nothing costs CAF nothing. Both ends live in socket_hooks.cpp (the
// interposed accept and connect); this class holds the state and the rules, with no sockets, so
// it is tested directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ledgersync {

class control_gate {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr const char* proof_prefix = "LSAUTH1 ";
  // A late proof is waited for this long, and at most this many connections wait at once.
  // When the room is full the longest-waiting one makes way: a client's proof follows its
  // connect within a millisecond or so, so silent peers would have to arrive faster than that,
  // a hundred at a time, to keep a real client out.
  static constexpr std::chrono::milliseconds proof_timeout{2000};
  static constexpr size_t max_waiting = 128;

  static std::string proof_for(const std::string& token);

  // The service side. `arm` comes before the port is published: until `guard_port` names it,
  // every listening socket but the `exempt` ones is guarded, so there is no moment in which
  // the control port accepts unproven peers.
  void arm(const std::string& token, std::set<uint16_t> exempt);
  void guard_port(uint16_t port);
  bool armed() const { return !proof_.empty(); }
  bool guards(uint16_t listening_port) const;

  // What the bytes read so far say about a connection's proof.
  enum class verdict { valid, invalid, incomplete };
  verdict check(const std::string& received) const;
  size_t proof_size() const;

  // Connections whose proof has not fully arrived. `wait` returns the connection that made way
  // for this one, if the room was full (the caller closes it).
  struct waiting {
    int fd;
    clock::time_point deadline;
    std::string received;
  };
  std::optional<int> wait(int fd, std::string received, clock::time_point now);
  std::vector<waiting>& waiting_list() { return waiting_; }
  // Removes and returns the connections whose time is up.
  std::vector<int> expire(clock::time_point now);
  std::optional<clock::time_point> next_deadline() const;

  // Connections proven late, handed to the next accept on the guarded port.
  void admit_later(int fd);
  std::optional<int> take_admitted();

  // The client side: the port and proof to present when connecting (empty: present nothing).
  void present(uint16_t port, const std::string& token);
  std::optional<std::string> proof_to_present(uint16_t port) const;

  // Counters for logs and, later, metrics.
  uint64_t refused() const { return refused_; }
  void count_refused() { ++refused_; }

  // The process-wide gate the socket hooks consult. `hooks_installed` is set by the hooks'
  // translation unit: a service built without it would publish an unguarded port, so it
  // refuses to start instead.
  static control_gate& instance();
  static bool& hooks_installed();

  mutable std::mutex mutex;  // held by the hooks around every call

 private:
  std::string proof_;  // empty: not armed
  std::set<uint16_t> exempt_;
  uint16_t port_ = 0;  // 0: armed, port not known yet
  std::vector<waiting> waiting_;
  std::deque<int> admitted_;
  uint16_t client_port_ = 0;
  std::string client_proof_;
  uint64_t refused_ = 0;
};

}  // namespace ledgersync
