#include "core/run_tally.hpp"

#include "core/time_util.hpp"

namespace ledgersync {

using nlohmann::json;

void run_tally::count_page(size_t idx, uint64_t records, int64_t total, bool first_page,
                           bool last_page) {
  if (idx >= streams.size()) return;
  auto& st = streams[idx];
  st.fetched += records;
  // The first total a pass reports is the one progress is measured against (a resumed pass
  // reports it on its first page in this run).
  if (total >= 0 && (first_page || st.total < 0)) st.total = total;
  if (last_page) st.done = true;
}

namespace {
// A stream's effective total: what it said, or what it turned out to hold when that was more.
int64_t effective_total(const stream_tally& s) {
  if (s.done) return static_cast<int64_t>(s.fetched);
  if (s.total < 0) return -1;
  return std::max<int64_t>(s.total, static_cast<int64_t>(s.fetched));
}
}  // namespace

int run_tally::percent() {
  if (streams.empty()) return percent_shown;
  int64_t sum_total = 0, sum_fetched = 0;
  for (auto& s : streams) {
    auto t = effective_total(s);
    if (t < 0) return percent_shown;
    sum_total += t;
    sum_fetched += static_cast<int64_t>(std::min<uint64_t>(s.fetched, static_cast<uint64_t>(t)));
  }
  int p = sum_total == 0 ? 99 : static_cast<int>(sum_fetched * 100 / sum_total);
  p = std::min(p, 99);  // 100 % is for a run that has ended
  percent_shown = std::max(percent_shown, p);
  return percent_shown;
}

json run_tally::streams_json() const {
  json out = json::array();
  for (auto& s : streams) {
    auto t = effective_total(s);
    json j{{"name", s.name}, {"fetched", s.fetched}, {"done", s.done}};
    j["total"] = t >= 0 ? json(t) : json(nullptr);
    j["percent"] = s.done  ? json(100)
                   : t > 0 ? json(std::min<int64_t>(99, static_cast<int64_t>(s.fetched) * 100 / t))
                           : json(nullptr);
    out.push_back(j);
  }
  return out;
}

std::string run_tally::outcome() const {
  if (cancelled) return "cancelled";
  if (!error.ok()) return "failed";
  if (invalid > 0 || push_failed > 0) return "error";
  return "ok";
}

std::string run_tally::summary() const {
  return "run " + std::to_string(id) + " " + outcome() + ": " + std::to_string(fetched) +
         " fetched, " + std::to_string(inserted) + " new, " + std::to_string(updated) +
         " updated, " + std::to_string(unchanged) + " unchanged, " + std::to_string(deleted) +
         " deleted, " + std::to_string(invalid) + " set aside" +
         (pushed || push_failed ? ", " + std::to_string(pushed) + " pushed, " +
                                      std::to_string(push_failed) + " push(es) refused"
                                : std::string());
}

json run_tally::progress_record() const {
  json j{{"run_id", id},
         {"kind", kind},
         {"full", full},
         {"started", format_iso(from_ms(started_ms))},
         {"status", "running"},
         {"fetched", fetched},
         {"invalid", invalid},
         {"pages", pages},
         {"streams", streams_json()}};
  // The run's total only once every stream's is known (see percent()).
  json total = 0;
  for (auto& s : j["streams"])
    total = s["total"].is_null() || total.is_null()
                ? json(nullptr)
                : json(total.get<uint64_t>() + s["total"].get<uint64_t>());
  j["total"] = total;
  if (resumes) j["resumes"] = resumes;
  if (pushed || push_failed) {
    j["pushed"] = pushed;
    j["push_failed"] = push_failed;
  }
  return j;
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
  if (pushed || push_failed) {
    ev["counts"]["pushed"] = pushed;
    ev["counts"]["push_failed"] = push_failed;
  }
  return ev;
}

void run_tally::settle(status_facts& f, int64_t now_ms) const {
  auto word = outcome();
  f.last_attempt_ms = now_ms;
  f.last_outcome = word;
  f.last_run_id = id;
  // A run that set records aside still synced everything else: it counts as a success.
  // A push run reads nothing: the data is no fresher for it.
  if ((word == "ok" || word == "error") && kind != "push") f.last_success_ms = now_ms;
  if (word == "ok") f.last_error = {};
  // Set-aside records speak through the set-aside count, which outlives this run.
  if (word == "error") f.last_error = {};
  if (word == "failed") f.last_error = error;
  f.active_run_id = 0;
  // A run ended by a rate limit (one whose Retry-After is longer than a run waits, see
  // core/retry_policy.hpp): scheduled runs wait until the upstream takes calls again.
  f.rate_limited_until_ms = 0;
  if (word == "failed" && error.category == error_category::rate_limited && error.retry_after_s > 0)
    f.rate_limited_until_ms = now_ms + int64_t{error.retry_after_s} * 1000;
  if (word == "ok" || word == "error") {
    f.consecutive_failures = 0;
    f.awaiting_key = false;
  } else if (word == "failed") {
    if (error.category == error_category::auth)
      f.awaiting_key = true;
    else
      ++f.consecutive_failures;
  }
}

}  // namespace ledgersync
