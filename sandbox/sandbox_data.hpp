// The sandbox upstream's data: streams customers, invoices and payments, N records each,
// generated from a seed so every run sees the same records. Records change on request (their
// version and updated_at move forward), lose a required field on request, and pages follow
// (updated_at, id) order with an opaque cursor, so records changed mid-sync are still seen.
// Thread-safe: one mutex guards the state (the server serves connections on several threads).
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ledgersync::sandbox {

struct page_query {
  std::string stream;
  std::string cursor;         // "" = first page
  std::string updated_since;  // ISO; "" = everything
  size_t limit = 100;
};

// Reads a list request, "/v1/{stream}?limit=N&cursor=C&updated_since=ISO" (an origin-form
// target or an absolute URL), the way the sandbox server does: the query percent-decoded,
// `q.stream` the path's segment below /v1/ ("" for any other path), `limit` as asked (10 when
// absent or unreadable; the caller checks its range). False when the target does not parse.
bool read_list_target(std::string_view target, page_query& q, long& limit);

class dataset {
 public:
  dataset(size_t records_per_stream, uint64_t seed);
  dataset(const dataset&) = delete;
  dataset& operator=(const dataset&) = delete;

  static const std::vector<std::string>& streams();
  bool has_stream(const std::string& s) const;

  // The JSON page {"object":"list","data":[…],"has_more","next_cursor","total"}; false when the
  // query is invalid (message in `body`).
  bool page(const page_query& q, std::string& body);
  // Changes `count` records of `stream` (the lowest-versioned first): a new version, updated
  // now. Returns how many changed.
  size_t mutate(const std::string& stream, size_t count, int64_t now_ms);
  // Makes `count` records lose a required field (and changes them, so incremental syncs see it).
  size_t invalidate(const std::string& stream, size_t count, int64_t now_ms);
  // Up to `count` records that lack a field get it back (corrected upstream: updated now).
  size_t repair(const std::string& stream, size_t count, int64_t now_ms);
  // Up to `count` records vanish (the last ones by index), with no deletion marker: only a full
  // pass can notice.
  size_t remove(const std::string& stream, size_t count);
  // The record as the API would serve it, for tests.
  std::string record_json(const std::string& stream, size_t idx);
  size_t size() const { return n_; }

 private:
  struct rec {
    uint32_t version = 1;
    int64_t updated_ms = 0;
    bool missing = false;
    bool removed = false;  // deleted upstream: listed no more
  };
  struct stream_state {
    std::vector<rec> recs;
    std::set<std::pair<int64_t, uint32_t>> order;  // (updated_ms, idx)
    size_t next_mutate = 0;
  };
  void render(const std::string& stream, size_t idx, const rec& r, std::string& out) const;
  stream_state& state(const std::string& s);
  size_t touch(const std::string& stream, size_t count, int64_t now_ms, bool make_invalid);

  size_t n_;
  uint64_t seed_;
  std::mutex mu_;
  std::vector<stream_state> states_;
  int64_t clock_ms_;  // monotonic: changes never go back in time, even if the wall clock does
};

}  // namespace ledgersync::sandbox
