#include "cli/render.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/config_flags.hpp"
#include "connectors/tls.hpp"

namespace ledgersync::cli {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* k, const std::string& def = "-") {
  if (!j.is_object() || !j.contains(k) || j[k].is_null()) return def;
  if (j[k].is_string()) return j[k].get<std::string>();
  return j[k].dump();
}

// Characters, not bytes: UTF-8 continuation bytes take no column.
size_t width(const std::string& s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string shorten(const std::string& s, size_t max) {
  if (width(s) <= max) return s;
  size_t cols = 0, i = 0;
  for (; i < s.size(); ++i)
    if ((s[i] & 0xC0) != 0x80 && ++cols > max - 3) break;
  return s.substr(0, i) + "...";
}

// "pending" -> "Pending", "set_aside" -> "Set aside": words from a newer service still read.
std::string capitalised(std::string w) {
  std::replace(w.begin(), w.end(), '_', ' ');
  if (!w.empty()) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
  return w;
}

// "3m ago, 14:02 today"; `none` when the field is empty or not a time.
std::string when(const json& j, const char* k, const render_env& env, const char* none) {
  auto t = parse_iso(str(j, k, ""));
  return t ? human_when(*t, env.now, env.zone) : none;
}

// A next run the service has not started yet is due, not "0s ago".
std::string next_run(const json& s, const render_env& env, const char* none) {
  auto t = parse_iso(str(s, "next_run", ""));
  if (!t) return none;
  if (*t <= env.now) return "due now, " + local_time_text(*t, env.now, env.zone);
  return human_when(*t, env.now, env.zone);
}

std::string local_stamp(sys_ms t, const date::time_zone* zone) {
  return date::format("%F %T", zone->to_local(std::chrono::floor<std::chrono::seconds>(t)));
}

// The current stream's own count and total ("invoices 300/20000"): a run's fetched count set
// against one stream's total was how "30500 fetched of 20000" came about.
std::string progress_text(const json& p) {
  auto current = str(p, "stream", "");
  if (p.contains("streams") && p["streams"].is_array())
    for (auto& st : p["streams"])
      if (st.value("name", "") == current) {
        auto text = current + " " + std::to_string(st.value("fetched", uint64_t{0}));
        if (!st["total"].is_null()) text.append(1, '/').append(st["total"].dump());
        return text;
      }
  auto text = current + " " + std::to_string(p.value("fetched", uint64_t{0}));
  if (p.contains("total") && !p["total"].is_null()) text.append(1, '/').append(p["total"].dump());
  return text;
}

// Every stream of the run: "customers 120/120 done · invoices 40/120 33% · payments -".
std::string streams_text(const json& p) {
  if (!p.contains("streams") || !p["streams"].is_array()) return progress_text(p);
  std::string text;
  for (auto& st : p["streams"]) {
    if (!text.empty()) text += " · ";
    text += st.value("name", "") + " ";
    auto fetched = st.value("fetched", uint64_t{0});
    bool started = fetched > 0 || st.value("done", false);
    text += started ? std::to_string(fetched) : "-";
    if (started && !st["total"].is_null()) text.append(1, '/').append(st["total"].dump());
    if (st.value("done", false))
      text += " done";
    else if (!st["percent"].is_null())
      text += " " + st["percent"].dump() + "%";
  }
  return text;
}

// The page's words for health (web/format.js HEALTH): "unknown" is an integration that has not
// synced yet, which is how a user should read it.
std::string health_label(const json& s) {
  auto health = str(s, "health");
  return health == "unknown" ? "Not yet synced" : capitalised(health);
}

// The NEXT RUN column of a paused schedule: what it waits for, in two words.
std::string paused_label(const std::string& paused) {
  if (paused.rfind("waiting for a sign-in", 0) == 0) return "paused: sign-in";
  return paused.rfind("waiting", 0) == 0 ? "paused: new key" : "backing off";
}

}  // namespace

