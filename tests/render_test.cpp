// What the CLI shows a person: labels, aligned tables, times in the reader's own zone, errors.
#include "cli/render.hpp"

#include <date/tz.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "cli/errors.hpp"

using namespace ledgersync;
using namespace ledgersync::cli;
using nlohmann::json;

namespace {

render_env london(const char* now) {
  return {*parse_iso(now), date::locate_zone("Europe/London")};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The column (in characters) where `needle` starts on `line`.
size_t column_of(const std::string& line, const std::string& needle) {
  auto pos = line.find(needle);
  REQUIRE(pos != std::string::npos);
  size_t cols = 0;
  for (size_t i = 0; i < pos; ++i)
    if ((line[i] & 0xC0) != 0x80) ++cols;
  return cols;
}

json status(const char* name, const char* word, const char* schedule) {
  return {{"name", name},
          {"status", word},
          {"health", "healthy"},
          {"stale", false},
          {"schedule", schedule},
          {"last_sync", "2026-11-24T08:58:00.000Z"},
          {"next_run", "2026-11-25T01:31:00.000Z"},
          {"running", false},
          {"progress", nullptr},
          {"last_error", nullptr}};
}

}  // namespace

TEST_CASE("times are shown in the reader's zone beside how long ago or ahead they are") {
  auto winter = london("2026-11-24T09:00:00Z");
  CHECK(human_when(*parse_iso("2026-11-25T01:31:00Z"), winter.now, winter.zone) ==
        "in 16h31m, 01:31 tomorrow");
  auto summer = london("2026-07-01T12:00:00Z");  // BST: an hour ahead of UTC
  CHECK(human_when(*parse_iso("2026-07-01T11:02:00Z"), summer.now, summer.zone) ==
        "58m ago, 12:02 today");
  CHECK(local_time_text(*parse_iso("2026-06-30T22:10:00Z"), summer.now, summer.zone) ==
        "23:10 yesterday");
  CHECK(local_time_text(*parse_iso("2026-07-06T05:00:00Z"), summer.now, summer.zone) ==
        "06:00 Mon 6 Jul");
  CHECK(local_time_text(*parse_iso("2025-12-30T06:00:00Z"), summer.now, summer.zone) ==
        "06:00 30 Dec 2025");
  // Just past midnight local time is "today" in London although still yesterday in UTC.
  CHECK(local_time_text(*parse_iso("2026-06-30T23:30:00Z"), summer.now, summer.zone) ==
        "00:30 today");
}

TEST_CASE("status labels read as words, staleness joined with a middle dot") {
  CHECK(status_label(json{{"status", "active"}, {"stale", false}}) == "Active");
  CHECK(status_label(json{{"status", "disconnected"}, {"stale", true}}) == "Disconnected · stale");
  // A status word from a newer service is still shown, capitalised.
  CHECK(status_label(json{{"status", "pending"}}) == "Pending");
  CHECK(status_label(json{{"status", "set_aside"}}) == "Set aside");
}

TEST_CASE("the status table stays aligned whatever a schedule's length, and names every column") {
  auto env = london("2026-11-24T09:00:00Z");
  auto a = status("acme", "active", "manual");
  auto b = status("globex-ledger", "disconnected", "cron */15 9-17 * * 1-5 America/New_York");
  b["stale"] = true;
  b["health"] = "failure";
  b["last_error"] = {{"category", "auth"}, {"message", "401 from upstream"}, {"hint", "rekey"}};
  auto c = status("initech", "error", "every 15m");
  c["running"] = true;
  c["progress"] = {{"stream", "invoices"}, {"fetched", 300}, {"total", 1000}};
  std::ostringstream out;
  write_status_table(out, json::array({a, b, c}), env);
  auto rows = lines(out.str());
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].find("LAST ERROR") != std::string::npos);
  CHECK(rows[0].find("NOW") == std::string::npos);
  for (const char* header : {"HEALTH", "LAST SYNC", "NEXT RUN", "SCHEDULE", "LAST ERROR"}) {
    INFO(header << "\n" << out.str());
    auto col = column_of(rows[0], header);
    CHECK(column_of(rows[2], header == std::string("HEALTH")      ? "Failure"
                             : header == std::string("LAST SYNC") ? "2m ago"
                             : header == std::string("NEXT RUN")  ? "in 16h31m"
                             : header == std::string("SCHEDULE")  ? "cron */15"
                                                                  : "[auth] 401") == col);
  }
  CHECK(column_of(rows[1], "manual") == column_of(rows[3], "every 15m"));
  CHECK(column_of(rows[1], "Healthy") == column_of(rows[3], "Healthy"));
  CHECK(rows[2].find("Disconnected · stale") != std::string::npos);
  CHECK(rows[2].find("2m ago, 08:58 today") != std::string::npos);
  CHECK(rows[2].find("in 16h31m, 01:31 tomorrow") != std::string::npos);
  CHECK(rows[3].find("Error · syncing invoices 300/1000") != std::string::npos);

  a["next_run"] = "2026-11-24T08:59:58.000Z";  // the scheduler has yet to start it
  std::ostringstream due;
  write_status_table(due, json::array({a}), env);
  CHECK(lines(due.str())[1].find("due now, 08:59 today") != std::string::npos);

  // A paused schedule says what it waits for instead of a time that would not run.
  for (auto [paused, shown] : {std::pair{"waiting for a new API key: ...", "paused: new key"},
                               {"waiting for a sign-in: ...", "paused: sign-in"},
                               {"backing off after 2 failed run(s): ...", "backing off"}}) {
    a["paused"] = paused;
    std::ostringstream p;
    write_status_table(p, json::array({a}), env);
    CHECK(lines(p.str())[1].find(shown) != std::string::npos);
  }
}

