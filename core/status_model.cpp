#include "core/status_model.hpp"

#include "core/time_util.hpp"

namespace ledgersync {

using nlohmann::json;

json status_facts::to_json() const {
  return json{{"created_at_ms", created_at_ms},
              {"last_success_ms", last_success_ms},
              {"last_attempt_ms", last_attempt_ms},
              {"last_scheduled_ms", last_scheduled_ms},
              {"last_run_id", last_run_id},
              {"last_outcome", last_outcome},
              {"last_error",
               {{"category", category_name(last_error.category)},
                {"message", last_error.message},
                {"transport", last_error.transport}}},
              {"crash", crash}};
}

status_facts status_facts::from_json(const json& j) {
  status_facts f;
  if (!j.is_object()) return f;
  f.created_at_ms = j.value("created_at_ms", int64_t{0});
  f.last_success_ms = j.value("last_success_ms", int64_t{0});
  f.last_attempt_ms = j.value("last_attempt_ms", int64_t{0});
  f.last_scheduled_ms = j.value("last_scheduled_ms", int64_t{0});
  f.last_run_id = j.value("last_run_id", uint64_t{0});
  f.last_outcome = j.value("last_outcome", "");
  f.crash = j.value("crash", "");
  if (j.contains("last_error") && j["last_error"].is_object()) {
    auto& e = j["last_error"];
    f.last_error.category = category_from_name(e.value("category", "none"));
    f.last_error.message = e.value("message", "");
    f.last_error.transport = e.value("transport", false);
  }
  return f;
}

json error_json(const error_info& e) {
  return json{{"category", category_name(e.category)}, {"message", e.message}, {"hint", e.hint()}};
}

json log_event(int64_t at_ms, const char* level, const std::string& event,
               const std::string& message) {
  return json{
      {"at", format_iso(from_ms(at_ms))}, {"level", level}, {"event", event}, {"message", message}};
}

json log_error_event(int64_t at_ms, const error_info& e, const std::string& event) {
  auto ev = log_event(at_ms, "error", event, e.message);
  ev.update(error_json(e));
  return ev;
}

std::string status_word(const status_inputs& in) {
  if (!in.enabled) return "disabled";
  if (!in.facts.crash.empty()) return "error";
  auto& e = in.facts.last_error;
  if (e.category == error_category::auth || (e.transport && in.facts.last_outcome == "failed"))
    return "disconnected";
  if (in.facts.last_outcome == "error" || in.facts.last_outcome == "failed") return "error";
  return "active";
}

bool is_stale(const status_inputs& in) {
  if (!in.enabled || in.stale_after_ms <= 0) return false;
  int64_t base = in.facts.last_success_ms ? in.facts.last_success_ms : in.facts.created_at_ms;
  return base > 0 && in.now_ms - base > in.stale_after_ms;
}

json status_json(const status_inputs& in) {
  auto word = status_word(in);
  bool stale = is_stale(in);
  std::string health = word == "disconnected" || !in.facts.crash.empty() ? "failure"
                       : word == "active" && !stale                      ? "healthy"
                                                                         : "warning";
  auto when = [](int64_t ms) -> json {
    if (ms <= 0) return nullptr;
    return format_iso(from_ms(ms));
  };
  json j{{"name", in.name},
         {"connector", in.connector},
         {"status", word},
         {"health", health},
         {"stale", stale},
         {"enabled", in.enabled},
         {"schedule", in.schedule},
         {"last_sync", when(in.facts.last_success_ms)},
         {"last_attempt", when(in.facts.last_attempt_ms)},
         {"next_run", in.enabled ? when(in.next_run_ms) : json(nullptr)},
         {"running", in.progress.running},
         {"last_run_id", in.facts.last_run_id},
         {"last_outcome", in.facts.last_outcome},
         {"now", when(in.now_ms)}};
  if (in.progress.running) {
    auto& p = in.progress;
    json prog{
        {"run_id", p.run_id},       {"kind", p.kind},         {"stream", p.stream},
        {"fetched", p.fetched},     {"inserted", p.inserted}, {"updated", p.updated},
        {"unchanged", p.unchanged}, {"invalid", p.invalid},   {"started", when(p.started_ms)}};
    prog["total"] = p.total ? json(p.total) : json(nullptr);
    prog["percent"] =
        p.total ? json(std::min<uint64_t>(100, p.fetched * 100 / p.total)) : json(nullptr);
    if (!p.waiting.empty()) prog["waiting"] = p.waiting;
    j["progress"] = prog;
  } else {
    j["progress"] = nullptr;
  }
  if (!in.facts.crash.empty()) {
    j["last_error"] = {{"category", "crash"},
                       {"message", in.facts.crash},
                       {"hint",
                        "the integration stopped after repeated crashes — check the "
                        "service log, then `ledgersync enable NAME` restarts it"}};
  } else if (!in.facts.last_error.ok()) {
    j["last_error"] = error_json(in.facts.last_error);
  } else {
    j["last_error"] = nullptr;
  }
  return j;
}

}  // namespace ledgersync
