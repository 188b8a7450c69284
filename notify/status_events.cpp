#include "notify/status_events.hpp"

namespace ledgersync::notify {

using nlohmann::json;

namespace {

json brief(const json& d) {
  return json{{"integration", d.value("name", "")},
              {"status", d.value("status", "")},
              {"health", d.value("health", "")},
              {"last_sync", d.contains("last_sync") ? d["last_sync"] : json(nullptr)},
              {"last_error", d.contains("last_error") ? d["last_error"] : json(nullptr)},
              {"set_aside", d.value("set_aside", 0)}};
}

}  // namespace

std::vector<status_event> status_events::next(const json& docs) {
  std::vector<status_event> out;
  std::map<std::string, json> now;
  if (!docs.is_array()) return out;
  for (auto& d : docs) {
    if (!d.is_object()) continue;
    auto name = d.value("name", "");
    now[name] = d;
    auto last_run = d.value("last_run_id", uint64_t{0});
    bool running = d.value("running", false);
    auto it = last_.find(name);
    if (!primed_) {
      announced_run_[name] = running && last_run > 0 ? last_run - 1 : last_run;
      continue;
    }
    // One added since the first reading began as every new integration does: pending, no run
    // (its first reading may already show its first run over: that run is announced).
    static const json added{{"status", "pending"}, {"set_aside", 0}};
    if (it == last_.end()) announced_run_[name] = 0;
    const json& before = it == last_.end() ? added : it->second;
    auto was = before.value("status", ""), is = d.value("status", "");
    if (was != is) {
      auto data = brief(d);
      data["previous_status"] = was;
      out.push_back({"status_changed", data});
      if (is == "disconnected") out.push_back({"disconnected", brief(d)});
    }
    if (!running && last_run > announced_run_[name]) {
      announced_run_[name] = last_run;
      auto outcome = d.value("last_outcome", "");
      auto data = brief(d);
      data["run_id"] = last_run;
      data["outcome"] = outcome;
      // "error" is a run that synced everything but set records aside: a success, whose
      // set-aside records have their own event.
      if (outcome == "ok" || outcome == "error")
        out.push_back({"run_succeeded", data});
      else if (outcome == "failed")
        out.push_back({"run_failed", data});
    }
    if (d.value("set_aside", 0) > before.value("set_aside", 0)) {
      auto data = brief(d);
      data["newly_set_aside"] = d.value("set_aside", 0) - before.value("set_aside", 0);
      out.push_back({"set_aside", data});
    }
    // Pushed records the vendor refused since the last reading (a new failed or conflicting
    // item; a corrected push of one lowers the count, and announces nothing).
    auto refused = [](const json& doc) -> uint64_t {
      auto p = doc.find("pushes");
      return p != doc.end() && p->is_object() ? p->value("failed", uint64_t{0}) : 0;
    };
    if (refused(d) > refused(before)) {
      auto data = brief(d);
      data["push_failed"] = refused(d);
      data["newly_failed"] = refused(d) - refused(before);
      out.push_back({"push_failed", data});
    }
  }
  primed_ = true;
  for (auto a = announced_run_.begin(); a != announced_run_.end();)
    a = now.count(a->first) ? std::next(a) : announced_run_.erase(a);
  last_ = std::move(now);
  return out;
}

}  // namespace ledgersync::notify
