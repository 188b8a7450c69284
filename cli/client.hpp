// The CLI's side of the wire: finds the service through its data dir and sends it
// client_requests over CAF's middleman. CAF stays inside client.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ops/error_kind.hpp"

namespace ledgersync::cli {

// Exit codes every command shares.
enum exit_code : int { ok = 0, failed = 1, usage = 2, refused = 3, not_found = 4, unreachable = 5 };

// "HOST:PORT" or "[IPV6]:PORT" into its parts; false with `error` naming what is wrong.
// Port 0 ("any free port") only when `allow_any_port`.
bool parse_host_port(const std::string& text, std::string& host, uint16_t& port, std::string& error,
                     bool allow_any_port = false);

// A service's answer: how it went (kind) and the exit code that stands for it (code).
struct reply {
  int code = failed;
  error_kind kind = error_kind::internal;
  nlohmann::json body;
  // The body as the service sent it (compact JSON), when asked for with call_text.
  std::string text;
};

// How long the CLI waits for the service, per request: `--timeout SECONDS` when given (> 0),
// else $LEDGERSYNC_TIMEOUT, else 60 s. nullopt with `error` set when the variable is not a
// positive number of seconds.
std::optional<std::chrono::milliseconds> request_timeout(std::optional<double> flag_seconds,
                                                         std::string& error);

class service_client {
 public:
  // `connect` ("HOST:PORT") overrides the address in service.json; the token always comes from
  // the data dir. Connecting and each call wait at most `timeout`: past it, the service counts
  // as unreachable (code 5) and the message names what it did not finish. nullptr with `error`
  // set when the service cannot be reached (check `connect` with parse_host_port first: a
  // malformed one is a usage error, not an unreachable service).
  static std::unique_ptr<service_client> open(const std::string& data_dir,
                                              const std::string& connect,
                                              std::chrono::milliseconds timeout,
                                              std::string& error);
  virtual ~service_client() = default;
  virtual reply call(const std::string& op, const std::string& name,
                     const nlohmann::json& args = nlohmann::json::object()) = 0;
  // The same, but a success keeps its body as the text that came (`text`; `body` stays null):
  // `list --json` prints 10,000 documents, and parsing them only to print them again was most
  // of the CLI's time. A failure is parsed as with call.
  virtual reply call_text(const std::string& op, const std::string& name) = 0;
  // How long one call may take (`timeout` above): a call that asks the service to wait (for a
  // run's end) must ask for less.
  virtual int64_t timeout_ms() const = 0;
};

}  // namespace ledgersync::cli
