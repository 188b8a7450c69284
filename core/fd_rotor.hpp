// Moves file descriptors to numbers that were not handed out recently.
//
// Why: CAF's BASP broker (0.17.6, and still in 0.18) names a connection by its socket's number.
// When a client hangs up, the socket is closed at once but the broker forgets the connection
// only later, through its message queue. Linux gives the next accepted connection the lowest
// free number, often the one just closed, so the late clean-up of the old connection lands on
// the new one: its node is routed through the old entry or not at all, and replies to it are
// dropped (the client waits forever) or its stream state is reset (the client sees a broken
// connection). Handing out numbers round-robin over a wide range keeps a closed number unused
// until the range wraps, long after any clean-up of it has run.
//
// Thread-safe: `adopt` may be called from any thread.
#pragma once

#include <atomic>

namespace ledgersync {

class fd_rotor {
 public:
  // Numbers are handed out from [first, last); `last` is clamped to the process's open-file
  // limit when used.
  fd_rotor(int first, int last) : first_(first), last_(last), next_(first) {}

  // Returns a descriptor for the same open file with a number at or after the last one handed
  // out (wrapping to `first` at the end of the range), closing `fd`. When no number in the
  // range is free, returns `fd` unchanged. Negative `fd` is returned as it is.
  int adopt(int fd);

 private:
  int first_, last_;
  std::atomic<int> next_;
};

}  // namespace ledgersync
