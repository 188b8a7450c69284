// How the CLI shows things to a person (tables, details, log lines, a progress bar). `--json`
// output bypasses all of this.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ledgersync::cli {

void print_status_table(const nlohmann::json& statuses);
void print_status_detail(const nlohmann::json& status);
void print_show(const nlohmann::json& show, const nlohmann::json& status);
// The sync log and run history `show` reports: what is kept against the retention limits.
void print_retention(const nlohmann::json& show);
void print_log_line(const nlohmann::json& event);
// One progress update of `sync --wait`: a redrawn bar on a terminal, plain lines otherwise.
void print_progress(const nlohmann::json& status, bool tty);
void print_run_summary(const nlohmann::json& run);

}  // namespace ledgersync::cli
