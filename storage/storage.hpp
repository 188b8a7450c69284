// The one storage interface the log writer and every reader talk to. LMDB implements it today;
// a PostgreSQL implementation can later sit behind the same calls (DESIGN.md, "more than one
// machine"). Tests put a fault-injecting wrapper in front of it instead of mocking.
//
// Thread-safety: apply/apply_group must be called from one thread at a time (the log writer);
// every read may be called from any thread concurrently with writes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace ledgersync {

// 64-bit FNV-1a over the record body: decides "unchanged" without comparing bodies.
uint64_t content_hash(const std::string& body);

struct record_write {
  std::string stream;
  std::string id;
  std::string updated_at;
  std::string body;  // the raw upstream record, as received (minified JSON)
  bool deleted = false;
  // The record's canonical entity (a statement's balance beside its entries), as the connector
  // knows it: the change feed carries it without reading the body again. "" = the stream's.
  std::string entity = {};
  // content_hash(body), computed where the record is built (a connector, on its integration's
  // thread): FNV-1a goes a byte at a time, ~1.7 us a 1 KB record, which the one writer thread
  // would otherwise spend for every record of every integration. 0: not computed, the writer
  // computes it. True only of the body it was computed from: set it with hash_body() once the
  // body is final. Not sent between processes (actors/messages.hpp): a remote writer computes.
  uint64_t hash = 0;
  void hash_body() { hash = content_hash(body); }
};

// A record that failed validation, kept (raw) until a later run imports it or an admin dismisses
// it. Keyed (integration, stream, id): seeing it again updates last_seen and the missing fields.
struct set_aside_write {
  std::string stream;
  std::string id;
  std::string body;  // the raw upstream record
  std::vector<std::string> missing;
};

// One item of an integration's outbox (write-back, connectors/push.hpp) written as it is now.
// seq 0: a new item, given the next sequence number (batch_result::outbox_seqs says which). The
// index (integration, entity, external_id) -> seq always names the newest item written for the
// external_id. The store counts items per status, so status and `pushes` need no scan.
struct outbox_write {
  uint64_t seq = 0;
  std::string entity, external_id;
  std::string status;  // pending | sending | succeeded | failed | conflict
  std::string doc;     // the item as JSON; readers take its seq from the key
};

struct outbox_row {
  uint64_t seq = 0;
  std::string doc;
};

// Everything one page (or one control change) writes. Applied atomically: all of it or none.
struct write_batch {
  std::string integration;
  int64_t at_ms = 0;  // wall time of the change, for the change feed
  std::vector<record_write> records;
  std::map<std::string, std::string> cursors;  // stream -> cursor JSON; "" erases
  std::vector<std::string> log_events;         // JSON objects, appended to the sync log in order
  uint64_t run_id = 0;              // when set: run_patch merged into the run's document,
  std::string run_patch;            //   and this batch's record counts added to it
  std::string integration_doc;      // when set: replaces the integration's document
  bool remove_integration = false;  // deletes everything of the integration
  // Records set aside by this page. A valid record written by `records` takes its own entry
  // off the list (with a sync-log event), in the same transaction.
  std::vector<set_aside_write> set_aside;
  // (stream, id) entries an admin accepts as unfixable: kept, marked dismissed by `actor`, no
  // longer counted; seen again with a different body, they count again.
  std::vector<std::pair<std::string, std::string>> dismiss;
  std::string actor;  // who asked for this change (dismissals), for the sync log
  // A full pass marks every record it sees (valid or set aside) with its pass id; the batch of
  // its last page sweeps: each record of the stream that the pass did not see becomes a
  // tombstone (a "delete" in the change feed), and set-aside entries it did not see are
  // dropped. A pass that never completes never sweeps, so it deletes nothing.
  std::string seen_pass;
  std::vector<std::pair<std::string, std::string>> sweep;  // (stream, pass id)
  std::vector<outbox_write> outbox;
};

struct batch_result {
  uint64_t inserted = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  uint64_t deleted = 0;
  uint64_t set_aside_cleared = 0;     // entries this batch took off the list (imported)
  uint64_t set_aside_dismissed = 0;   // entries this batch dismissed
  uint64_t set_aside_total = 0;       // the integration's entries still counted, after the batch
  std::vector<uint64_t> outbox_seqs;  // the seq of each outbox write, in order
};

struct record_row {
  std::string stream, id, updated_at, body;
  bool deleted = false;  // a tombstone: gone upstream, kept with its last body
};

