#include "cli/errors.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "cli/render.hpp"

namespace ledgersync::cli {

using nlohmann::json;

namespace {

bool json_errors = false;

// What to do, for errors whose sender gave no hint.
std::string default_hint(int code, const std::string& error) {
  if (code == refused)
    return "wait, or allow more manual syncs with `ledgersync configure NAME --manual-burst N`";
  if (code == not_found && error.rfind("no integration named", 0) == 0)
    return "`ledgersync list` shows the integrations there are";
  if (code == unreachable)
    return "start it with `ledgersync serve`, or point at it with --data-dir or --connect";
  return "";
}

}  // namespace

int exit_code_for(error_kind kind) {
  switch (kind) {
    case error_kind::none:
      return ok;
    case error_kind::invalid_argument:
      return usage;
    case error_kind::rate_limited:
      return refused;
    case error_kind::not_found:
      return not_found;
    default:
      return failed;
  }
}

void set_json_errors(bool on) {
  json_errors = on;
}
bool json_errors_on() {
  return json_errors;
}


void write_error(std::ostream& out, bool as_json, int code, const std::string& error,
                 std::string hint, const json& extra) {
  if (hint.empty()) hint = default_hint(code, error);
  if (as_json) {
    json j = extra.is_object() ? extra : json::object();
    j["code"] = code;
    j["error"] = error;
    j["hint"] = hint.empty() ? json(nullptr) : json(hint);
    out << j.dump() << "\n";
    return;
  }
  out << "ledgersync: " << error << "\n";
  if (!hint.empty()) out << "  what to do: " << hint << "\n";
}

void print_error(int code, const std::string& error, const std::string& hint, const json& extra) {
  write_error(std::cerr, json_errors, code, error, hint, extra);
}

void print_error(const reply& r) {
  auto body = r.body.is_object() ? r.body : json::object();
  auto error = body.value("error", body.value("message", r.body.dump()));
  auto hint = hint_text(body);  // the service's advice, its action phrased as a command
  for (auto k : {"error", "message", "hint", "code"}) body.erase(k);
  print_error(r.code, error, hint, body);
}

void die(int code, const std::string& error, const std::string& hint) {
  print_error(code, error, hint);
  std::exit(code);
}

std::string whole_number_problem(const std::string& v, int64_t lo, int64_t hi) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc() && end == v.data() + v.size() && n >= lo && n <= hi) return "";
  auto want = hi == std::numeric_limits<int64_t>::max()
                  ? "a whole number, at least " + std::to_string(lo)
                  : "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return "expected " + want + ", got '" + v + "'";
}

std::string positive_number_problem(const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (!v.empty() && *end == '\0' && d > 0 && std::isfinite(d)) return "";
  return "expected a number above 0, got '" + v + "'";
}

}  // namespace ledgersync::cli
