// Request budgets shared by integrations (Xero counts 10,000 calls a minute per app, whichever
// of the app's organisations they are for): one token bucket per key, on the time the callers
// pass (the actor clock, so virtual time in tests). Owned by the service (service_context) and
// used from every integration actor's thread: thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "core/token_bucket.hpp"

namespace ledgersync {

class shared_budget {
 public:
  using duration = std::chrono::nanoseconds;

  // Takes one call from `key`'s budget at `now`: zero when taken, else how long until one may
  // be (nothing taken). The budget is made with `burst` and `refill` at first use, and made
  // again when they change (a new setting; what it had used is forgotten).
  duration take(const std::string& key, uint32_t burst, duration refill, duration now) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& e = budgets_[key];
    if (e.bucket.burst() != burst || e.bucket.refill_every() != refill)
      e.bucket = token_bucket(burst, refill);
    if (now < e.paused_until) return e.paused_until - now;
    if (e.bucket.try_take(now)) return duration::zero();
    return std::max(e.bucket.wait_time(now), duration(1));
  }

  // No call under `key` before `until`: the upstream said the shared quota is spent.
  void pause(const std::string& key, duration until) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& e = budgets_[key];
    e.paused_until = std::max(e.paused_until, until);
  }

 private:
  struct entry {
    token_bucket bucket{0, duration::zero()};  // made by the first take
    duration paused_until{0};
  };
  std::mutex mu_;
  std::map<std::string, entry> budgets_;
};

}  // namespace ledgersync
