#include "core/run_tally.hpp"

#include "core/time_util.hpp"

namespace ledgersync {

using nlohmann::json;

std::string run_tally::outcome() const {
  if (cancelled) return "cancelled";
  if (!error.ok()) return "failed";
  if (invalid > 0) return "error";
  return "ok";
}

std::string run_tally::summary() const {
  return "run " + std::to_string(id) + " " + outcome() + ": " + std::to_string(fetched) +
         " fetched, " + std::to_string(inserted) + " new, " + std::to_string(updated) +
         " updated, " + std::to_string(unchanged) + " unchanged, " + std::to_string(deleted) +
         " deleted, " + std::to_string(invalid) + " set aside";
}

json run_tally::progress_record() const {
  return json{{"run_id", id},        {"kind", kind},
              {"full", full},        {"started", format_iso(from_ms(started_ms))},
              {"status", "running"}, {"fetched", fetched},
              {"invalid", invalid},  {"pages", pages},
              {"total", total}};
}

json run_tally::final_record(int64_t now_ms) const {
  auto j = progress_record();
  j["status"] = outcome();
  j["finished"] = format_iso(from_ms(now_ms));
  if (!error.ok()) j["error"] = error_json(error);
  return j;
}

json run_tally::final_event(int64_t now_ms) const {
  auto word = outcome();
  json ev;
  if (word == "failed") {
    ev = log_error_event(now_ms, error, "run_finished");
    ev["message"] = summary() + " — " + error.message;
  } else {
    ev = log_event(now_ms, word == "ok" ? "info" : "warn", "run_finished", summary());
  }
  ev["run_id"] = id;
  ev["counts"] = {{"fetched", fetched},     {"inserted", inserted}, {"updated", updated},
                  {"unchanged", unchanged}, {"deleted", deleted},   {"invalid", invalid}};
  return ev;
}

void run_tally::settle(status_facts& f, int64_t now_ms) const {
  auto word = outcome();
  f.last_attempt_ms = now_ms;
  f.last_outcome = word;
  f.last_run_id = id;
  // A run that set records aside still synced everything else: it counts as a success.
  if (word == "ok" || word == "error") f.last_success_ms = now_ms;
  if (word == "ok") f.last_error = {};
  if (word == "error")
    f.last_error = make_error_info(error_category::validation,
                                   std::to_string(invalid) +
                                       " record(s) were set aside: required fields missing "
                                       "(see ledgersync logs)");
  if (word == "failed") f.last_error = error;
}

}  // namespace ledgersync
