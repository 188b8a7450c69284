// The service's config file, its own log (format, rotation, reopen) and the key file kept
// outside the data dir.
#include "config/service_config.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "core/private_file.hpp"
#include "storage/secrets.hpp"

using namespace ledgersync;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/ledgersync-svc-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string parse_error(const std::string& text) {
  service_config c;
  std::string error;
  CHECK_FALSE(parse_service_config(text, "ledgersync.conf", c, error));
  return error;
}

}  // namespace

TEST_CASE("the service config file: keys, comments, quotes, environment", "[service_config]") {
  ::setenv("LS_TEST_CREDS", "/run/credentials/ledgersync.service", 1);
  service_config c;
  std::string error;
  REQUIRE(parse_service_config(R"(# where data lives
data_dir = /var/lib/ledgersync
listen = 127.0.0.1:7500   # the CLI's port
http_listen = "0.0.0.0:8443"
http_tls_cert = /etc/ledgersync/api.crt
http_tls_key = /etc/ledgersync/api.key
secrets_key_file = ${LS_TEST_CREDS}/master.key

log_level = debug
log_format = json
log_file = /var/log/ledgersync/service.log
log_max_size_mb = 50
log_max_files = 3
)",
                               "ledgersync.conf", c, error));
  CHECK(error.empty());
  CHECK(c.data_dir == "/var/lib/ledgersync");
  CHECK(c.listen == "127.0.0.1:7500");
  CHECK(c.http_listen == "0.0.0.0:8443");
  CHECK(c.secrets_key_file == "/run/credentials/ledgersync.service/master.key");
  CHECK(c.log.level == "debug");
  CHECK(c.log.format == "json");
  CHECK(c.log.max_size_mb == 50);
  CHECK(c.log.max_files == 3);
}

TEST_CASE("a bad config file is refused naming the line and the key", "[service_config]") {
  CHECK(parse_error("data_dir = /a\nlisten 127.0.0.1:1\n") ==
        "ledgersync.conf:2: expected `key = value`, got 'listen 127.0.0.1:1'");
  CHECK(parse_error("lsiten = x\n")
            .rfind("ledgersync.conf:1: unknown key 'lsiten' (the keys are:", 0) == 0);
  CHECK(parse_error("log_level = info\nlog_level = debug\n") ==
        "ledgersync.conf:2: log_level is set twice");
  CHECK(parse_error("log_max_files = -1\n") ==
        "ledgersync.conf:1: log_max_files: expected a whole number from 0 to 1000");
  CHECK(parse_error("log_max_files = 5000\n") ==
        "ledgersync.conf:1: log_max_files: expected a whole number from 0 to 1000");
  CHECK(parse_error("log_level = loud\n").find("log_level must be one of trace") !=
        std::string::npos);
  CHECK(parse_error("log_format = xml\n").find("log_format must be text or json; got 'xml'") !=
        std::string::npos);
  ::unsetenv("LS_TEST_UNSET");
  CHECK(parse_error("secrets_key_file = ${LS_TEST_UNSET}/k\n") ==
        "ledgersync.conf:1: secrets_key_file: ${LS_TEST_UNSET} is not set in the environment");
  CHECK(parse_error("http_tls_cert = /a.crt\n").find("go together") != std::string::npos);
  service_config c;
  std::string error;
  CHECK_FALSE(load_service_config("/nonexistent/ledgersync.conf", c, error));
  CHECK(error == "cannot read the config file /nonexistent/ledgersync.conf");
}

TEST_CASE("the service log: JSON lines, rotation by size, reopened after logrotate",
          "[service_config]") {
  temp_dir t;
  log_settings s;
  s.format = "json";
  s.file = (t.path / "service.log").string();
  s.max_size_mb = 1;
  s.max_files = 2;
  std::string error;
  auto logger = make_logger(s, error);
  REQUIRE(logger);
  // Quotes, newlines and bytes that are not UTF-8 stay one valid JSON line each.
  logger->info("upstream said \"no\"\nand \xff{}", 42);
  logger->flush();
  auto first = slurp(s.file);
  REQUIRE(std::count(first.begin(), first.end(), '\n') == 1);
  auto j = nlohmann::json::parse(first);
  CHECK(j["level"] == "info");
  CHECK(j["message"].get<std::string>().rfind("upstream said \"no\"\nand ", 0) == 0);
  CHECK(j["time"].get<std::string>().back() == 'Z');

  std::string filler(1000, 'x');
  for (int i = 0; i < 3000; ++i) logger->info("{}", filler);  // ~3 MB through a 1 MB limit
  CHECK(fs::file_size(s.file) <= 1024 * 1024);
  CHECK(fs::exists(s.file + ".1"));
  CHECK(fs::exists(s.file + ".2"));
  CHECK_FALSE(fs::exists(s.file + ".3"));  // only max_files kept

  // logrotate moves the file away; after SIGHUP's reopen the log goes to a new file there.
  REQUIRE(install_logging(s, error));
  fs::rename(s.file, s.file + ".moved");
  reopen_logs();
  spdlog::warn("after the reopen");
  CHECK(slurp(s.file).find("after the reopen") != std::string::npos);
  CHECK(slurp(s.file + ".moved").find("after the reopen") == std::string::npos);
  log_settings to_stderr;
  REQUIRE(install_logging(to_stderr, error));

  log_settings unwritable = s;
  unwritable.file = "/nonexistent/dir/service.log";
  CHECK_FALSE(make_logger(unwritable, error));
  CHECK(error.rfind("cannot open the log file /nonexistent/dir/service.log", 0) == 0);
}

