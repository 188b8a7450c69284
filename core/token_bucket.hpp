// Token bucket on an injected clock: holds at most `burst` tokens, one more every
// `refill_every`. It stores only the time at which the bucket would be full again
// ("next free time" formulation), so it needs no timer and is trivially testable.
// Not thread-safe: owned by one integration actor.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace ledgersync {

class token_bucket {
 public:
  using duration = std::chrono::nanoseconds;

  token_bucket(uint32_t burst, duration refill_every) : burst_(burst), refill_(refill_every) {}

  // Takes a token at `now` if one is available; otherwise returns false and leaves the bucket
  // as it was. `now` is any monotonic duration since a fixed epoch (actor clock ticks).
  bool try_take(duration now) {
    if (burst_ == 0) return false;
    duration full_cap = refill_ * burst_;
    // "full_at_" is when the bucket would hold `burst` tokens; tokens now = burst - ceil(debt).
    duration base = std::max(full_at_, now);
    duration debt = base - now;  // time still needed until full
    if (debt + refill_ > full_cap) return false;
    full_at_ = base + refill_;
    return true;
  }

  // How long until try_take(now) would succeed.
  duration wait_time(duration now) const {
    if (burst_ == 0) return duration::max();
    duration full_cap = refill_ * burst_;
    duration debt = std::max(full_at_, now) - now;
    duration over = debt + refill_ - full_cap;
    return over > duration::zero() ? over : duration::zero();
  }

  uint32_t available(duration now) const {
    if (refill_.count() == 0) return burst_;
    duration debt = std::max(full_at_, now) - now;
    auto used = (debt.count() + refill_.count() - 1) / refill_.count();
    return used >= burst_ ? 0 : burst_ - static_cast<uint32_t>(used);
  }

  uint32_t burst() const { return burst_; }
  duration refill_every() const { return refill_; }

 private:
  uint32_t burst_;
  duration refill_;
  duration full_at_{0};
};

}  // namespace ledgersync