TEST_CASE("an integration's detail reads as sentences, with local times") {
  auto env = london("2026-11-24T09:00:00Z");
  auto s = status("acme", "disconnected", "daily 06:00 Europe/London");
  s["stale"] = true;
  s["health"] = "failure";
  s["last_attempt"] = "2026-11-24T08:57:00.000Z";
  s["last_error"] = {{"category", "auth"},
                     {"message", "the upstream refused the API key (401)"},
                     {"hint", "reconfigure with a new key"}};
  std::ostringstream out;
  write_status_detail(out, s, env);
  auto text = out.str();
  INFO(text);
  CHECK(lines(text)[0] == "acme: Disconnected · stale");
  CHECK(text.find("(stale)") == std::string::npos);
  CHECK(text.find("(failure)") == std::string::npos);
  CHECK(text.find("  health:               Failure\n") != std::string::npos);
  s["health"] = "unknown";  // signed in, its first sync still to come: the page's words
  std::ostringstream pending;
  write_status_detail(pending, s, env);
  CHECK(pending.str().find("  health:               Not yet synced\n") != std::string::npos);
  CHECK(text.find("  last attempt:         3m ago, 08:57 today\n") != std::string::npos);
  CHECK(text.find("next run in 16h31m, 01:31 tomorrow") != std::string::npos);
  CHECK(text.find("[auth] the upstream refused the API key (401)") != std::string::npos);
}

TEST_CASE("log lines are stamped in the reader's zone") {
  auto env = london("2026-07-01T12:00:00Z");
  std::ostringstream out;
  write_log_line(out,
                 {{"at", "2026-07-01T11:02:03.000Z"},
                  {"level", "error"},
                  {"event", "run_failed"},
                  {"message", "boom"}},
                 env);
  CHECK(out.str() == "2026-07-01 12:02:03  error  run_failed  boom\n");
}

TEST_CASE("a confirmation is given only by y or yes") {
  auto ask = [](const char* answer) {
    std::istringstream in(answer);
    std::ostringstream out;
    bool yes = confirm(in, out, "Remove acme?");
    CHECK(out.str() == "Remove acme? [y/N] ");
    return yes;
  };
  CHECK(ask("y\n"));
  CHECK(ask(" YES \n"));
  CHECK_FALSE(ask("\n"));
  CHECK_FALSE(ask("no\n"));
  CHECK_FALSE(ask(""));  // end of input is not a yes
}

TEST_CASE("an error is two lines for a person, one {code, error, hint} object for a script") {
  std::ostringstream person, script;
  write_error(person, false, 4, "no integration named 'x'", "");
  CHECK(person.str() ==
        "ledgersync: no integration named 'x'\n"
        "  what to do: `ledgersync list` shows the integrations there are\n");
  write_error(script, true, 3, "manual sync limit reached", "wait", {{"retry_after_ms", 1500}});
  auto j = json::parse(script.str());
  CHECK(j == json{{"code", 3},
                  {"error", "manual sync limit reached"},
                  {"hint", "wait"},
                  {"retry_after_ms", 1500}});
  CHECK(script.str().find('\n') == script.str().size() - 1);  // one line
  std::ostringstream bare;
  write_error(bare, true, 1, "could not save", "");
  CHECK(json::parse(bare.str())["hint"].is_null());
}

TEST_CASE("numeric options say what they expected and what they got") {
  CHECK(whole_number_problem("10", 1, 100).empty());
  CHECK(whole_number_problem("0", 1, 100) == "expected a whole number from 1 to 100, got '0'");
  CHECK(whole_number_problem("abc", 1, 100) == "expected a whole number from 1 to 100, got 'abc'");
  CHECK(whole_number_problem("1e3", 1, 100000) ==
        "expected a whole number from 1 to 100000, got '1e3'");
  CHECK(whole_number_problem("-1", 0) == "expected a whole number, at least 0, got '-1'");
  CHECK(positive_number_problem("2.5").empty());
  CHECK(positive_number_problem("-1") == "expected a number above 0, got '-1'");
  CHECK_FALSE(positive_number_problem("inf").empty());
}

TEST_CASE("progress shows each stream against its own total, never a run total against one") {
  json s = {{"name", "big"},         {"status", "active"},  {"health", "healthy"},
            {"stale", false},        {"running", true},     {"schedule", "manual"},
            {"last_error", nullptr}, {"next_run", nullptr}, {"last_sync", nullptr}};
  s["progress"] = {{"run_id", 4},
                   {"kind", "manual"},
                   {"stream", "payments"},
                   {"fetched", 30500},
                   {"total", nullptr},
                   {"percent", nullptr},
                   {"streams",
                    {{{"name", "invoices"},
                      {"fetched", 20000},
                      {"total", 20000},
                      {"percent", 100},
                      {"done", true}},
                     {{"name", "payments"},
                      {"fetched", 10500},
                      {"total", 20000},
                      {"percent", 52},
                      {"done", false}},
                     {{"name", "customers"},
                      {"fetched", 0},
                      {"total", nullptr},
                      {"percent", nullptr},
                      {"done", false}}}}};
  std::ostringstream out;
  write_status_detail(out, s, render_env{*parse_iso("2026-11-25T10:00:00Z"), nullptr});
  auto text = out.str();
  CHECK(text.find("invoices 20000/20000 done · payments 10500/20000 52% · customers -") !=
        std::string::npos);
  CHECK(text.find("30500 fetched of") == std::string::npos);  // no total while one is unknown
  CHECK(text.find("%)") == std::string::npos);                // nor a run percentage
}
