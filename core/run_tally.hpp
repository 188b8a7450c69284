// One sync run's counts and how it ended, and what they turn into: the run's record in the runs
// database, its final sync-log event, and the integration's status facts. Plain data owned by
// the integration actor while the run is active; not thread-safe (it has one owner).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/status_model.hpp"

namespace ledgersync {

// Where one stream of a run stands. `total` is what the upstream said the pass holds (-1 when it
// did not); `fetched` may pass it when records arrive during the pass.
struct stream_tally {
  std::string name;
  uint64_t fetched = 0;
  int64_t total = -1;
  bool done = false;
};

struct run_tally {
  uint64_t id = 0;
  uint64_t resumes = 0;  // the interrupted run this one continues, 0 = none
  std::string kind;      // manual | scheduled | after_save | resume | push
  bool full = false;
  int64_t started_ms = 0;
  uint64_t fetched = 0, invalid = 0, pages = 0, total = 0;
  uint64_t inserted = 0, updated = 0, unchanged = 0, deleted = 0;
  // Write-back: items the vendor took, and items it refused (failed or conflict).
  uint64_t pushed = 0, push_failed = 0;
  error_info error;  // set: the run ends with this failure
  bool cancelled = false;
  std::vector<stream_tally> streams;  // one per configured stream, in run order
  int percent_shown = -1;             // highest percentage shown so far: the bar never goes back

  // Counts a page of `records` for stream `idx`; `total` from the upstream (-1 = not given)
  // counts when it is the pass's first page.
  void count_page(size_t idx, uint64_t records, int64_t total, bool first_page, bool last_page);
  // The run's percentage: only when every stream's total is known, never above 99 before the
  // run ends, never below what was shown before; -1 while unknown.
  int percent();
  // Per-stream progress for the status document.
  nlohmann::json streams_json() const;

  // "cancelled", "failed", "error" (completed, but records were set aside) or "ok".
  std::string outcome() const;
  // "run 3 ok: 120 fetched, 4 new, …": the line the log and the service's output show.
  std::string summary() const;
  // The run's record while it runs (status "running"), merged into its stored document.
  nlohmann::json progress_record() const;
  // The run's record when it ends: outcome, finish time and the error with its hint.
  nlohmann::json final_record(int64_t now_ms) const;
  // The sync-log event that closes the run, with the counts.
  nlohmann::json final_event(int64_t now_ms) const;
  // What the end of the run changes in the integration's status.
  void settle(status_facts& facts, int64_t now_ms) const;
};

}  // namespace ledgersync
