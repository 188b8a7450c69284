#include "core/status_model.hpp"

#include <algorithm>

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
                {"transport", last_error.transport},
                {"hint", last_error.specific_hint},
                {"fix_settings", last_error.fix_settings}}},
              {"crash", crash},
              {"active_run_id", active_run_id},
              {"set_aside", set_aside},
              {"push_failed", push_failed},
              {"push_open", push_open},
              {"awaiting_key", awaiting_key},
              {"consecutive_failures", consecutive_failures},
              {"rate_limited_until_ms", rate_limited_until_ms}};
}

void status_facts::count_pushes(const std::map<std::string, uint64_t>& outbox_counts) {
  auto n = [&](const char* status) {
    auto it = outbox_counts.find(status);
    return it == outbox_counts.end() ? uint64_t{0} : it->second;
  };
  push_failed = n("failed") + n("conflict");
  push_open = n("pending") + n("sending");
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
  f.active_run_id = j.value("active_run_id", uint64_t{0});
  f.set_aside = j.value("set_aside", uint64_t{0});
  f.push_failed = j.value("push_failed", uint64_t{0});
  f.push_open = j.value("push_open", uint64_t{0});
  f.awaiting_key = j.value("awaiting_key", false);
  f.consecutive_failures = j.value("consecutive_failures", uint32_t{0});
  f.rate_limited_until_ms = j.value("rate_limited_until_ms", int64_t{0});
  if (j.contains("last_error") && j["last_error"].is_object()) {
    auto& e = j["last_error"];
    f.last_error.category = category_from_name(e.value("category", "none"));
    f.last_error.message = e.value("message", "");
    f.last_error.transport = e.value("transport", false);
    f.last_error.specific_hint = e.value("hint", "");
    if (e.contains("fix_settings") && e["fix_settings"].is_array())
      for (auto& k : e["fix_settings"])
        if (k.is_string()) f.last_error.fix_settings.push_back(k.get<std::string>());
  }
  return f;
}

error_info set_aside_error(uint64_t count, const std::string& name) {
  return make_error_info(error_category::validation,
                         std::to_string(count) + (count == 1 ? " record" : " records") +
                             " set aside (validation); the set-aside list of " + name +
                             " names the fields they lack");
}

error_info push_failed_error(uint64_t count, const std::string& name) {
  auto e =
      make_error_info(error_category::validation,
                      std::to_string(count) + (count == 1 ? " pushed record" : " pushed records") +
                          " refused by the vendor (failed or conflict); `ledgersync pushes " +
                          name + " --status failed` names the fields to correct");
  e.specific_hint =
      "correct each item and push it again with the same external_id (or `ledgersync push " + name +
      " --retry ID` once the vendor's side is fixed)";
  return e;
}

