// How the CLI reports a failure: "ledgersync: WHAT" and "  what to do: HINT" on stderr for a
// person, or one JSON object {code, error, hint} on stderr for a script that passed --json;
// the exit code says the kind either way (client.hpp). Also the checks of numeric options,
// worded so the option's name can go in front ("--limit: expected ...").
#pragma once

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/client.hpp"

namespace ledgersync::cli {

// The exit code of an operation's outcome: 0 ok, 2 invalid, 3 rate-limited, 4 not found, 1 any
// other failure (conflict, unavailable, upstream failed, unauthorised, ...).
int exit_code_for(error_kind kind);

// Chosen once from the command line, before anything can fail, so every error path (a parse
// error, a refused request, a dead service) answers a script in the form it asked for.
void set_json_errors(bool on);
bool json_errors_on();

// `hint` empty: a default for the code, if there is one (JSON: null). `extra`: more fields for
// the JSON form, such as a refused sync's retry_after_ms.
void write_error(std::ostream& out, bool as_json, int code, const std::string& error,
                 std::string hint, const nlohmann::json& extra = nlohmann::json::object());
void print_error(int code, const std::string& error, const std::string& hint = "",
                 const nlohmann::json& extra = nlohmann::json::object());
// A reply from the service: its error (or message) and hint; its other fields as `extra`.
void print_error(const reply& r);
[[noreturn]] void die(int code, const std::string& error, const std::string& hint = "");

// "" when `v` is a whole number in [lo, hi], else what was expected and what came.
std::string whole_number_problem(const std::string& v, int64_t lo,
                                 int64_t hi = std::numeric_limits<int64_t>::max());
std::string positive_number_problem(const std::string& v);

}  // namespace ledgersync::cli
