// One sync run's counts and how it ended, and what they turn into: the run's record in the runs
// database, its final sync-log event, and the integration's status facts. Plain data owned by
// the integration actor while the run is active; not thread-safe (it has one owner).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/errors.hpp"
#include "core/status_model.hpp"

namespace ledgersync {

struct run_tally {
  uint64_t id = 0;
  std::string kind;  // manual | scheduled | after_save | resume
  bool full = false;
  int64_t started_ms = 0;
  uint64_t fetched = 0, invalid = 0, pages = 0, total = 0;
  uint64_t inserted = 0, updated = 0, unchanged = 0, deleted = 0;
  error_info error;  // set: the run ends with this failure
  bool cancelled = false;

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
