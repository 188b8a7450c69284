#include "notify/status_events.hpp"

#include <set>

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

void status_events::compare(const json& d, std::vector<status_event>& out) {
  auto name = d.value("name", "");
  auto last_run = d.value("last_run_id", uint64_t{0});
  bool running = d.value("running", false);
  seen now;
  now.status = d.value("status", "");
  now.set_aside = d.value("set_aside", int64_t{0});
  auto p = d.find("pushes");
  now.push_failed = p != d.end() && p->is_object() ? p->value("failed", uint64_t{0}) : 0;
  if (!primed_) {
    now.announced_run = running && last_run > 0 ? last_run - 1 : last_run;
    last_[name] = std::move(now);
    return;
  }
  // One added since the first reading began as every new integration does: pending, no run
  // (its first reading may already show its first run over: that run is announced).
  auto it = last_.find(name);
  const seen before = it == last_.end() ? seen{} : it->second;
  now.announced_run = before.announced_run;
  if (before.status != now.status) {
    auto data = brief(d);
    data["previous_status"] = before.status;
    out.push_back({"status_changed", data});
    if (now.status == "disconnected") out.push_back({"disconnected", brief(d)});
  }
  if (!running && last_run > now.announced_run) {
    now.announced_run = last_run;
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
  if (now.set_aside > before.set_aside) {
    auto data = brief(d);
    data["newly_set_aside"] = now.set_aside - before.set_aside;
    out.push_back({"set_aside", data});
  }
  // Pushed records the vendor refused since the last reading (a new failed or conflicting
  // item; a corrected push of one lowers the count, and announces nothing).
  if (now.push_failed > before.push_failed) {
    auto data = brief(d);
    data["push_failed"] = now.push_failed;
    data["newly_failed"] = now.push_failed - before.push_failed;
    out.push_back({"push_failed", data});
  }
  last_[name] = std::move(now);
}

std::vector<status_event> status_events::next(const json& docs) {
  std::vector<status_event> out;
  if (!docs.is_array()) return out;
  std::set<std::string> names;
  for (auto& d : docs) {
    if (!d.is_object()) continue;
    names.insert(d.value("name", ""));
    compare(d, out);
  }
  primed_ = true;
  for (auto it = last_.begin(); it != last_.end();)
    it = names.count(it->first) ? std::next(it) : last_.erase(it);
  return out;
}

std::vector<status_event> status_events::next_batch(const json& batch) {
  std::vector<status_event> out;
  if (!batch.is_object()) return out;
  static const json none = json::array();
  auto changed = batch.find("changed");
  const json& docs = changed != batch.end() && changed->is_array() ? *changed : none;
  if (batch.value("snapshot", false)) return next(docs);
  for (auto& d : docs)
    if (d.is_object()) compare(d, out);
  primed_ = true;
  auto removed = batch.find("removed");
  if (removed != batch.end() && removed->is_array())
    for (auto& name : *removed)
      if (name.is_string()) last_.erase(name.get<std::string>());
  return out;
}

}  // namespace ledgersync::notify
