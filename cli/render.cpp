#include "cli/render.hpp"

#include <cstdio>
#include <iostream>

#include "core/time_util.hpp"

namespace ledgersync::cli {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* k, const std::string& def = "-") {
  if (!j.is_object() || !j.contains(k) || j[k].is_null()) return def;
  if (j[k].is_string()) return j[k].get<std::string>();
  return j[k].dump();
}

std::string ago(const json& j, const char* k, const json& status) {
  auto t = str(j, k, "");
  auto now = parse_iso(str(status, "now", ""));
  auto when = parse_iso(t);
  if (!when) return "never";
  if (!now) return t;
  return human_age(*when, *now);
}

std::string status_label(const json& s) {
  auto w = str(s, "status");
  std::string label = w == "active"         ? "Active"
                      : w == "error"        ? "Error"
                      : w == "disconnected" ? "Disconnected"
                      : w == "disabled"     ? "Disabled"
                                            : w;
  if (s.value("stale", false)) label += " (stale)";
  return label;
}

}  // namespace

void print_status_table(const json& statuses) {
  if (!statuses.is_array() || statuses.empty()) {
    std::cout << "No integrations yet. Add one with `ledgersync add NAME --connector rest "
                 "--base-url URL --api-key-env VAR`.\n";
    return;
  }
  std::printf("%-20s %-20s %-8s %-12s %-12s %-18s %s\n", "NAME", "STATUS", "HEALTH", "LAST SYNC",
              "NEXT RUN", "SCHEDULE", "NOW");
  for (auto& s : statuses) {
    std::string now = "-";
    if (s.value("running", false) && s["progress"].is_object()) {
      auto& p = s["progress"];
      now = "syncing " + str(p, "stream", "") + " " + std::to_string(p.value("fetched", 0));
      if (!p["total"].is_null()) now.append(1, '/').append(p["total"].dump());
    } else if (s["last_error"].is_object()) {
      now = str(s["last_error"], "category") + ": " + str(s["last_error"], "message");
      if (now.size() > 60) now = now.substr(0, 57) + "...";
    }
    std::printf("%-20s %-20s %-8s %-12s %-12s %-18s %s\n", str(s, "name").c_str(),
                status_label(s).c_str(), str(s, "health").c_str(), ago(s, "last_sync", s).c_str(),
                s["next_run"].is_null() ? "-" : ago(s, "next_run", s).c_str(),
                str(s, "schedule").c_str(), now.c_str());
  }
}

void print_status_detail(const json& s) {
  std::cout << s.value("name", "") << ": " << status_label(s) << " (" << str(s, "health") << ")\n"
            << "  last successful sync: " << ago(s, "last_sync", s) << " (" << str(s, "last_sync")
            << ")\n"
            << "  last attempt:         " << ago(s, "last_attempt", s) << "\n"
            << "  schedule:             " << str(s, "schedule") << ", next run "
            << (s["next_run"].is_null() ? "-" : ago(s, "next_run", s)) << "\n";
  if (s.value("running", false) && s["progress"].is_object()) {
    auto& p = s["progress"];
    std::cout << "  running:              run " << str(p, "run_id") << " (" << str(p, "kind")
              << "), " << str(p, "stream", "") << ": " << p.value("fetched", 0) << " fetched"
              << (p["total"].is_null() ? "" : " of " + p["total"].dump()) << "\n";
    if (p.contains("waiting")) std::cout << "                        " << str(p, "waiting") << "\n";
  }
  if (s["last_error"].is_object()) {
    auto& e = s["last_error"];
    std::cout << "  last error:           [" << str(e, "category") << "] " << str(e, "message")
              << "\n"
              << "  what to do:           " << str(e, "hint") << "\n";
  }
}

