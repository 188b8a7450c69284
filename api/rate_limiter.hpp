// Per-token request rate limit for the HTTP API: one token bucket (core/token_bucket.hpp) per
// token name, on an injected clock so tests move time instead of sleeping.
// Thread-safe: the server's I/O threads share one limiter.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/token_bucket.hpp"

namespace ledgersync::api {

class request_limiter {
 public:
  using clock_fn = std::function<std::chrono::nanoseconds()>;

  // `burst` requests at once, then one more every `refill_every`. burst 0 disables the limit.
  request_limiter(uint32_t burst, std::chrono::nanoseconds refill_every, clock_fn now = {})
      : burst_(burst), refill_(refill_every), now_(now ? std::move(now) : steady_now) {}

  // nullopt when the request may go ahead; otherwise the whole seconds (at least 1) after which
  // it would, for Retry-After.
  std::optional<int64_t> admit(const std::string& token) {
    if (burst_ == 0) return std::nullopt;
    auto now = now_();
    std::lock_guard lock(mu_);
    auto& b = buckets_.try_emplace(token, burst_, refill_).first->second;
    if (b.try_take(now)) return std::nullopt;
    auto wait = std::chrono::ceil<std::chrono::seconds>(b.wait_time(now)).count();
    return wait < 1 ? 1 : wait;
  }

 private:
  static std::chrono::nanoseconds steady_now() {
    return std::chrono::steady_clock::now().time_since_epoch();
  }
  uint32_t burst_;
  std::chrono::nanoseconds refill_;
  clock_fn now_;
  std::mutex mu_;
  std::map<std::string, token_bucket> buckets_;  // one per token name: tokens are few
};

}  // namespace ledgersync::api
