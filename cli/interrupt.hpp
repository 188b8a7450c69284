// Ctrl-C for a command that waits on the service (`changes --follow`). SIGINT and SIGTERM go to
// a thread of their own (sigwait), which ends the process with exit code 0 once no output is
// half-written: a follower's consumer never sees a cut line. Call before the CAF client starts
// its threads, so they inherit the blocked mask.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

namespace ledgersync::cli {

// Hold the returned mutex while writing a batch of output.
inline std::mutex& stop_on_interrupt() {
  static std::mutex output;
  static bool started = [] {
    static sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    std::thread([] {
      int sig = 0;
      sigwait(&sigs, &sig);
      std::lock_guard<std::mutex> hold(output);
      std::cout.flush();
      std::_Exit(0);
    }).detach();
    return true;
  }();
  (void)started;
  return output;
}

}  // namespace ledgersync::cli