void print_show(const json& show, const json& status) {
  print_status_detail(status);
  auto& c = show["config"];
  std::cout << "  connector:            " << str(c, "connector") << "\n"
            << "  base URL:             " << str(c, "base_url") << "\n"
            << "  API key:              " << str(c, "api_key_hint") << "\n"
            << "  manual syncs:         " << str(c, "manual_burst") << " at once, one more every "
            << str(c, "manual_refill_s") << "s\n"
            << "  streams:\n";
  for (auto& s : c["streams"]) {
    auto name = str(s, "name");
    auto count = show["records"].contains(name) ? show["records"][name].dump() : "0";
    std::string mark = "-";
    if (show["cursors"].contains(name)) mark = str(show["cursors"][name], "watermark", "-");
    std::cout << "    " << name << " (" << str(s, "entity") << ", " << str(s, "path")
              << "): " << count << " records, synced up to " << (mark.empty() ? "-" : mark) << "\n";
  }
  if (!show["recent_runs"].empty()) {
    std::cout << "  recent runs:\n";
    for (auto& r : show["recent_runs"])
      std::cout << "    run " << str(r, "run_id") << " " << str(r, "kind") << " "
                << str(r, "status") << " started " << str(r, "started") << ": "
                << r.value("inserted", 0) << " new, " << r.value("updated", 0) << " updated, "
                << r.value("invalid", 0) << " set aside\n";
  }
}

void print_retention(const json& show) {
  auto& r = show["retention"];
  if (!r.is_object()) return;
  std::cout << "  history kept:         " << str(r, "events") << " log events";
  if (!r["oldest_event"].is_null()) std::cout << " (oldest " << str(r, "oldest_event") << ")";
  std::cout << ", " << str(r, "runs") << " runs; pruned after " << str(r, "keep_days")
            << " days or beyond the newest " << str(r, "keep_events") << " events and "
            << str(r, "keep_runs") << " runs\n";
}

void print_log_line(const json& e) {
  std::cout << str(e, "at") << "  " << str(e, "level") << "  " << str(e, "event") << "  "
            << str(e, "message", "");
  if (e.contains("category")) std::cout << "  [" << str(e, "category") << "]";
  std::cout << "\n";
  if (e.contains("hint") && !str(e, "hint", "").empty())
    std::cout << "    → " << str(e, "hint") << "\n";
}

void print_progress(const json& s, bool tty) {
  if (!s["progress"].is_object()) return;
  auto& p = s["progress"];
  uint64_t fetched = p.value("fetched", uint64_t{0});
  std::string tail = str(p, "stream", "") + " " + std::to_string(fetched);
  if (!p["total"].is_null()) tail.append(1, '/').append(p["total"].dump());
  tail += " fetched, " + std::to_string(p.value("inserted", 0)) + " new, " +
          std::to_string(p.value("updated", 0)) + " updated";
  if (p.contains("waiting")) tail += " — " + str(p, "waiting");
  if (tty) {
    int pct = p["percent"].is_null() ? -1 : p["percent"].get<int>();
    std::string bar(30, ' ');
    if (pct >= 0)
      for (int i = 0; i < pct * 30 / 100; ++i) bar[static_cast<size_t>(i)] = '#';
    std::printf("\r\033[K[%s] %s %s", bar.c_str(),
                pct >= 0 ? (std::to_string(pct) + "%").c_str() : "", tail.c_str());
    std::fflush(stdout);
  } else {
    std::cout << "progress: " << tail << std::endl;
  }
}

void print_run_summary(const json& r) {
  std::cout << "run " << str(r, "run_id") << " " << str(r, "status") << ": "
            << r.value("fetched", 0) << " fetched, " << r.value("inserted", 0) << " new, "
            << r.value("updated", 0) << " updated, " << r.value("unchanged", 0) << " unchanged, "
            << r.value("deleted", 0) << " deleted, " << r.value("invalid", 0) << " set aside\n";
  if (r.contains("error") && r["error"].is_object())
    std::cout << "  error: [" << str(r["error"], "category") << "] " << str(r["error"], "message")
              << "\n  what to do: " << str(r["error"], "hint") << "\n";
}

}  // namespace ledgersync::cli
