// The socket calls this executable takes over from the C library, for two reasons.
//
// 1. Socket numbers (core/fd_rotor.hpp): the service's accepted connections get numbers that
//    were not in use recently. CAF's BASP broker names a connection by its number, and a closed
//    client connection's late clean-up landed on the next client that got the same number, whose
//    replies were then lost.
// 2. The control port's gate (core/control_gate.hpp): the service admits a connection to CAF
//    only after it has read the data dir's secret from it; the CLI writes that secret right
//    after connecting.
//
// CAF calls accept(2) and connect(2) inside libcaf_io and offers no hook between them and the
// handle it derives from the socket. So this executable defines both: the dynamic linker binds
// libcaf_io's calls to them (a definition in the executable comes first in symbol lookup), and
// they forward to the C library's. They also serve every other accept and connect in the process
// (the sandbox's HTTP server, connectors' HTTP clients): those pass through, since the gate only
// acts on the control port. Must be linked into the executable itself: from a static library
// nothing would pull it in.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "core/control_gate.hpp"
#include "core/fd_rotor.hpp"

namespace {

using ledgersync::control_gate;

// Above the descriptors a service opens at start (LMDB, epoll, pipes, log files), below 1024 so
// that nothing limited to FD_SETSIZE meets a larger number.
ledgersync::fd_rotor accepted_fds(64, 1024);

using accept_fn = int (*)(int, sockaddr*, socklen_t*);
using connect_fn = int (*)(int, const sockaddr*, socklen_t);

int libc_accept(int sock, sockaddr* addr, socklen_t* len) {
  static const auto fn = reinterpret_cast<accept_fn>(::dlsym(RTLD_NEXT, "accept"));
  return fn(sock, addr, len);
}

int libc_connect(int fd, const sockaddr* addr, socklen_t len) {
  static const auto fn = reinterpret_cast<connect_fn>(::dlsym(RTLD_NEXT, "connect"));
  return fn(fd, addr, len);
}

uint16_t port_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return 0;
}

uint16_t local_port(int fd, sockaddr_storage* out = nullptr) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (out) *out = ss;
  return port_of(ss);
}

uint16_t peer_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return port_of(ss);
}

void fill_peer(int fd, sockaddr* addr, socklen_t* len) {
  if (addr && len) ::getpeername(fd, addr, len);
}

// Reads what is there of a proof without waiting; false when the peer hung up or failed.
bool read_available(int fd, std::string& received, size_t want) {
  char buf[256];
  while (received.size() < want) {
    auto n = ::recv(fd, buf, std::min(sizeof buf, want - received.size()), MSG_DONTWAIT);
    if (n > 0) {
      received.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

int refuse(int fd) {
  ::close(fd);
  control_gate::instance().count_refused();
  errno = EAGAIN;  // CAF's acceptor takes this as "nothing to accept yet"
  return -1;
}

// Where connections whose proof had not arrived at accept time wait for it, on a thread of its
// own so that CAF's multiplexer never does. A proven connection is queued for the next accept
// on the control port, and a connection of our own to that port (the doorbell, closed at once)
// makes CAF call accept again.
class waiting_room {
 public:
  static waiting_room& instance() {
    static waiting_room* room = new waiting_room;  // lives as long as the process: never joined
    return *room;
  }

  // The listening socket's address, for ringing the doorbell; called with the gate's lock held.
  void remember_listener(const sockaddr_storage& addr) {
    if (!listener_known_) listener_ = addr, listener_known_ = true;
  }

  // Called with the gate's lock held.
  bool is_doorbell(int fd) {
    auto it = doorbells_.find(peer_port(fd));
    if (it == doorbells_.end()) return false;
    doorbells_.erase(it);
    return true;
  }

  void wake() {
    uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
  }

 private:
  waiting_room() : event_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    std::thread([this] { run(); }).detach();
  }

  void run() {
    auto& gate = control_gate::instance();
    std::vector<pollfd> fds;
    for (;;) {
      int timeout_ms = -1;
      {
        std::lock_guard<std::mutex> lock(gate.mutex);
        fds.assign(1, pollfd{event_fd_, POLLIN, 0});
        for (auto& w : gate.waiting_list()) fds.push_back(pollfd{w.fd, POLLIN, 0});
        if (auto d = gate.next_deadline()) {
          auto left = std::chrono::ceil<std::chrono::milliseconds>(*d - control_gate::clock::now());
          timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
        }
      }
      if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) continue;
      if (fds[0].revents & POLLIN) {
        uint64_t n;
        (void)!::read(event_fd_, &n, sizeof n);
      }
      int proven = 0;
      {
        std::lock_guard<std::mutex> lock(gate.mutex);
        auto& list = gate.waiting_list();
        for (size_t i = 1; i < fds.size(); ++i) {
          if (!fds[i].revents) continue;
          auto it = std::find_if(list.begin(), list.end(),
                                 [&](const auto& w) { return w.fd == fds[i].fd; });
          if (it == list.end()) continue;
          bool alive = read_available(it->fd, it->received, gate.proof_size());
          auto verdict = gate.check(it->received);
          if (verdict == control_gate::verdict::incomplete && alive) continue;
          if (verdict == control_gate::verdict::valid) {
            gate.admit_later(accepted_fds.adopt(it->fd));
            ++proven;
          } else {
            ::close(it->fd);
            gate.count_refused();
          }
          list.erase(it);
        }
        for (int fd : gate.expire(control_gate::clock::now())) {
          ::close(fd);
          gate.count_refused();
        }
      }
      while (proven-- > 0) ring();
    }
  }

  // A connection to the control port from a socket whose port is recorded first, so that the
  // accept it causes knows it for what it is.
  void ring() {
    sockaddr_storage target{};
    {
      std::lock_guard<std::mutex> lock(control_gate::instance().mutex);
      target = listener_;
    }
    socklen_t len = target.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    sockaddr_storage from{};
    from.ss_family = target.ss_family;
    if (target.ss_family == AF_INET6) {
      auto& t = reinterpret_cast<sockaddr_in6&>(target);
      if (IN6_IS_ADDR_UNSPECIFIED(&t.sin6_addr)) t.sin6_addr = in6addr_loopback;
      reinterpret_cast<sockaddr_in6&>(from).sin6_addr = t.sin6_addr;
    } else {
      auto& t = reinterpret_cast<sockaddr_in&>(target);
      if (t.sin_addr.s_addr == htonl(INADDR_ANY)) t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      reinterpret_cast<sockaddr_in&>(from).sin_addr = t.sin_addr;
    }
    int fd = ::socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), len) == 0) {
      auto port = local_port(fd);
      {
        std::lock_guard<std::mutex> lock(control_gate::instance().mutex);
        doorbells_.insert(port);
      }
      if (libc_connect(fd, reinterpret_cast<sockaddr*>(&target), len) != 0) {
        std::lock_guard<std::mutex> lock(control_gate::instance().mutex);
        doorbells_.erase(doorbells_.find(port));
      }
    }
    ::close(fd);
  }

  int event_fd_;
  sockaddr_storage listener_{};
  bool listener_known_ = false;
  std::multiset<uint16_t> doorbells_;
};

