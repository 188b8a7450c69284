#include "core/control_gate.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace ledgersync {

std::string control_gate::proof_for(const std::string& token) {
  return std::string(proof_prefix) + token + "\n";
}

void control_gate::arm(const std::string& token, std::set<uint16_t> exempt) {
  proof_ = proof_for(token);
  exempt_ = std::move(exempt);
  port_ = 0;
}

void control_gate::guard_port(uint16_t port) {
  port_ = port;
}

bool control_gate::guards(uint16_t listening_port) const {
  if (proof_.empty()) return false;
  if (port_ != 0) return listening_port == port_;
  return exempt_.count(listening_port) == 0;
}

size_t control_gate::proof_size() const {
  return proof_.size();
}

control_gate::verdict control_gate::check(const std::string& received) const {
  if (proof_.empty()) return verdict::invalid;
  if (received.size() > proof_.size()) return verdict::invalid;
  // The prefix is public: a peer speaking something else (BASP's handshake, HTTP) is told apart
  // at its first bytes instead of after the timeout.
  auto prefix_len = std::min(received.size(), std::strlen(proof_prefix));
  if (received.compare(0, prefix_len, proof_, 0, prefix_len) != 0) return verdict::invalid;
  if (received.size() < proof_.size()) return verdict::incomplete;
  return sodium_memcmp(received.data(), proof_.data(), proof_.size()) == 0 ? verdict::valid
                                                                           : verdict::invalid;
}

std::optional<int> control_gate::wait(int fd, std::string received, clock::time_point now) {
  std::optional<int> evicted;
  if (waiting_.size() >= max_waiting) {
    // Arrival order is deadline order: the front has waited longest.
    evicted = waiting_.front().fd;
    waiting_.erase(waiting_.begin());
  }
  waiting_.push_back({fd, now + proof_timeout, std::move(received)});
  return evicted;
}

std::vector<int> control_gate::expire(clock::time_point now) {
  std::vector<int> out;
  auto late = std::stable_partition(waiting_.begin(), waiting_.end(),
                                    [&](const waiting& w) { return w.deadline > now; });
  for (auto it = late; it != waiting_.end(); ++it) out.push_back(it->fd);
  waiting_.erase(late, waiting_.end());
  return out;
}

std::optional<control_gate::clock::time_point> control_gate::next_deadline() const {
  if (waiting_.empty()) return std::nullopt;
  return std::min_element(
             waiting_.begin(), waiting_.end(),
             [](const waiting& a, const waiting& b) { return a.deadline < b.deadline; })
      ->deadline;
}

void control_gate::admit_later(int fd) {
  admitted_.push_back(fd);
}

std::optional<int> control_gate::take_admitted() {
  if (admitted_.empty()) return std::nullopt;
  int fd = admitted_.front();
  admitted_.pop_front();
  return fd;
}

void control_gate::present(uint16_t port, const std::string& token) {
  client_port_ = port;
  client_proof_ = token.empty() ? std::string() : proof_for(token);
}

std::optional<std::string> control_gate::proof_to_present(uint16_t port) const {
  if (client_proof_.empty() || port != client_port_) return std::nullopt;
  return client_proof_;
}

control_gate& control_gate::instance() {
  static control_gate gate;
  return gate;
}

bool& control_gate::hooks_installed() {
  static bool installed = false;
  return installed;
}

}  // namespace ledgersync
