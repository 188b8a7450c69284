#include "core/stop_watchdog.hpp"

#include <signal.h>
#include <unistd.h>

#include <ctime>

namespace ledgersync {

stop_watchdog::stop_watchdog(std::chrono::milliseconds limit, clock_fn now, wait_fn wait,
                             expire_fn expire)
    : limit_(limit), now_(std::move(now)), wait_(std::move(wait)), expire_(std::move(expire)) {}

stop_watchdog::~stop_watchdog() {
  finish();
  if (thread_.joinable()) thread_.join();
}

void stop_watchdog::start() {
  thread_ = std::thread([this] { watch(); });
}

void stop_watchdog::stage(const char* doing) {
  stage_ = doing;
}

void stop_watchdog::finish() {
  finished_ = true;
}

void stop_watchdog::run_for_test() {
  watch();
}

void stop_watchdog::watch() {
  // Short waits, so that a finished stop is not held up by its own watchdog (10 ms of polling
  // on a thread that lives only while the service stops).
  constexpr std::chrono::milliseconds slice{10};
  auto deadline = now_() + limit_;
  while (!finished_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now_());
    if (left.count() <= 0) {
      expire_("the stop did not finish within " + std::to_string(limit_.count() / 1000) +
              " s (still " + stage_.load() + "); exiting without the rest of it");
      return;
    }
    int sig = wait_(std::min(left, slice));
    if (finished_) return;
    if (sig != 0) {
      expire_(std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " again while stopping (still " +
              stage_.load() + "); exiting at once");
      return;
    }
  }
}

std::unique_ptr<stop_watchdog> service_stop_watchdog(std::chrono::milliseconds limit,
                                                     int exit_code) {
  auto wait = [](std::chrono::milliseconds ms) {
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    timespec ts{static_cast<time_t>(ms.count() / 1000),
                static_cast<long>(ms.count() % 1000) * 1000000L};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    return sig > 0 ? sig : 0;  // EAGAIN: the time is up; EINTR: look again
  };
  // Straight to stderr: the logger's lock may be what the stuck stop holds (a write to a full
  // pipe), and then this line and the exit would wait behind it.
  auto expire = [exit_code](const std::string& why) {
    auto line = "ledgersync: " + why + "\n";
    for (size_t done = 0; done < line.size();) {
      auto n = ::write(2, line.data() + done, line.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::_exit(exit_code);
  };
  return std::make_unique<stop_watchdog>(
      limit, [] { return std::chrono::steady_clock::now(); }, wait, expire);
}

}  // namespace ledgersync
