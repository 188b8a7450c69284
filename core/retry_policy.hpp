// Exponential backoff with full jitter: delay = random(0, min(cap, base * 2^attempt)),
// bounded attempts, and a server's Retry-After wins when it is given. Only retryable
// categories are retried. Not thread-safe; deterministic given the seed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "core/errors.hpp"

namespace ledgersync {

struct retry_settings {
  uint32_t max_attempts = 5;  // attempts per page, the first one included
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{30000};
  // Rate-limit waits do not consume attempts, but are bounded too: a vendor that never lets
  // us through must still end the run.
  uint32_t max_rate_limit_waits = 20;
  std::chrono::milliseconds max_retry_after{15 * 60 * 1000};
};

class retry_policy {
 public:
  explicit retry_policy(retry_settings s = {}, uint64_t seed = 0x5eed) : s_(s), rng_(seed) {}

  // Given the failure of attempt number `attempt` (0-based) of one request, returns how long to
  // wait before the next attempt, or nullopt when the request must not be retried.
  std::optional<std::chrono::milliseconds> next_delay(const error_info& e, uint32_t attempt,
                                                      uint32_t rate_limit_waits) {
    if (!e.retryable()) return std::nullopt;
    if (e.category == error_category::rate_limited) {
      if (rate_limit_waits >= s_.max_rate_limit_waits) return std::nullopt;
      // A wait beyond the cap (a daily limit: hours) is neither cut short, to be refused again,
      // nor sat out inside the run: the run ends, and its error carries when the upstream
      // takes calls again (status_facts::rate_limited_until_ms keeps the schedule off till then).
      if (e.retry_after_s >= 0) {
        std::chrono::milliseconds wait = std::chrono::seconds(e.retry_after_s);
        if (wait > s_.max_retry_after) return std::nullopt;
        return wait;
      }
      return jitter(attempt);
    }
    if (attempt + 1 >= s_.max_attempts) return std::nullopt;
    if (e.retry_after_s >= 0)
      return std::min<std::chrono::milliseconds>(std::chrono::seconds(e.retry_after_s),
                                                 s_.max_retry_after);
    return jitter(attempt);
  }

  // The ceiling the jittered delay is drawn under, for attempt `attempt`.
  std::chrono::milliseconds ceiling(uint32_t attempt) const {
    auto shift = std::min<uint32_t>(attempt, 30);
    auto c = s_.base.count() * (int64_t{1} << shift);
    return std::chrono::milliseconds(std::min<int64_t>(c, s_.cap.count()));
  }

  const retry_settings& settings() const { return s_; }

 private:
  std::chrono::milliseconds jitter(uint32_t attempt) {
    std::uniform_int_distribution<int64_t> d(0, ceiling(attempt).count());
    return std::chrono::milliseconds(d(rng_));
  }

  retry_settings s_;
  std::mt19937_64 rng_;
};

}  // namespace ledgersync
