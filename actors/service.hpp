// `ledgersync serve` and `ledgersync demo`: builds the actor system (writer, scheduler, engine),
// publishes the engine on loopback and writes the address and a fresh token into the data dir
// (service.json, mode 0600), then runs until SIGINT/SIGTERM. SIGHUP reopens the service log.
#pragma once

#include <cstdint>
#include <string>

namespace ledgersync {

struct serve_options {
  std::string data_dir;
  std::string host = "127.0.0.1";
  uint16_t port = 7420;
  std::string secrets_key_file;  // empty: DIR/master.key (secret_box::open_key_file)
  // The HTTP API and web page: "off" serves none; empty picks 127.0.0.1:7421 (any free port
  // when `port` is 0, as in tests, or when 7421 is taken in the demo).
  std::string http_listen;
  std::string http_tls_cert, http_tls_key;
  bool demo = false;  // also start a sandbox upstream and three integrations
  size_t demo_records = 2000;
};

// Exit codes of run_service beyond 0 (stopped by SIGINT/SIGTERM) and 1 (could not start).
// 6: another service already runs on this data dir (it holds DIR/service.lock); this one
// exits at once, naming the running one's pid and address, and touches none of its files.
constexpr int exit_already_running = 6;
// 7: the stop did not finish within 30 s, or a second SIGINT/SIGTERM came while it ran; the
// process exited without the rest of it (a line on stderr names the stage). Nothing
// acknowledged is lost: commits are durable before they are acknowledged.
constexpr int exit_stop_cut_short = 7;

// Runs until SIGINT/SIGTERM. Holds an exclusive lock on the data dir for its lifetime, and on
// the way out removes service.json only while it still holds this service's token.
// Returns the process exit code.
int run_service(const serve_options& o);

// Where the CLI looks when no --data-dir is given: $LEDGERSYNC_DATA_DIR, else
// $XDG_DATA_HOME/ledgersync, else ~/.local/share/ledgersync.
std::string default_data_dir();

struct service_address {
  std::string host;
  uint16_t port = 0;
  std::string token;
  uint16_t http_port = 0;  // 0: no HTTP API
};
// Reads service.json from `data_dir`; error set when absent or unreadable.
bool read_service_address(const std::string& data_dir, service_address& out, std::string& error);

}  // namespace ledgersync