struct change_row {
  uint64_t seq = 0;
  // JSON: seq, integration, stream, id, op, updated_at, at_ms (epoch ms, compact on disk;
  // readers show it as ISO 8601 `at`, see feed_reader.hpp), entity (when known at write)
  std::string doc;
};

// Retention of one integration's sync log and run history. Whatever is older than `cutoff_ms`
// (events by their `at`, runs by their `finished`) or beyond the newest `keep_*` goes.
struct retention_limits {
  int64_t cutoff_ms = 0;
  uint64_t keep_events = 0;
  uint64_t keep_runs = 0;
};
struct prune_result {
  uint64_t events = 0, runs = 0;  // deleted
  bool more = false;              // the limit on deletes stopped it: call again
};
// How much history an integration keeps: counts from the meta database (no scan).
struct history_stats {
  uint64_t events = 0, runs = 0;
  std::string oldest_event_at;  // the oldest kept event's `at`; "" when there is none
};

class storage {
 public:
  virtual ~storage() = default;

  // Applies all batches in ONE durable transaction (group commit); on success fills one result
  // per batch. On failure nothing of any batch is written.
  virtual error_info apply_group(const std::vector<const write_batch*>& batches,
                                 std::vector<batch_result>& results) = 0;
  error_info apply(const write_batch& b, batch_result& r) {
    std::vector<batch_result> rs;
    auto e = apply_group({&b}, rs);
    if (e.ok()) r = rs.front();
    return e;
  }

  virtual std::vector<std::string> integration_docs() = 0;
  // The names alone, in order: what `list` needs, without reading (or parsing) every document.
  virtual std::vector<std::string> integration_names() = 0;
  virtual std::optional<std::string> integration_doc(const std::string& name) = 0;
  virtual std::map<std::string, std::string> cursors(const std::string& integration) = 0;
  // Records of one integration in key order, after (stream, id) `after`; stream "" = all.
  // Tombstones are left out unless `include_deleted`.
  virtual std::vector<record_row> records(const std::string& integration, const std::string& stream,
                                          const std::string& after_stream,
                                          const std::string& after_id, size_t limit,
                                          bool include_deleted = false) = 0;
  virtual std::optional<record_row> record(const std::string& integration,
                                           const std::string& stream, const std::string& id) = 0;
  virtual std::map<std::string, uint64_t> record_counts(const std::string& integration) = 0;
  virtual std::vector<change_row> changes(uint64_t since_seq, size_t limit) = 0;
  virtual uint64_t last_change_seq() = 0;
  // The newest `limit` sync-log events, oldest first.
  virtual std::vector<std::string> logs(const std::string& integration, size_t limit) = 0;
  // The newest `limit` runs, newest first.
  virtual std::vector<std::string> runs(const std::string& integration, size_t limit) = 0;
  virtual std::optional<std::string> run(const std::string& integration, uint64_t run_id) = 0;
  // Set-aside entries of one integration in key order, dismissed ones included: JSON
  // {stream, id, missing, first_seen, last_seen, run_id, dismissed, record}.
  virtual std::vector<std::string> set_aside(const std::string& integration) = 0;

  // The outbox of one integration in seq order, after `after_seq`; `status` "" = every status.
  virtual std::vector<outbox_row> outbox(const std::string& integration, uint64_t after_seq,
                                         size_t limit, const std::string& status = "") = 0;
  virtual std::optional<outbox_row> outbox_item(const std::string& integration, uint64_t seq) = 0;
  // The newest item written for (entity, external_id).
  virtual std::optional<outbox_row> outbox_latest(const std::string& integration,
                                                  const std::string& entity,
                                                  const std::string& external_id) = 0;
  // Items per status (statuses with none are absent).
  virtual std::map<std::string, uint64_t> outbox_counts(const std::string& integration) = 0;

  // Deletes, oldest first, `integration`'s sync-log events and runs that `limits` let go, at
  // most `max_deletes` keys in one durable transaction, so a caller can interleave it with page
  // commits. A run without `finished` (still running) is never deleted for its age. A write:
  // called from the writer's thread only, like apply_group.
  virtual error_info prune(const std::string& integration, const retention_limits& limits,
                           size_t max_deletes, prune_result& out) = 0;
  virtual history_stats history(const std::string& integration) = 0;
};

// Opens (creating when needed) the LMDB environment in `dir`. One per process per directory.
std::unique_ptr<storage> open_lmdb_storage(const std::string& dir, std::string& error,
                                           size_t initial_map_bytes = size_t{1} << 30);

}  // namespace ledgersync
