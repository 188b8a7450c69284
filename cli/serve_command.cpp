#include "cli/serve_command.hpp"

#include <iostream>

#include "actors/service.hpp"
#include "cli/client.hpp"
#include "cli/errors.hpp"
#include "storage/secrets.hpp"

namespace ledgersync::cli {

void add_serve_commands(CLI::App& app, serve_command& c) {
  c.serve = app.add_subcommand("serve", "run the service in the foreground");
  c.serve->add_option("--config", c.config_file,
                      "the service config file (see config/ledgersync.conf); flags override it");
  c.serve->add_option("--data-dir", c.data_dir, "where data lives (default $LEDGERSYNC_DATA_DIR)");
  c.serve->add_option("--listen", c.listen, "loopback HOST:PORT to listen on");
  c.serve->add_option("--http-listen", c.http_listen,
                      "the HTTP API and Integrations page: HOST:PORT, or off (default "
                      "127.0.0.1:7421); beyond loopback needs --http-tls-cert and --http-tls-key");
  c.serve->add_option("--http-tls-cert", c.http_tls_cert, "PEM certificate (chain) for HTTPS");
  c.serve->add_option("--http-tls-key", c.http_tls_key, "PEM private key for HTTPS");
  c.serve->add_option("--log-level", c.log_level,
                      "trace, debug, info, warn, error, critical or off (default info)");
  c.serve->add_option("--log-format", c.log_format, "text or json (one object per line)");
  c.serve->add_option("--log-file", c.log_file,
                      "write the service log here, rotated by size and reopened on SIGHUP "
                      "(default stderr)");
  c.serve->add_option("--secrets-key-file", c.key_file,
                      "the key that seals API keys, kept outside the data dir "
                      "(default DIR/master.key); made with `ledgersync keygen FILE`");
  c.keygen = app.add_subcommand("keygen", "write a new key for sealing secrets (mode 0600)");
  c.keygen->add_option("FILE", c.keygen_path, "where to write it; an existing file is refused")
      ->required();
}

std::optional<int> run_serve_commands(serve_command& c) {
  if (c.keygen->parsed()) {
    std::string error;
    if (!secret_box::generate_key_file(c.keygen_path, error)) die(failed, error);
    std::cout << "wrote a new secrets key to " << c.keygen_path
              << "\nName it in the service config (secrets_key_file = " << c.keygen_path
              << ") or pass it with systemd's LoadCredential=master.key:" << c.keygen_path << "\n";
    return 0;
  }
  if (!c.serve->parsed()) return std::nullopt;
  service_config cfg;
  std::string err;
  if (!c.config_file.empty() && !load_service_config(c.config_file, cfg, err)) die(usage, err);
  if (!c.data_dir.empty()) cfg.data_dir = c.data_dir;
  if (!c.listen.empty()) cfg.listen = c.listen;
  if (!c.log_level.empty()) cfg.log.level = c.log_level;
  if (!c.log_format.empty()) cfg.log.format = c.log_format;
  if (!c.log_file.empty()) cfg.log.file = c.log_file;
  if (!c.key_file.empty()) cfg.secrets_key_file = c.key_file;
  bool http_given = !c.http_listen.empty() || !c.config_file.empty();
  if (!c.http_listen.empty()) cfg.http_listen = c.http_listen;
  if (!c.http_tls_cert.empty()) cfg.http_tls_cert = c.http_tls_cert;
  if (!c.http_tls_key.empty()) cfg.http_tls_key = c.http_tls_key;
  if (cfg.http_tls_cert.empty() != cfg.http_tls_key.empty())
    die(usage, "--http-tls-cert and --http-tls-key go together");
  if (auto bad = validate(cfg.log)) die(usage, *bad);

  serve_options so;
  so.data_dir = cfg.data_dir.empty() ? default_data_dir() : cfg.data_dir;
  so.secrets_key_file = cfg.secrets_key_file;
  // Not given anywhere: the default address (or any free port beside a control port of 0).
  so.http_listen = http_given ? cfg.http_listen : "";
  so.http_tls_cert = cfg.http_tls_cert;
  so.http_tls_key = cfg.http_tls_key;
  if (!parse_host_port(cfg.listen, so.host, so.port, err, true)) die(usage, "listen: " + err);
  if (so.host != "127.0.0.1" && so.host != "localhost" && so.host != "::1")
    die(usage, "the service listens on loopback only (127.0.0.1, ::1)");
  if (!install_logging(cfg.log, err)) die(failed, err);
  return run_service(so);
}

}  // namespace ledgersync::cli
