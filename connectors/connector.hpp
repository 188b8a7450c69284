// A connector is plain code, not an actor: given a stream's settings and where the stream stands,
// it says which request fetches the next page, and turns the answer into records, set-aside
// invalid records, deletions and where the stream stands next. The integration actor does the
// I/O, the retries and the writing; connectors are therefore tested on canned answers alone.
//
// The interface fits the vendors to come (UPSTREAM-PROTOCOLS.md): any paging that can be named
// by an opaque page token (cursor, page number, next URL, Link header); incremental sync by a
// query parameter or a header; event feeds (a stream whose records carry a deletion marker);
// XML bodies (the body is handed over as bytes); drop-folder files (file:// requests); totals.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/integration_config.hpp"
#include "connectors/http_types.hpp"
#include "storage/storage.hpp"

namespace ledgersync {

// Where one stream stands. Persisted (as JSON) in the same transaction as the records it
// follows, so after a crash the records and the cursor always agree.
struct stream_cursor {
  std::string watermark;   // highest updated_at of the last completed pass
  bool in_pass = false;    // a pass is under way (resume it rather than start over)
  std::string pass_since;  // the watermark this pass filters by ("" = everything)
  std::string page_token;  // where the pass goes on: cursor, page number or next URL
  std::string pass_max;    // highest updated_at committed so far in this pass
  uint64_t pages = 0;      // pages committed in this pass
  // A full pass (sync --full, a reconcile): it marks what it sees, and its last page turns
  // every record it did not see into a tombstone. Persisted so a resumed pass still counts.
  bool full = false;
  std::string pass_id;

  std::string to_json() const;
  static stream_cursor from_json(const std::string& s);
};

struct invalid_record {
  std::string id;
  std::vector<std::string> missing;  // field names (JSON pointers without the leading '/')
  std::string body;                  // the raw record, kept on the set-aside list
};

struct page_result {
  error_info error;                     // not ok: nothing else is meaningful
  std::vector<record_write> records;    // valid records and deletions
  std::vector<invalid_record> invalid;  // set aside, with what they lack
  bool has_more = false;
  std::string next_token;
  int64_t total = -1;       // total records the pass will see, when the upstream says
  std::string max_updated;  // highest updated_at in this page
};

// Where the stream stands once `page` (fetched from `c`) is committed. The last page of a pass
// makes the pass's highest updated_at the new watermark; the next pass asks for records
// updated at or after it (inclusive, so a record sharing the watermark's millisecond is not
// missed; it comes back unchanged and its content hash keeps it from being written again).
stream_cursor cursor_after(const stream_cursor& c, const page_result& page);

class connector {
 public:
  virtual ~connector() = default;
  virtual http_request page_request(const stream_config& s, const stream_cursor& c) const = 0;
  virtual page_result parse_page(const stream_config& s, const stream_cursor& c,
                                 const http_response& r) = 0;
  // A cheap request that proves the URL and the credentials work ("test connection").
  virtual http_request probe_request(const stream_config& s) const = 0;
};

// `config` must outlive the connector. Returns nullptr for an unknown connector name.
std::unique_ptr<connector> make_connector(const integration_config& config);

}  // namespace ledgersync
