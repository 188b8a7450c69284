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
// follows, so after a crash the records and the cursor always agree. The engine keeps only the
// bookkeeping of a pass; where the upstream stands (a watermark, a page token, a file offset)
// is the connector's `state`, opaque here and advanced only by the connector.
struct stream_cursor {
  bool in_pass = false;  // a pass is under way (resume it rather than start over)
  uint64_t pages = 0;    // pages committed in this pass
  // A full pass (sync --full, a reconcile): it marks what it sees, and its last page turns
  // every record it did not see into a tombstone. Persisted so a resumed pass still counts.
  bool full = false;
  std::string pass_id;
  std::string state;  // the connector's own; "" before its first pass

  std::string to_json() const;
  // Also reads the cursors stored before `state` existed (the rest connector's watermark, page
  // token, pass filter and pass maximum at the top level), moving them into `state`.
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
  // The upstream's remaining quota is spent (its rate-limit headers say so): the engine waits
  // this long before the next request instead of running into a 429. 0: no wait.
  int64_t pause_ms = 0;
  // Problems with what was read that are not a record's (a statement file that would not
  // parse and was set aside whole): written to the sync log with the page.
  std::vector<std::string> rejected;
  // The same for the budget shared with the app's other integrations (connector_kind::shared):
  // all of them wait. Both pauses are honoured on an error page too (a 429 that names the
  // app's limit holds every integration of the app, not only the one it answered).
  int64_t shared_pause_ms = 0;
  // The upstream takes no more calls for longer than a run waits (Xero's daily quota is spent):
  // this page is committed, then the run ends with this error, whose retry_after_s holds back
  // the next runs. Ok: go on.
  error_info stop_after;
};

// Where the stream stands once `page` (fetched from `c`) is committed: one more page, the
// connector's state advanced by it, and the pass's bookkeeping cleared after its last page.
class connector;
stream_cursor cursor_after(const connector& conn, const stream_config& s, const stream_cursor& c,
                           const page_result& page);
// The cursor a new pass starts from, after the committed `c` (whose pass has ended).
stream_cursor cursor_for_pass(const connector& conn, const stream_config& s, const stream_cursor& c,
                              bool full, std::string pass_id);

class connector {
 public:
  virtual ~connector() = default;
  virtual http_request page_request(const stream_config& s, const stream_cursor& c) const = 0;
  virtual page_result parse_page(const stream_config& s, const stream_cursor& c,
                                 const http_response& r) = 0;
  // A cheap request that proves the URL and the credentials work ("test connection").
  virtual http_request probe_request(const stream_config& s) const = 0;
  // What the answer to probe_request means, in the vendor's terms where they help (a refused
  // tenant id rather than a bare 403); ok when the test passed.
  virtual error_info probe_error(const stream_config& s, const http_response& r) const {
    return classify_response(r, "test of " + s.name);
  }

  // The connector owns its per-stream state (a string it alone reads) and how it advances.
  // The state a new pass starts from, given the state the last pass left; a full pass ignores
  // what an incremental one would filter by.
  virtual std::string begin_pass(const stream_config& s, const std::string& state,
                                 bool full) const = 0;
  // The state once `page`, fetched from `state`, is committed; `page.has_more` false ends the
  // pass (an incremental connector then moves its watermark).
  virtual std::string after_page(const stream_config& s, const std::string& state,
                                 const page_result& page) const = 0;
  // The page token `state` stands at, "" for none: a resumed pass must not follow it again.
  virtual std::string page_token(const std::string& state) const = 0;
  // Whether a full pass sees every record the upstream still has, so that what it did not see
  // is gone and becomes a tombstone. False for sources that show only recent items (the ECB's
  // daily file): their full pass re-reads, and deletes nothing.
  virtual bool full_pass_sees_everything(const stream_config&) const { return true; }
  // Called once the page that left the stream at `state` is committed, for work that must not
  // come before the records are durable (a drop folder moves the file it read). Must be safe
  // to repeat: a crash between the commit and this call reads the same page again.
  virtual void committed(const stream_config&, const std::string& /*state*/) {}
};

// What every vendor connector's requests start from: the integration's timeout and body limit,
// links followed only on the base URL's origin, `accept`, the bearer token (the API key, or the
// access token that sign-in keeps there), the vendor's own headers (tenant, business, API
// version), and last the headers the user configured.
inline http_request vendor_base_request(const integration_config& c, header_list vendor,
                                        std::string accept = "application/json") {
  http_request r;
  r.timeout_ms = c.request_timeout_ms;
  r.max_body_bytes = c.max_body_bytes;
  r.allowed_origin = origin_of(c.base_url);
  r.headers.emplace_back("Accept", std::move(accept));
  if (!c.api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + c.api_key);
  for (auto& h : vendor) r.headers.push_back(std::move(h));
  for (auto& [k, v] : c.headers) r.headers.emplace_back(k, v);
  return r;
}

// `config` must outlive the connector. Returns nullptr for an unknown connector name.
std::unique_ptr<connector> make_connector(const integration_config& config);

}  // namespace ledgersync
