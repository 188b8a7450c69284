#include "core/fd_rotor.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace ledgersync {

int fd_rotor::adopt(int fd) {
  if (fd < 0) return fd;
  int last = last_;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    last = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, static_cast<rlim_t>(last)));
  // Two passes: from the cursor to the end, then from the start once the range has wrapped.
  for (int pass = 0; pass < 2; ++pass) {
    int from = pass == 0 ? next_.load() : first_;
    if (from < first_ || from >= last) continue;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, from);  // the lowest free number >= from
    if (moved < 0) continue;
    if (moved >= last) {
      ::close(moved);
      continue;
    }
    next_.store(moved + 1);
    ::close(fd);
    return moved;
  }
  return fd;
}

}  // namespace ledgersync
