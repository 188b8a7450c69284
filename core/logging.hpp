// The service's own log (not the sync log, which is data in the store): level, format (text or
// JSON lines), and where it goes (stderr, or a file rotated by size and reopened on SIGHUP for
// an external logrotate).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace spdlog {
class logger;
}

namespace ledgersync {

struct log_settings {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text | json
  std::string file;             // empty: stderr
  size_t max_size_mb = 100;     // rotate when the file would grow past this; 0: never
  size_t max_files = 5;         // rotated files kept beside it (FILE.1 is the newest)
};

// What is wrong with the settings, naming the setting; nothing when they are fine.
std::optional<std::string> validate(const log_settings& s);

// Builds the logger the settings describe (does not install it). Null, with `error` set, when
// the file cannot be opened.
std::shared_ptr<spdlog::logger> make_logger(const log_settings& s, std::string& error);

// Makes the settings' logger spdlog's default. Returns false, with `error`, as make_logger.
bool install_logging(const log_settings& s, std::string& error);

// Reopens the installed logger's file (after logrotate moved it away); a no-op on stderr.
void reopen_logs();

}  // namespace ledgersync