render_env render_env::local() {
  return {std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()),
          user_time_zone()};
}

std::string status_label(const json& s) {
  auto label = capitalised(str(s, "status", "unknown"));
  if (s.value("stale", false)) label += " · stale";
  return label;
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], width(row[i]));
    }
  std::string out;
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - width(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

void write_status_table(std::ostream& out, const json& statuses, const render_env& env) {
  if (!statuses.is_array() || statuses.empty()) {
    out << "No integrations yet. Add one with `ledgersync add NAME --connector rest "
           "--base-url URL --api-key-env VAR`.\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "STATUS", "HEALTH", "LAST SYNC", "NEXT RUN", "SCHEDULE", "LAST ERROR"}};
  for (auto& s : statuses) {
    auto status = status_label(s);
    if (s.value("running", false) && s["progress"].is_object())
      status += " · syncing " + progress_text(s["progress"]);
    std::string error = "-";
    if (s.contains("last_error") && s["last_error"].is_object()) {
      auto& e = s["last_error"];
      error = shorten(
          std::string(1, '[').append(str(e, "category")).append("] ") + str(e, "message"), 60);
    }
    rows.push_back({str(s, "name"), status, health_label(s), when(s, "last_sync", env, "never"),
                    // A paused schedule's next slot would not run: say so rather than when.
                    s.contains("paused") && s["paused"].is_string() ? paused_label(str(s, "paused"))
                                                                    : next_run(s, env, "-"),
                    str(s, "schedule"), error});
  }
  out << format_table(rows);
}

std::string command_for(const json& action, const std::string& name) {
  if (!action.is_object() || !action.contains("op") || !action["op"].is_string()) return "";
  auto op = action["op"].get<std::string>();
  std::replace(op.begin(), op.end(), '_', '-');  // operation set_aside is command set-aside
  auto cmd = "ledgersync " + op;
  auto target = action.contains("name") && action["name"].is_string()
                    ? action["name"].get<std::string>()
                    : std::string();
  if (target.empty()) target = name.empty() && action.contains("settings") ? "NAME" : name;
  if (!target.empty()) cmd += " " + target;
  if (action.contains("settings") && action["settings"].is_array())
    for (auto& s : action["settings"])
      if (s.is_string())
        if (auto flag = flag_for(s.get<std::string>()); !flag.empty()) cmd += " " + flag;
  return cmd;
}

std::string hint_text(const json& holder, const std::string& name) {
  if (!holder.is_object()) return "";
  auto hint = holder.contains("hint") && holder["hint"].is_string()
                  ? holder["hint"].get<std::string>()
                  : std::string();
  auto cmd = command_for(holder.value("action", json()), name);
  if (cmd.empty()) return hint;
  if (hint.empty()) return "run `" + cmd + "`";
  if (hint.back() == '.') return hint + " Run `" + cmd + "`.";
  return hint + "; run `" + cmd + "`";
}

void write_status_detail(std::ostream& out, const json& s, const render_env& env) {
  out << str(s, "name", "") << ": " << status_label(s) << "\n"
      << "  health:               " << health_label(s) << "\n"
      << "  last successful sync: " << when(s, "last_sync", env, "never") << "\n"
      << "  last attempt:         " << when(s, "last_attempt", env, "never") << "\n"
      << "  schedule:             " << str(s, "schedule");
  if (auto next = next_run(s, env, ""); !next.empty()) out << ", next run " << next;
  out << "\n";
  if (s.value("running", false) && s["progress"].is_object()) {
    auto& p = s["progress"];
    out << "  running:              run " << str(p, "run_id") << " (" << str(p, "kind") << "), "
        << p.value("fetched", 0) << " fetched"
        << (p["total"].is_null() ? "" : " of " + p["total"].dump())
        << (p["percent"].is_null() ? "" : " (" + p["percent"].dump() + "%)") << "\n"
        << "                        " << streams_text(p) << "\n";
    if (p.contains("waiting")) out << "                        " << str(p, "waiting") << "\n";
  }
  if (s.contains("paused") && s["paused"].is_string())
    out << "  scheduled syncs:      " << str(s, "paused") << "\n";
  if (s.contains("last_error") && s["last_error"].is_object()) {
    auto& e = s["last_error"];
    out << "  last error:           [" << str(e, "category") << "] " << str(e, "message") << "\n"
        << "  what to do:           " << hint_text(e, str(s, "name", "")) << "\n";
  }
}

void write_tls_settings(std::ostream& out, const json& c, const render_env& env) {
  auto cert_line = [](const std::string& pem) {
    std::string err;
    auto f = read_certificate(pem, err);
    return f ? f->subject + ", expires " + f->not_after : "unreadable: " + err;
  };
  if (c.contains("tls_ca_pem"))
    out << "  TLS CA:               " << cert_line(str(c, "tls_ca_pem")) << "\n";
  if (c.contains("tls_server_name"))
    out << "  TLS server name:      " << str(c, "tls_server_name") << "\n";
  if (!c.contains("tls_client_cert_pem")) return;
  auto pem = str(c, "tls_client_cert_pem");
  out << "  TLS client cert:      " << cert_line(pem) << "\n"
      << "  TLS client key:       " << str(c, "tls_client_key_hint", "(none)") << "\n";
  std::string err;
  auto f = read_certificate(pem, err);
  if (!f) return;
  auto left_ms = f->not_after_ms - to_ms(env.now);
  if (left_ms < 0)
    out << "  warning: the TLS client certificate expired on " << f->not_after
        << " — configure a renewed one (--tls-client-cert F --tls-client-key F)\n";
  else if (left_ms < int64_t{30} * 86400 * 1000)
    out << "  warning: the TLS client certificate expires on " << f->not_after << " (in "
        << left_ms / (86400 * 1000) << " days) — renew it and configure the new one "
        << "(--tls-client-cert F --tls-client-key F)\n";
}

void write_show(std::ostream& out, const json& show, const json& status, const render_env& env) {
  write_status_detail(out, status, env);
  auto& c = show["config"];
  out << "  connector:            " << str(c, "connector") << "\n"
      << "  base URL:             " << str(c, "base_url") << "\n"
      << "  API key:              " << str(c, "api_key_hint") << "\n";
  for (auto* key : {"settings", "settings_hints"})
    if (c.contains(key) && c[key].is_object())
      for (auto& [k, v] : c[key].items())
        out << "  settings." << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump())
            << "\n";
  write_tls_settings(out, c, env);
  out << "  manual syncs:         " << str(c, "manual_burst") << " at once, one more every "
      << str(c, "manual_refill_s") << "s\n"
      << "  streams:\n";
  for (auto& s : c["streams"]) {
    auto name = str(s, "name");
    auto count = show["records"].contains(name) ? show["records"][name].dump() : "0";
    std::string mark = "-";
    if (show["cursors"].contains(name)) mark = str(show["cursors"][name], "watermark", "-");
    if (auto t = parse_iso(mark)) mark = local_time_text(*t, env.now, env.zone);
    out << "    " << name << " (" << str(s, "entity") << ", " << str(s, "path") << "): " << count
        << " records, synced up to " << (mark.empty() ? "-" : mark) << "\n";
  }
  if (show.contains("set_aside") && !show["set_aside"].empty()) {
    std::cout << "  set aside (" << show["set_aside"].size() << "):\n";
    for (auto& e : show["set_aside"]) {
      std::string missing;
      for (auto& m : e.value("missing", json::array()))
        missing += (missing.empty() ? "" : ", ") + m.get<std::string>();
      std::cout << "    " << str(e, "stream") << " " << str(e, "id") << ": missing " << missing
                << " (since " << str(e, "first_seen") << ")\n";
    }
  }
  if (!show["recent_runs"].empty()) {
    out << "  recent runs:\n";
    for (auto& r : show["recent_runs"])
      out << "    run " << str(r, "run_id") << " " << str(r, "kind") << " " << str(r, "status")
          << " started " << when(r, "started", env, "-") << ": " << r.value("inserted", 0)
          << " new, " << r.value("updated", 0) << " updated, " << r.value("invalid", 0)
          << " set aside\n";
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

void write_log_line(std::ostream& out, const json& e, const render_env& env,
                    const std::string& name) {
  auto at = str(e, "at");
  if (auto t = parse_iso(at)) at = local_stamp(*t, env.zone);
  out << at << "  " << str(e, "level") << "  " << str(e, "event") << "  " << str(e, "message", "");
  if (e.contains("category")) out << "  [" << str(e, "category") << "]";
  out << "\n";
  if (auto hint = hint_text(e, name); !hint.empty()) out << "    → " << hint << "\n";
}

void write_run_summary(std::ostream& out, const json& r, const std::string& name) {
  out << "run " << str(r, "run_id") << " " << str(r, "status") << ": " << r.value("fetched", 0)
      << " fetched, " << r.value("inserted", 0) << " new, " << r.value("updated", 0) << " updated, "
      << r.value("unchanged", 0) << " unchanged, " << r.value("deleted", 0) << " deleted, "
      << r.value("invalid", 0) << " set aside\n";
  if (r.contains("error") && r["error"].is_object())
    out << "  error: [" << str(r["error"], "category") << "] " << str(r["error"], "message")
        << "\n  what to do: " << hint_text(r["error"], name) << "\n";
}

bool confirm(std::istream& in, std::ostream& out, const std::string& question) {
  out << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(in, answer)) return false;
  answer.erase(0, answer.find_first_not_of(" \t"));
  answer.erase(answer.find_last_not_of(" \t\r") + 1);
  std::transform(answer.begin(), answer.end(), answer.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return answer == "y" || answer == "yes";
}

void print_status_table(const json& statuses) {
  write_status_table(std::cout, statuses, render_env::local());
}
void print_status_detail(const json& status) {
  write_status_detail(std::cout, status, render_env::local());
}
void print_show(const json& show, const json& status) {
  write_show(std::cout, show, status, render_env::local());
}
void print_log_line(const json& event, const std::string& name) {
  static const auto env = render_env::local();  // only the zone is read; look it up once
  write_log_line(std::cout, event, env, name);
}
void print_run_summary(const json& run, const std::string& name) {
  write_run_summary(std::cout, run, name);
}

void print_progress(const json& s, bool tty) {
  if (!s["progress"].is_object()) return;
  auto& p = s["progress"];
  std::string tail = streams_text(p) + "; " + std::to_string(p.value("inserted", 0)) + " new, " +
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

void print_set_aside(const json& b) {
  auto& list = b["set_aside"];
  if (!list.is_array() || list.empty()) {
    std::cout << "No records set aside for " << str(b, "integration", "") << ".\n";
    return;
  }
  std::cout << list.size() << (list.size() == 1 ? " record" : " records") << " set aside for "
            << str(b, "integration", "") << ":\n";
  for (auto& e : list) {
    std::string missing;
    for (auto& m : e.value("missing", json::array()))
      missing += (missing.empty() ? "" : ", ") + m.get<std::string>();
    std::cout << "  " << str(e, "stream") << "  " << str(e, "id") << "  missing " << missing
              << "  (first seen " << str(e, "first_seen") << ", last seen " << str(e, "last_seen")
              << ")";
    if (e.value("dismissed", false))
      std::cout << "  dismissed by " << str(e, "dismissed_by") << " at " << str(e, "dismissed_at");
    std::cout << "\n";
  }
  std::cout << "Correct them in the source system: the next sync imports them. An unfixable one: "
               "ledgersync set-aside "
            << str(b, "integration", "") << " --dismiss ID\n";
}

namespace {
// Not "  " + s: GCC 12 warns (-Wrestrict, a false positive) on that inlined insert.
std::string indent(std::string s) {
  s.insert(s.begin(), 2, ' ');
  return s;
}
}  // namespace

void write_connectors(std::ostream& out, const json& kinds) {
  std::vector<std::vector<std::string>> rows{{"KIND", "NAME", "STREAMS"}};
  for (auto& k : kinds) {
    std::string streams;
    for (auto& s : k.value("streams", json::array()))
      if (s.is_string()) streams += (streams.empty() ? "" : ", ") + s.get<std::string>();
    rows.push_back({str(k, "name"), str(k, "label"), streams.empty() ? "-" : streams});
  }
  out << format_table(rows)
      << "`ledgersync connectors KIND` shows a kind's settings; give them to add/configure with "
         "--option KEY=VALUE or --settings-file FILE.\n";
}

void write_connector(std::ostream& out, const json& k) {
  out << str(k, "name") << " — " << str(k, "label") << "\n" << str(k, "description", "") << "\n";
  if (k.contains("default_rate"))
    out << "\nRequests: " << str(k, "default_rate")
        << " by default (an integration's own --upstream-rate / --upstream-burst win)\n";
  if (k.contains("shared_rate"))
    out << "Shared: " << str(k, "shared_rate")
        << " for all integrations of the same app together\n";
  auto& settings = k["settings"];
  if (!settings.is_array() || settings.empty()) {
    out << "\nSettings: none of its own (the general ones: --base-url, --api-key-file, …).\n";
  } else {
    out << "\nSettings (--option KEY=VALUE):\n";
    std::vector<std::vector<std::string>> rows{{"  KEY", "TYPE", "DEFAULT", "FLAGS", "HELP"}};
    for (auto& s : settings) {
      auto type = str(s, "type");
      if (s.contains("allowed")) {
        std::string list;
        for (auto& a : s["allowed"]) {
          if (!list.empty()) list += '|';
          list += a.get<std::string>();
        }
        type += " (" + list + ")";
      }
      if (s.contains("min") || s.contains("max"))
        type += " [" + (s.contains("min") ? s["min"].dump() : "") + ".." +
                (s.contains("max") ? s["max"].dump() : "") + "]";
      std::string flags = s.value("required", false) ? "required" : "";
      if (s.value("secret", false)) flags += std::string(flags.empty() ? "" : ", ") + "secret";
      rows.push_back({indent(str(s, "key")), type,
                      s.contains("default") ? s["default"].dump() : "-",
                      flags.empty() ? "-" : flags, str(s, "help", "")});
    }
    out << format_table(rows);
    out << "Secret settings are sealed when saved and never shown; give them as --option "
           "KEY=@FILE to keep them out of the shell history.\n";
  }
  if (k.contains("oauth") && k["oauth"].is_object()) {
    auto& o = k["oauth"];
    out << "\nSigns in with OAuth 2.0"
        << (o.value("optional", false) ? " when settings.oauth is true" : "")
        << ": `ledgersync connect NAME` (a browser, PKCE)"
        << (o.value("client_credentials", false) ? " or `ledgersync connect NAME "
                                                   "--client-credentials`"
                                                 : "")
        << ".\n";
    if (!str(o, "scopes", "").empty()) out << "  scopes: " << str(o, "scopes") << "\n";
  }
  out << "\nStreams (the defaults of a new integration):\n";
  std::vector<std::vector<std::string>> rows;
  for (auto& s : k.value("streams", json::array()))
    rows.push_back({indent(str(s, "name")), str(s, "entity"), str(s, "description", "")});
  if (rows.empty())
    out << "  (none: give them with --streams-file)\n";
  else
    out << format_table(rows);
}

void print_connectors(const json& kinds) {
  write_connectors(std::cout, kinds);
}
void print_connector(const json& kind) {
  write_connector(std::cout, kind);
}

}  // namespace ledgersync::cli