int accept_on_control_port(int sock, sockaddr* addr, socklen_t* len, sockaddr_storage& local) {
  auto& gate = control_gate::instance();
  auto& room = waiting_room::instance();
  {
    std::lock_guard<std::mutex> lock(gate.mutex);
    room.remember_listener(local);
    if (auto fd = gate.take_admitted()) {
      fill_peer(*fd, addr, len);
      return *fd;
    }
  }
  int fd = libc_accept(sock, addr, len);
  if (fd < 0) return fd;
  std::string received;
  size_t want;
  {
    std::lock_guard<std::mutex> lock(gate.mutex);
    if (room.is_doorbell(fd)) {
      ::close(fd);
      if (auto admitted = gate.take_admitted()) {
        fill_peer(*admitted, addr, len);
        return *admitted;
      }
      errno = EAGAIN;
      return -1;
    }
    want = gate.proof_size();
  }
  bool alive = read_available(fd, received, want);
  std::lock_guard<std::mutex> lock(gate.mutex);
  switch (gate.check(received)) {
    case control_gate::verdict::valid:
      return accepted_fds.adopt(fd);
    case control_gate::verdict::incomplete:
      if (!alive) return refuse(fd);
      if (auto evicted = gate.wait(fd, std::move(received), control_gate::clock::now())) {
        ::close(*evicted);
        gate.count_refused();
      }
      room.wake();
      errno = EAGAIN;
      return -1;
    case control_gate::verdict::invalid:
      break;
  }
  return refuse(fd);
}

[[maybe_unused]] const bool installed = (control_gate::hooks_installed() = true);

}  // namespace

extern "C" int accept(int sock, sockaddr* addr, socklen_t* len) {
  auto& gate = control_gate::instance();
  sockaddr_storage local{};
  bool guarded;
  {
    std::lock_guard<std::mutex> lock(gate.mutex);
    guarded = gate.armed() && gate.guards(local_port(sock, &local));
  }
  if (guarded) return accept_on_control_port(sock, addr, len, local);
  return accepted_fds.adopt(libc_accept(sock, addr, len));
}

extern "C" int connect(int fd, const sockaddr* addr, socklen_t len) {
  int rc = libc_connect(fd, addr, len);
  // CAF connects blocking; a non-blocking connect in progress is some other client's.
  if (rc != 0 || !addr) return rc;
  std::string proof;
  {
    auto& gate = control_gate::instance();
    std::lock_guard<std::mutex> lock(gate.mutex);
    sockaddr_storage ss{};
    std::memcpy(&ss, addr, std::min<size_t>(len, sizeof ss));
    auto wanted = gate.proof_to_present(port_of(ss));
    if (!wanted) return rc;
    proof = std::move(*wanted);
  }
  size_t sent = 0;
  while (sent < proof.size()) {
    auto n = ::send(fd, proof.data() + sent, proof.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;  // errno says why; CAF reports the connection as failed
    sent += static_cast<size_t>(n);
  }
  return 0;
}
