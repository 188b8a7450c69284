// Ends a pass that would never end. An upstream decides how a pass pages (its cursors, next links
// and page counts come from its answers), so a buggy or hostile one can hand back the same token
// forever or page without end. The guard remembers every token of the current pass (hashed, a
// few bytes each) and counts its pages; the integration actor asks it before following a page.
// Plain value, one per active stream pass; not thread-safe (one owner).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include "core/errors.hpp"

namespace ledgersync {

class paging_guard {
 public:
  explicit paging_guard(uint64_t max_pages = 100000) : max_pages_(max_pages) {}

  // Checks the page that follows `pages_done` committed pages of this pass and names `next_token`.
  // Returns an upstream error (permanent: asking again gives the same answer) when the token was
  // already followed in this pass or the pass has reached its page cap.
  error_info check(const std::string& stream, uint64_t pages_done, bool has_more,
                   const std::string& next_token) {
    if (!has_more) return {};
    if (pages_done + 1 >= max_pages_) {
      return permanent("stream " + stream + ": the pass reached " + std::to_string(max_pages_) +
                       " pages (max_pages_per_pass) and was stopped; raise the limit if the "
                       "upstream really holds that much");
    }
    if (!seen_.insert(std::hash<std::string>{}(next_token)).second) {
      auto shown = next_token.size() > 80 ? next_token.substr(0, 77) + "..." : next_token;
      return permanent("stream " + stream + ": the upstream sent the page token '" + shown +
                       "' a second time in one pass (page " + std::to_string(pages_done + 1) +
                       "); the run was ended so that it cannot loop forever");
    }
    return {};
  }

  // Remembers a token already followed (a resumed pass starts from its committed token).
  void followed(const std::string& token) {
    if (!token.empty()) seen_.insert(std::hash<std::string>{}(token));
  }

 private:
  static error_info permanent(std::string msg) {
    auto e = make_error_info(error_category::upstream, std::move(msg));
    e.permanent = true;
    return e;
  }

  uint64_t max_pages_;
  std::unordered_set<size_t> seen_;
};

}  // namespace ledgersync
