// The service's accepted connections get socket numbers that were not in use recently (see
// core/fd_rotor.hpp for the CAF middleman race this closes: a closed client connection's late
// clean-up landing on the next client that got the same number, whose replies were then lost).
//
// CAF's acceptor calls accept(2) inside libcaf_io, for the plain and the OpenSSL transport
// alike, and offers no hook between accept and the handle it derives from the number. So this
// executable defines accept(): the dynamic linker binds libcaf_io's call to it (a definition in
// the executable comes first in symbol lookup), and it forwards to the C library's accept and
// moves the result. It also serves every other accept in the process (the sandbox's HTTP
// server in `demo`), which the move does not affect. Must be linked into the executable itself:
// from a static library nothing would pull it in.
#include <dlfcn.h>
#include <sys/socket.h>

#include "core/fd_rotor.hpp"

namespace {

// Above the descriptors a service opens at start (LMDB, epoll, pipes, log files), below 1024 so
// that nothing limited to FD_SETSIZE meets a larger number.
ledgersync::fd_rotor accepted_fds(64, 1024);

using accept_fn = int (*)(int, sockaddr*, socklen_t*);

}  // namespace

extern "C" int accept(int sock, sockaddr* addr, socklen_t* len) {
  static const auto libc_accept = reinterpret_cast<accept_fn>(::dlsym(RTLD_NEXT, "accept"));
  return accepted_fds.adopt(libc_accept(sock, addr, len));
}
