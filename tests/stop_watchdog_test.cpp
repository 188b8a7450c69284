// The service's bounded stop, in virtual time: each wait advances a fake clock instead of
// sleeping, and "ending the process" records why.
#include "core/stop_watchdog.hpp"

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace ledgersync;
using namespace std::chrono_literals;

namespace {

struct virtual_stop {
  std::chrono::steady_clock::time_point start{}, now{};
  std::vector<int> signals;  // what each wait sees, in turn (0: nothing); then nothing
  size_t waits = 0;
  std::vector<std::string> expired;
  std::function<void()> meanwhile;  // what the stopping thread does during a wait

  std::unique_ptr<stop_watchdog> watchdog(std::chrono::milliseconds limit) {
    return std::make_unique<stop_watchdog>(
        limit, [this] { return now; },
        [this](std::chrono::milliseconds ms) {
          now += ms;
          if (meanwhile) meanwhile();
          int sig = waits < signals.size() ? signals[waits] : 0;
          ++waits;
          return sig;
        },
        [this](const std::string& why) { expired.push_back(why); });
  }
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
  }
};

}  // namespace

TEST_CASE("a stop that hangs is ended at its limit, naming the stage") {
  virtual_stop v;
  auto dog = v.watchdog(30s);
  dog->stage("stopping the engine and its integrations");
  dog->run_for_test();
  REQUIRE(v.expired.size() == 1);
  CHECK(v.expired[0] ==
        "the stop did not finish within 30 s (still stopping the engine and its integrations); "
        "exiting without the rest of it");
  CHECK(v.elapsed() == 30s);  // not a moment before the limit
}

TEST_CASE("a second SIGINT or SIGTERM ends the stop at once") {
  virtual_stop v;
  v.signals = {0, 0, SIGINT};
  auto dog = v.watchdog(30s);
  dog->stage("delivering webhooks");
  dog->run_for_test();
  REQUIRE(v.expired.size() == 1);
  CHECK(v.expired[0] == "SIGINT again while stopping (still delivering webhooks); exiting at once");
  CHECK(v.elapsed() == 30ms);  // the third wait of 10 ms
}

TEST_CASE("a stop that finishes in time ends nothing") {
  virtual_stop v;
  auto dog = v.watchdog(30s);
  v.meanwhile = [&] {
    if (v.elapsed() >= 29990ms) dog->finish();  // done in the watchdog's last wait
  };
  dog->run_for_test();
  CHECK(v.expired.empty());
  CHECK(v.elapsed() == 29990ms);
}