json error_json(const error_info& e) {
  json out{{"category", category_name(e.category)}, {"message", e.message}, {"hint", e.hint()}};
  // The fix as an operation, phrased by each surface: the CLI as `configure NAME --flags`.
  auto fix = e.settings_to_fix();
  // A refresh token is not typed in but obtained by signing in again.
  if (std::find(fix.begin(), fix.end(), "refresh_token") != fix.end())
    out["action"] = {{"op", "connect"}};
  else if (e.fixed_by_settings())
    out["action"] = {{"op", "configure"}, {"settings", fix}};
  return out;
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

int64_t scheduled_backoff_ms(uint32_t failures) {
  if (failures == 0) return 0;
  constexpr int64_t minute = 60 * 1000, day = 24 * 60 * minute;
  return std::min<int64_t>(day, minute << std::min<uint32_t>(failures - 1, 20));
}

std::string scheduled_pause(const status_facts& f, int64_t now_ms) {
  if (f.awaiting_key) {
    auto fix = f.last_error.settings_to_fix();
    if (std::find(fix.begin(), fix.end(), "refresh_token") != fix.end())
      return "waiting for a sign-in: scheduled syncs are paused until the integration is "
             "connected again, or a sync is started by hand";
    return "waiting for a new API key: scheduled syncs are paused until the key is "
           "reconfigured, a connection test succeeds, or a sync is started by hand";
  }
  if (now_ms < f.rate_limited_until_ms)
    return "the upstream's rate limit is used up: no scheduled attempt before " +
           format_iso(from_ms(f.rate_limited_until_ms));
  auto until = f.last_attempt_ms + scheduled_backoff_ms(f.consecutive_failures);
  if (f.consecutive_failures > 0 && now_ms < until)
    return "backing off after " + std::to_string(f.consecutive_failures) +
           " failed run(s): no scheduled attempt before " + format_iso(from_ms(until));
  return "";
}

std::string status_word(const status_inputs& in) {
  if (!in.enabled) return "disabled";
  if (!in.facts.crash.empty()) return "error";
  auto& e = in.facts.last_error;
  if (in.facts.last_outcome == "failed" && category_disconnects(e.category)) return "disconnected";
  if (in.facts.last_outcome == "failed" && !e.ok()) return "error";
  // Set-aside records keep it in Error until each is imported or dismissed, whatever later
  // runs did: a run that merely did not see them again proves nothing.
  if (in.facts.set_aside > 0) return "error";
  // Pushes the vendor refused count the same way: each waits for a corrected push.
  if (in.facts.push_failed > 0) return "error";
  // A failure whose error is gone was answered by new settings or a new sign-in (which clear
  // it): the next run gives the verdict; "error" with no error to show would say nothing.
  if (in.facts.last_outcome == "failed") return "pending";
  if (in.facts.last_outcome.empty() || in.facts.last_success_ms == 0) return "pending";
  return "active";
}

std::string health_word(const status_inputs& in) {
  auto word = status_word(in);
  if (word == "disabled") return "off";
  if (word == "disconnected" || !in.facts.crash.empty()) return "failure";
  // Pending after earlier successes (signed in again): what it synced then is still there.
  if (word == "pending")
    return is_stale(in) ? "warning" : in.facts.last_success_ms ? "healthy" : "unknown";
  if (word == "active" && !is_stale(in)) return "healthy";
  return "warning";
}

bool is_stale(const status_inputs& in) {
  if (!in.enabled || in.stale_after_ms <= 0) return false;
  int64_t base = in.facts.last_success_ms ? in.facts.last_success_ms : in.facts.created_at_ms;
  return base > 0 && in.now_ms - base > in.stale_after_ms;
}

namespace {

json when_json(int64_t ms) {
  if (ms <= 0) return nullptr;
  return format_iso(from_ms(ms));
}

json progress_json(const run_progress& p) {
  json prog{
      {"run_id", p.run_id},       {"kind", p.kind},         {"stream", p.stream},
      {"fetched", p.fetched},     {"inserted", p.inserted}, {"updated", p.updated},
      {"unchanged", p.unchanged}, {"invalid", p.invalid},   {"started", when_json(p.started_ms)}};
  // A run's total and percentage are shown only once every stream's total is known: a
  // total of the streams seen so far would make the bar jump back when the next one starts.
  prog["total"] = p.percent >= 0 && p.total ? json(p.total) : json(nullptr);
  prog["percent"] = p.percent >= 0 ? json(p.percent) : json(nullptr);
  prog["streams"] = p.streams;
  if (p.resumes) prog["resumes"] = p.resumes;
  if (!p.waiting.empty()) prog["waiting"] = p.waiting;
  return prog;
}

json last_error_json(const status_inputs& in) {
  if (!in.facts.crash.empty())
    return {{"category", "crash"},
            {"message", in.facts.crash},
            {"hint",
             "the integration stopped after repeated crashes — check the "
             "service log; enabling it restarts it"},
            {"action", {{"op", "enable"}, {"name", in.name}}}};
  if (!in.facts.last_error.ok()) return error_json(in.facts.last_error);
  if (in.facts.set_aside > 0) {
    auto e = error_json(set_aside_error(in.facts.set_aside, in.name));
    e["action"] = {{"op", "set_aside"}, {"name", in.name}};
    return e;
  }
  if (in.facts.push_failed > 0) {
    auto e = error_json(push_failed_error(in.facts.push_failed, in.name));
    e["action"] = {{"op", "pushes"}, {"name", in.name}};
    return e;
  }
  return nullptr;
}

std::string paused_text(const status_inputs& in) {
  return in.enabled && in.scheduled ? scheduled_pause(in.facts, in.now_ms) : "";
}

}  // namespace

json status_json(const status_inputs& in) {
  auto pause = paused_text(in);
  return json{{"name", in.name},
              {"connector", in.connector},
              {"status", status_word(in)},
              {"health", health_word(in)},
              {"stale", is_stale(in)},
              {"enabled", in.enabled},
              {"schedule", in.schedule},
              {"last_sync", when_json(in.facts.last_success_ms)},
              {"last_attempt", when_json(in.facts.last_attempt_ms)},
              {"next_run", in.enabled ? when_json(in.next_run_ms) : json(nullptr)},
              {"running", in.progress.running},
              {"last_run_id", in.facts.last_run_id},
              {"last_outcome", in.facts.last_outcome},
              {"now", when_json(in.now_ms)},
              {"progress", in.progress.running ? progress_json(in.progress) : json(nullptr)},
              {"last_error", last_error_json(in)},
              {"set_aside", in.facts.set_aside},
              {"pushes", {{"failed", in.facts.push_failed}, {"open", in.facts.push_open}}},
              {"paused", pause.empty() ? json(nullptr) : json(pause)}};
}

std::string status_text(const status_inputs& in) {
  std::string out;
  out.reserve(480);
  // Keys in the order a json object (a std::map) prints them, so the text is status_json's.
  auto key = [&out](const char* k) {
    out += out.size() > 1 ? ",\"" : "\"";
    out += k;
    out += "\":";
  };
  auto str = [&out](const std::string& v) { out += json(v).dump(); };
  auto when = [&out](int64_t ms) {
    if (ms <= 0) {
      out += "null";
      return;
    }
    out += '"';
    out += format_iso(from_ms(ms));
    out += '"';
  };
  auto flag = [&out](bool b) { out += b ? "true" : "false"; };
  auto pause = paused_text(in);
  out += '{';
  key("connector"), str(in.connector);
  key("enabled"), flag(in.enabled);
  key("health"), str(health_word(in));
  key("last_attempt"), when(in.facts.last_attempt_ms);
  key("last_error"), out += last_error_json(in).dump();
  key("last_outcome"), str(in.facts.last_outcome);
  key("last_run_id"), out += std::to_string(in.facts.last_run_id);
  key("last_sync"), when(in.facts.last_success_ms);
  key("name"), str(in.name);
  key("next_run"), when(in.enabled ? in.next_run_ms : 0);
  key("now"), when(in.now_ms);
  key("paused"), pause.empty() ? void(out += "null") : str(pause);
  key("progress"), out += in.progress.running ? progress_json(in.progress).dump() : "null";
  key("pushes"), out += "{\"failed\":" + std::to_string(in.facts.push_failed) +
                        ",\"open\":" + std::to_string(in.facts.push_open) + "}";
  key("running"), flag(in.progress.running);
  key("schedule"), str(in.schedule);
  key("set_aside"), out += std::to_string(in.facts.set_aside);
  key("stale"), flag(is_stale(in));
  key("status"), str(status_word(in));
  out += '}';
  return out;
}

}  // namespace ledgersync