TEST_CASE("a secrets key kept outside the data dir", "[service_config]") {
  temp_dir t;
  auto data = t.path / "data";
  fs::create_directories(data);
  auto key = (t.path / "master.key").string();
  std::string error;
  CHECK_FALSE(secret_box::open_key_file(key, data.string(), error));
  CHECK(error.find("make one with `ledgersync keygen " + key + "`") != std::string::npos);
  REQUIRE(secret_box::generate_key_file(key, error));
  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(secret_box::generate_key_file(key, error));  // never overwritten
  CHECK(error.find("a key is never overwritten") != std::string::npos);

  auto box = secret_box::open_key_file(key, data.string(), error);
  REQUIRE(box);
  auto sealed = box->seal("sk_live_123");
  CHECK(secret_box::open_key_file(key, data.string(), error)->unseal(sealed) == "sk_live_123");

  // A copy of the key left in the data dir defeats the separation: refused.
  std::ofstream((data / "master.key").string()) << std::string(32, 'k');
  CHECK_FALSE(secret_box::open_key_file(key, data.string(), error));
  CHECK(error.find("is still in the data dir") != std::string::npos);
  fs::remove(data / "master.key");

  ::chmod(key.c_str(), 0644);
  CHECK_FALSE(secret_box::open_key_file(key, data.string(), error));
  CHECK(error.find("can be read by other users") != std::string::npos);
  ::chmod(key.c_str(), 0600);
  std::ofstream(key, std::ios::app) << "extra";
  CHECK_FALSE(secret_box::open_key_file(key, data.string(), error));
  CHECK(error.find("is not a key") != std::string::npos);
}

TEST_CASE("metrics render in Prometheus's text format", "[metrics]") {
  metrics m;
  m.count("runs_total", "runs ended", {{"integration", "acme"}, {"outcome", "ok"}});
  m.count("runs_total", "runs ended", {{"integration", "acme"}, {"outcome", "ok"}}, 2);
  m.count("runs_total", "runs ended", {{"integration", "we\"ird\\name\n"}, {"outcome", "failed"}});
  m.observe("writer_commit_seconds", "commit time", {0.01, 0.1}, 0.05);
  m.observe("writer_commit_seconds", "commit time", {0.01, 0.1}, 0.5);
  m.set_gauge("up", "1 when up", {}, 1);
  auto text = m.render();
  CHECK(text.find(
            "# HELP ledgersync_runs_total runs ended\n# TYPE ledgersync_runs_total counter\n") !=
        std::string::npos);
  CHECK(text.find("ledgersync_runs_total{integration=\"acme\",outcome=\"ok\"} 3\n") !=
        std::string::npos);
  CHECK(text.find(
            "ledgersync_runs_total{integration=\"we\\\"ird\\\\name\\n\",outcome=\"failed\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("ledgersync_writer_commit_seconds_bucket{le=\"0.01\"} 0\n"
                  "ledgersync_writer_commit_seconds_bucket{le=\"0.10000000000000001\"} 1\n") ==
        std::string::npos);  // bounds print as written, not in binary noise
  CHECK(text.find("ledgersync_writer_commit_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(text.find("ledgersync_writer_commit_seconds_bucket{le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(text.find("ledgersync_writer_commit_seconds_count 2\n") != std::string::npos);
  CHECK(text.find("ledgersync_writer_commit_seconds_sum 0.55") != std::string::npos);
  CHECK(text.find("# TYPE ledgersync_up gauge\nledgersync_up 1\n") != std::string::npos);
}

TEST_CASE("a watched file is read again only when it changed, and says when it is gone") {
  temp_dir dir;
  ledgersync::watched_file f((dir.path / "doc.json").string());
  std::string text, err;
  CHECK(f.poll(text, err) == ledgersync::watched_file::state::absent);
  REQUIRE(ledgersync::write_private_file(f.path(), "one", err));
  CHECK(f.poll(text, err) == ledgersync::watched_file::state::changed);
  CHECK(text == "one");
  CHECK(f.poll(text, err) == ledgersync::watched_file::state::unchanged);
  // A replacement of the same size and second is still seen: the inode differs (rename).
  REQUIRE(ledgersync::write_private_file(f.path(), "two", err));
  CHECK(f.poll(text, err) == ledgersync::watched_file::state::changed);
  CHECK(text == "two");
  ::unlink(f.path().c_str());
  CHECK(f.poll(text, err) == ledgersync::watched_file::state::absent);
  CHECK(f.poll(text, err) == ledgersync::watched_file::state::unchanged);
}
