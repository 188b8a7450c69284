#include "core/logging.hpp"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

namespace ledgersync {

namespace {

// One JSON object per line: what log shippers (journald's JSON, Loki, Elastic) take as is.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char when[80];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count() % 1000));
    nlohmann::json j{{"time", when},
                     {"level", spdlog::level::to_string_view(msg.level).data()},
                     {"message", std::string(msg.payload.data(), msg.payload.size())},
                     {"thread", msg.thread_id}};
    // A message is ours, but what it quotes (an upstream's error text) may not be UTF-8.
    auto line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

// A file that rotates by size (FILE -> FILE.1 -> ... -> FILE.N, the oldest dropped) and can be
// reopened at the same path: spdlog's rotating sink has no reopen, its basic sink no rotation.
class log_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  log_file_sink(std::string path, size_t max_bytes, size_t max_files)
      : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files) {}
  ~log_file_sink() override { close_file(); }

  bool open(std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_file(error);
  }
  void reopen() {
    std::lock_guard<std::mutex> lock(mutex_);
    close_file();
    std::string error;
    open_file(error);  // a failure leaves the sink silent until the next reopen
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    if (fd_ < 0) return;
    if (max_bytes_ && size_ > 0 && size_ + buf.size() > max_bytes_) rotate();
    if (fd_ < 0) return;
    const char* p = buf.data();
    size_t left = buf.size();
    while (left > 0) {
      auto n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a full disk: the log is dropped, the service goes on
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<size_t>(n);
    }
  }
  void flush_() override {}  // every line is written through to the kernel

 private:
  bool open_file(std::string& error) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      error = "cannot open the log file " + path_ + ": " + std::strerror(errno);
      return false;
    }
    auto end = ::lseek(fd_, 0, SEEK_END);
    size_ = end > 0 ? static_cast<size_t>(end) : 0;
    return true;
  }
  void close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void rotate() {
    close_file();
    if (max_files_ == 0) {
      ::unlink(path_.c_str());
    } else {
      auto name = [&](size_t i) { return path_ + "." + std::to_string(i); };
      ::unlink(name(max_files_).c_str());
      for (size_t i = max_files_; i > 1; --i) ::rename(name(i - 1).c_str(), name(i).c_str());
      ::rename(path_.c_str(), name(1).c_str());
    }
    std::string error;
    open_file(error);
  }

  std::string path_;
  size_t max_bytes_, max_files_;
  int fd_ = -1;
  size_t size_ = 0;
};

std::mutex installed_mutex;
std::shared_ptr<log_file_sink> installed_file;

}  // namespace

std::optional<std::string> validate(const log_settings& s) {
  if (spdlog::level::from_str(s.level) == spdlog::level::off && s.level != "off")
    return "log_level must be one of trace, debug, info, warn, error, critical, off; got '" +
           s.level + "'";
  if (s.format != "text" && s.format != "json")
    return "log_format must be text or json; got '" + s.format + "'";
  if (s.max_size_mb > 1024 * 1024) return "log_max_size_mb must be at most 1048576";
  if (s.max_files > 1000) return "log_max_files must be at most 1000";
  return std::nullopt;
}

std::shared_ptr<spdlog::logger> make_logger(const log_settings& s, std::string& error) {
  if (auto bad = validate(s)) {
    error = *bad;
    return nullptr;
  }
  spdlog::sink_ptr sink;
  if (s.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    auto file = std::make_shared<log_file_sink>(s.file, s.max_size_mb * 1024 * 1024, s.max_files);
    if (!file->open(error)) return nullptr;
    sink = file;
  }
  auto logger = std::make_shared<spdlog::logger>("ledgersync", sink);
  if (s.format == "json")
    logger->set_formatter(std::make_unique<json_formatter>());
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(s.level));
  return logger;
}

bool install_logging(const log_settings& s, std::string& error) {
  auto logger = make_logger(s, error);
  if (!logger) return false;
  std::lock_guard<std::mutex> lock(installed_mutex);
  installed_file = std::dynamic_pointer_cast<log_file_sink>(logger->sinks().front());
  spdlog::set_default_logger(logger);
  return true;
}

void reopen_logs() {
  std::lock_guard<std::mutex> lock(installed_mutex);
  if (installed_file) installed_file->reopen();
}

}  // namespace ledgersync
