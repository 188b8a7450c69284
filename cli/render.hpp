// How the CLI shows things to a person (tables, details, log lines, a progress bar). `--json`
// output bypasses all of this. The write_* functions take the stream, the moment "now" and the
// time zone to word times in, so tests render with a fixed clock and zone; the print_* forms
// write to stdout with the wall clock and the user's zone.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/time_util.hpp"

namespace ledgersync::cli {

struct render_env {
  sys_ms now;
  const date::time_zone* zone = nullptr;
  // The wall clock and user_time_zone().
  static render_env local();
};

// "Active", "Disconnected · stale"; a status word this CLI does not know is shown capitalised.
std::string status_label(const nlohmann::json& status);
// Rows of cells; every column but the last padded to its widest cell, counted in characters
// (UTF-8), so "·" takes one column, not two.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

// A reply's structured advice as a person reads it here: {"op": "enable", "name": "X"} is
// "ledgersync enable X"; "" when `action` is not such an object.
// `name` stands in when the action names no integration (a log event's, a run's error).
std::string command_for(const nlohmann::json& action, const std::string& name = "");
// `holder`'s "hint", followed by its "action" as a command: "The integration is disabled. Run
// `ledgersync enable X`." Either part may be missing.
std::string hint_text(const nlohmann::json& holder, const std::string& name = "");

void write_status_table(std::ostream& out, const nlohmann::json& statuses, const render_env& env);
void write_status_detail(std::ostream& out, const nlohmann::json& status, const render_env& env);
void write_show(std::ostream& out, const nlohmann::json& show, const nlohmann::json& status,
                const render_env& env);
// The TLS lines of `show`, with a warning when the client certificate expires within 30 days.
void write_tls_settings(std::ostream& out, const nlohmann::json& config, const render_env& env);
// `name`: the integration the event or run is of (its advice names it).
void write_log_line(std::ostream& out, const nlohmann::json& event, const render_env& env,
                    const std::string& name = "");
void write_run_summary(std::ostream& out, const nlohmann::json& run, const std::string& name = "");
// Asks `question` on `out` and reads one line from `in`: true only for "y" or "yes".
bool confirm(std::istream& in, std::ostream& out, const std::string& question);

// `ledgersync connectors`: a table of the kinds; `connectors KIND`: its settings and streams.
void write_connectors(std::ostream& out, const nlohmann::json& kinds);
void write_connector(std::ostream& out, const nlohmann::json& kind);

void print_status_table(const nlohmann::json& statuses);
void print_status_detail(const nlohmann::json& status);
void print_show(const nlohmann::json& show, const nlohmann::json& status);
// The sync log and run history `show` reports: what is kept against the retention limits.
void print_retention(const nlohmann::json& show);
void print_log_line(const nlohmann::json& event, const std::string& name = "");
// One progress update of `sync --wait`: a redrawn bar on a terminal, plain lines otherwise.
void print_progress(const nlohmann::json& status, bool tty);
void print_run_summary(const nlohmann::json& run, const std::string& name = "");
// `ledgersync set-aside NAME`: each record with the fields it lacks, first and last seen.
void print_set_aside(const nlohmann::json& reply);
void print_connectors(const nlohmann::json& kinds);
void print_connector(const nlohmann::json& kind);

}  // namespace ledgersync::cli
