// What users see for an integration: Active / Error / Disconnected / Disabled, a health word,
// staleness, last success and attempt, the last error with its hint, and the running run's
// progress. Computed from plain facts so the integration actor and the engine (for an
// integration whose actor is down) agree, and so it is tested without actors. Errors and
// sync-log events take their JSON shape here too, so every surface shows them alike.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <map>
#include <string>

#include "core/errors.hpp"

namespace ledgersync {

// Persisted beside the config in the integrations database.
struct status_facts {
  int64_t created_at_ms = 0;
  int64_t last_success_ms = 0;  // 0 = never
  int64_t last_attempt_ms = 0;
  int64_t last_scheduled_ms = 0;  // last scheduled fire that reached the integration
  uint64_t last_run_id = 0;
  std::string last_outcome;    // "", "ok", "error" (completed with failures), "failed", "cancelled"
  error_info last_error;       // category none when the last run was clean
  std::string crash;           // set by the engine when restarts were exhausted
  uint64_t active_run_id = 0;  // the run under way; still set at start-up = a crash ended it
  uint64_t set_aside = 0;      // records set aside and not yet imported (nor dismissed)
  // Pushed records the vendor refused (failed or conflict) and not pushed again since; and
  // those still to send (pending, sending). The outbox's counts, kept here for the status.
  uint64_t push_failed = 0, push_open = 0;
  // Refused credentials pause scheduled syncs until the settings change, `test` succeeds or a
  // sync is started by hand: calling again with the same key only fails again.
  bool awaiting_key = false;
  uint32_t consecutive_failures = 0;  // failed runs in a row (not auth): scheduled backoff
  // The last run ended on a rate limit whose reset is further off than a run waits (Xero's
  // daily limit): no scheduled run before this time. 0 = none.
  int64_t rate_limited_until_ms = 0;

  nlohmann::json to_json() const;
  static status_facts from_json(const nlohmann::json& j);
  // push_failed and push_open from the outbox's counts by status (storage::outbox_counts).
  void count_pushes(const std::map<std::string, uint64_t>& outbox_counts);
};

struct run_progress {
  bool running = false;
  uint64_t run_id = 0;
  std::string kind;
  std::string stream;
  uint64_t fetched = 0, total = 0, inserted = 0, updated = 0, unchanged = 0, invalid = 0;
  int64_t started_ms = 0;
  std::string waiting;   // "retrying (upstream) in 2s" / "rate limited: waiting 30s"
  uint64_t resumes = 0;  // the interrupted run this one continues
  // Per stream: {name, fetched, total (null = unknown), percent (null unless true), done}.
  nlohmann::json streams = nlohmann::json::array();
  int percent = -1;  // the run's percentage; -1 while any stream's total is unknown
};

// Scheduled attempts after `failures` failed runs in a row wait at least this long after the
// last attempt: 1, 2, 4, … minutes, never more than a day. 0 after no failure.
int64_t scheduled_backoff_ms(uint32_t failures);

// Why a scheduled (or resumed) run must not start at `now_ms`, or "" when it may: refused
// credentials wait for new ones; a rate limit waits for its reset; an integration that keeps
// failing backs off. The integration
// actor skips by it and the status shows it, so both say the same.
std::string scheduled_pause(const status_facts& f, int64_t now_ms);

struct status_inputs {
  std::string name, connector, schedule;
  bool enabled = true;
  int64_t now_ms = 0;
  int64_t next_run_ms = 0;
  int64_t stale_after_ms = 0;  // 0 = never stale (manual schedule)
  bool scheduled = false;      // has a schedule (not manual): backoff and pauses concern it
  status_facts facts;
  run_progress progress;
};

// What the status says while records are set aside: "3 records set aside (validation)…".
error_info set_aside_error(uint64_t count, const std::string& name);
error_info push_failed_error(uint64_t count, const std::string& name);

// How every surface shows an error: {"category", "message", "hint"}.
nlohmann::json error_json(const error_info& e);

// A sync-log event: {"at", "level", "event", "message"}.
nlohmann::json log_event(int64_t at_ms, const char* level, const std::string& event,
                         const std::string& message);
// An error event: the above plus the error's category and the hint that says what to do.
nlohmann::json log_error_event(int64_t at_ms, const error_info& e, const std::string& event);

// "pending" (no run has ended yet, or none since new settings or a sign-in answered a
// failure) | "active" | "error" | "disconnected" | "disabled"
std::string status_word(const status_inputs& in);
// "healthy" | "warning" | "failure", "unknown" while pending, "off" when disabled.
std::string health_word(const status_inputs& in);
bool is_stale(const status_inputs& in);
// The status document of `status --json` and the API.
nlohmann::json status_json(const status_inputs& in);
// The same document as text, status_json(in).dump() to the byte, written without building the
// tree: `list` renders one per integration, and building and freeing the tree was most of it.
std::string status_text(const status_inputs& in);

}  // namespace ledgersync
