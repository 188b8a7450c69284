#include "actors/service.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/io/all.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "actors/api_bridge.hpp"
#include "actors/context.hpp"
#include "api/tokens.hpp"
#include "config/integration_config.hpp"
#include "core/control_gate.hpp"
#include "core/logging.hpp"
#include "core/private_file.hpp"
#include "core/stop_watchdog.hpp"
#include "notify/dispatcher.hpp"
#include "notify/status_events.hpp"
#include "sandbox/sandbox_server.hpp"
#include "sandbox/vendor_bank.hpp"

namespace ledgersync {

using nlohmann::json;

std::string default_data_dir() {
  if (auto* d = std::getenv("LEDGERSYNC_DATA_DIR"); d && *d) return d;
  if (auto* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/ledgersync";
  if (auto* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/ledgersync";
  return "./ledgersync-data";
}

bool read_service_address(const std::string& dir, service_address& out, std::string& error) {
  std::ifstream in(dir + "/service.json");
  if (!in) {
    error = "no service found: " + dir +
            "/service.json does not exist (is `ledgersync serve` "
            "running with this --data-dir?)";
    return false;
  }
  auto j = json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("port") || !j.contains("token")) {
    error = dir + "/service.json is unreadable";
    return false;
  }
  out.host = j.value("host", "127.0.0.1");
  out.port = j.value("port", uint16_t{0});
  out.token = j.value("token", "");
  out.http_port = j.value("http_port", uint16_t{0});
  return true;
}

namespace {

std::string random_token() {
  unsigned char raw[24];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return hex;
}

// Who holds the data dir, for the message of a service that could not take it: service.json
// names the running service once it listens; before that only the lock file's pid is known.
std::string describe_holder(const std::string& dir, int lock_fd) {
  char buf[32] = {};
  auto n = ::pread(lock_fd, buf, sizeof buf - 1, 0);
  std::string lock_pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!lock_pid.empty() && (lock_pid.back() == '\n' || lock_pid.back() == ' '))
    lock_pid.pop_back();
  std::ifstream in(dir + "/service.json");
  auto j = json::parse(in, nullptr, false);
  if (j.is_object() && j.contains("pid") && j.contains("port") &&
      (lock_pid.empty() || std::to_string(j.value("pid", 0)) == lock_pid))
    return "pid " + std::to_string(j.value("pid", 0)) + ", listening on " +
           j.value("host", "127.0.0.1") + ":" + std::to_string(j.value("port", 0));
  return lock_pid.empty() ? "starting" : "pid " + lock_pid + ", still starting";
}

// One service per data dir: an exclusive flock on DIR/service.lock, held (fd left open) for
// the process lifetime. The kernel drops it when the process ends, kill -9 included, so a
// stale lock never needs clearing. The holder's pid goes into the file for the message above.
// Returns 0 when taken, else the exit code, with the reason on stderr.
int lock_data_dir(const std::string& dir) {
  auto path = dir + "/service.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "ledgersync: cannot open " << path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      std::cerr << "ledgersync: cannot lock " << path << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    std::cerr << "ledgersync: another service already runs on the data dir " << dir << " ("
              << describe_holder(dir, fd) << "); stop it first, or give this one another "
              << "--data-dir\n";
    ::close(fd);
    return exit_already_running;
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0)
    spdlog::warn("cannot write the pid into {}: {}", path, std::strerror(errno));
  return 0;  // fd stays open: closing it would release the lock
}

client_reply call(caf::actor_system& sys, const engine_actor& engine, client_request req) {
  caf::scoped_actor self{sys};
  client_reply out{protocol_version, error_kind::internal, 0, "{}"};
  self->request(engine, std::chrono::seconds(30), std::move(req))
      .receive([&](const client_reply& r) { out = r; },
               [&](const caf::error& e) {
                 out.body = json{{"error", caf::to_string(e)}}.dump();
               });
  return out;
}

// One integration of each vendor kind against the sandbox's vendor endpoints, so the demo
// shows every connector; `drop` is the bank statements' drop folder, which the sandbox writes.
std::vector<json> demo_vendor_integrations(const std::string& base, const std::string& drop,
                                           const sandbox::server::vendor_ids& ids) {
  json sets = json::array(
      {{{"name", "Customers"},
        {"entity", "customer"},
        {"modified_field", "Modified"},
        {"id_field", "No"},
        {"field_map",
         {{"fields", {{"name", "Name"}, {"email", "Email"}, {"currency", "CurrencyCode"}}},
          {"deleted", "IsDeleted"}}}}});
  return {
      {{"name", "ecb-rates"},
       {"connector", "ecb_fx"},
       {"base_url", base + "/ecb/stats/eurofxref"},
       {"schedule", "every 1h"}},
      {{"name", "stripe-payments"},
       {"connector", "stripe"},
       {"base_url", base + "/stripe"},
       {"api_key", "sk_test_sandbox"},
       {"schedule", "every 2m"}},
      {{"name", "erp-odata"},
       {"connector", "odata"},
       {"base_url", base + "/odata"},
       {"api_key", "sk_test_sandbox"},
       {"schedule", "every 5m"},
       {"settings", {{"entity_sets", sets}}}},
      {{"name", "bank-statements"},
       {"connector", "bank_statement"},
       {"schedule", "every 1m"},
       {"settings", {{"folder", drop}}}},
      // Signs in by itself (a Xero custom connection: client credentials).
      {{"name", "xero-books"},
       {"connector", "xero"},
       {"base_url", base + "/xero/api.xro/2.0"},
       {"schedule", "every 5m"},
       {"settings",
        {{"tenant_id", ids.xero_tenant},
         {"client_id", "xero-sandbox"},
         {"client_secret", "xero-sandbox-secret"},
         {"auth_base_url", base},
         {"grant", "client_credentials"}}}},
      // Wait for `ledgersync connect NAME` (the browser sign-in): Disconnected until then.
      {{"name", "sage-books"},
       {"connector", "sage"},
       {"base_url", base + "/sage/v3.1"},
       {"schedule", "every 5m"},
       {"settings",
        {{"business_id", ids.sage_business},
         {"client_id", "sage-sandbox"},
         {"client_secret", "sage-sandbox-secret"},
         {"auth_base_url", base}}}},
      {{"name", "quickbooks-books"},
       {"connector", "quickbooks"},
       {"base_url", base + "/quickbooks/v3/company"},
       {"schedule", "every 5m"},
       {"settings",
        {{"realm_id", ids.quickbooks_realm},
         {"client_id", "quickbooks-sandbox"},
         {"client_secret", "quickbooks-sandbox-secret"},
         {"auth_base_url", base}}}},
  };
}

void add_demo_integrations(caf::actor_system& sys, const engine_actor& engine,
                           const std::string& token, uint16_t sandbox_port, const std::string& drop,
                           const sandbox::server::vendor_ids& ids) {
  auto base = "http://127.0.0.1:" + std::to_string(sandbox_port);
  auto all = default_rest_streams();
  struct demo {
    std::string name, schedule, key;
    std::vector<stream_config> streams;
  };
  std::vector<demo> demos{
      {"acme-accounts", "every 1m", "sk_test_sandbox", {all[0], all[1]}},
      {"acme-payments", "every 2m", "sk_test_sandbox", {all[2]}},
      {"legacy-erp", "every 1m", "sk_test_expired_key", all},
  };
  for (auto& d : demos) {
    integration_config c;
    c.name = d.name;
    c.base_url = base;
    c.api_key = d.key;
    c.schedule = d.schedule;
    c.streams = d.streams;
    c.retry.max_attempts = 3;
    client_request req;
    req.token = token;
    req.op = "add";
    req.args = json{{"config", to_json(c, true)}, {"run_after_save", true}}.dump();
    auto r = call(sys, engine, req);
    if (r.kind != error_kind::none && r.kind != error_kind::conflict)
      spdlog::warn("demo: could not add {}: {}", d.name, r.body);
  }
  for (auto& conf : demo_vendor_integrations(base, drop, ids)) {
    client_request req;
    req.token = token;
    req.op = "add";
    req.args = json{{"config", conf}, {"run_after_save", true}}.dump();
    auto r = call(sys, engine, req);
    if (r.kind != error_kind::none && r.kind != error_kind::conflict)
      spdlog::warn("demo: could not add {}: {}", conf["name"].get<std::string>(), r.body);
  }
}

}  // namespace

namespace {

// The demo's page: a fresh admin token named "demo" (the previous demo's is revoked), so the
// person trying it can open the page at once.
std::string demo_page_hint(const std::string& data_dir, uint16_t http_port) {
  if (!http_port) return "";
  api::token_store tokens(data_dir + "/api_tokens.json");
  std::string err;
  tokens.revoke("demo", err);
  auto made = tokens.create("admin", "demo", err);
  if (!made) return "  (the Integrations page needs a token: " + err + ")\n";
  return "  Integrations page: http://127.0.0.1:" + std::to_string(http_port) +
         "/  (sign in with the admin token " + made->secret + ")\n";
}

}  // namespace

int run_service(const serve_options& o) {
  // Signals are taken by sigwait below, so every thread spawned from here on blocks them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) {
    std::cerr << "ledgersync: cannot create data dir " << o.data_dir << ": " << ec.message()
              << "\n";
    return 1;
  }
  ::chmod(o.data_dir.c_str(), 0700);
  if (int code = lock_data_dir(o.data_dir); code != 0) return code;
  std::string err;
  auto store = open_lmdb_storage(o.data_dir + "/db", err);
  if (!store) {
    std::cerr << "ledgersync: " << err << "\n";
    return 1;
  }
  auto box = o.secrets_key_file.empty()
                 ? secret_box::open(o.data_dir, err)
                 : secret_box::open_key_file(o.secrets_key_file, o.data_dir, err);
  if (!box) {
    std::cerr << "ledgersync: " << err << "\n";
    return 1;
  }

  std::unique_ptr<sandbox::server> sandbox;
  uint16_t sandbox_port = 0;
  if (o.demo) {
    sandbox::server_options so;
    so.records = o.demo_records;
    so.churn = 5;
    so.churn_every_s = 20;
    so.invalid_at_start =
        3;  // payments only: acme-accounts stays Active, acme-payments shows Error
    so.invalid_stream = "payments";
    // The bank statements' drop folder: two statements wait in it (MT940 and camt.053), and
    // POST /_sandbox/statements delivers more.
    so.statements_dir = o.data_dir + "/demo-drop";
    std::filesystem::create_directories(so.statements_dir);
    sandbox::write_statement(so.statements_dir, "mt940", 7, 1, err);
    sandbox::write_statement(so.statements_dir, "camt053", 7, 2, err);
    err.clear();
    sandbox = std::make_unique<sandbox::server>(so);
    sandbox_port = sandbox->start(err);
    if (!sandbox_port) {
      std::cerr << "ledgersync: sandbox: " << err << "\n";
      return 1;
    }
  }

  // Declared before everything the stop takes down, so that it outlives (and watches) all of it.
  std::unique_ptr<stop_watchdog> watchdog;
  io_runtime io(2);
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  add_message_types(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  // CAF starts at least 4 workers, and an idle worker polls for work every 50 us before it
  // sleeps: on a 2-core server 4 of them spent more CPU looking for work than a tiny run took.
  cfg.set("scheduler.max-threads",
          static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  caf::actor_system sys{cfg};

  auto ctx = std::make_shared<service_context>();
  ctx->store = store.get();
  ctx->secrets = &*box;
  ctx->make_transport = [&io](const tls_options& tls) { return io.make_transport(tls); };
  ctx->clock.anchor_wall =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ctx->clock.anchor_steady = sys.clock().now();
  ctx->writer = spawn_log_writer(sys, store.get(), true, log_writer_options{ctx->clock});
  ctx->seed = static_cast<uint64_t>(::getpid());
  auto feed = spawn_status_feed(sys);
  ctx->feed = feed;
  auto sched = spawn_scheduler(sys, ctx);
  auto token = random_token();
  auto engine = spawn_engine(sys, ctx, sched, token);

  // The port publishes the front door, never the engine: see actors/front_door.cpp.
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  // Reads on threads of their own (they block on LMDB), a few at once.
  auto queries = spawn_queries(sys, ctx, engine, token, 3, true);
  auto front = spawn_front_door(sys, engine, queries, stopping);
  caf::anon_send(feed, source_atom::value, front, token);
  auto stop_actors = [&] {
    stopping->store(true);
    caf::anon_send_exit(front, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(queries, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sched, caf::exit_reason::user_shutdown);
    // The writer last, and explicitly: its retention timer keeps it alive (and the actor
    // system's shutdown waiting) until it is told to stop.
    {
      caf::scoped_actor self{sys};
      self->wait_for(engine);
    }
    caf::anon_send_exit(ctx->writer, caf::exit_reason::user_shutdown);
  };
  // The port admits only peers that present the token (core/control_gate.hpp), from before it
  // opens: armed now, narrowed to the published port once it is known.
  auto& gate = control_gate::instance();
  if (!control_gate::hooks_installed()) {
    std::cerr << "ledgersync: this build lacks the control port's gate (actors/socket_hooks.cpp);"
                 " refusing to publish an unguarded port\n";
    stop_actors();
    return 1;
  }
  {
    std::lock_guard<std::mutex> lock(gate.mutex);
    gate.arm(token, {sandbox_port});
  }
  auto port = caf::io::publish(front, o.port, o.host.c_str(), true);
  if (port) {
    std::lock_guard<std::mutex> lock(gate.mutex);
    gate.guard_port(*port);
  }
  if (!port) {
    std::cerr << "ledgersync: cannot listen on " << o.host << ":" << o.port << ": "
              << sys.render(port.error()) << "\n";
    stop_actors();
    return 1;
  }
  // Webhooks: events derived from the statuses, delivered off every actor's thread.
  notify::subscription_store hooks(o.data_dir + "/webhooks.json", &*box);
  auto hook_transport = io.make_transport();
  notify::system_clock_source wall;
  notify::dispatcher deliveries(hooks, *box, *hook_transport, wall);
  deliveries.start();
  std::unique_ptr<http_api> http;
  if (o.http_listen != "off") {
    http_api_options ho;
    // The demo and the default port get the page's usual address; a service on an ephemeral
    // control port (tests, several services) gets an ephemeral one too.
    ho.listen = !o.http_listen.empty()     ? o.http_listen
                : (o.port == 0 && !o.demo) ? std::string("127.0.0.1:0")
                                           : std::string("127.0.0.1:7421");
    ho.fall_back_to_any_port = o.demo && o.http_listen.empty();
    ho.tls_cert_file = o.http_tls_cert;
    ho.tls_key_file = o.http_tls_key;
    ho.data_dir = o.data_dir;
    ho.webhooks = &hooks;
    ho.status_feed = caf::actor_cast<caf::actor>(feed);
    http = start_http_api(sys, front, token, ho, err);
    if (!http) {
      std::cerr << "ledgersync: HTTP API on " << ho.listen << ": " << err << "\n";
      stop_actors();
      return 1;
    }
  }
  auto stop_http = [&] {
    if (http) http->stop();
  };
  auto service_file = o.data_dir + "/service.json";
  json address{{"host", o.host}, {"port", *port}, {"token", token}, {"pid", ::getpid()}};
  if (http) address["http_port"] = http->port();
  if (!write_private_file(service_file, address.dump(), err)) {
    std::cerr << "ledgersync: cannot write " << service_file << ": " << err << "\n";
    stop_http();
    stop_actors();
    return 1;
  }
  auto derive = std::make_shared<notify::status_events>();
  auto watcher = watch_statuses(sys, caf::actor_cast<caf::actor>(feed),
                                [derive, &deliveries](const json& batch) {
                                  for (auto& ev : derive->next_batch(batch))
                                    deliveries.notify(ev.type, ev.data);
                                });
  std::cout << "ledgersync: service listening on " << o.host << ":" << *port << " (data dir "
            << o.data_dir << ")" << std::endl;
  if (http)
    std::cout << "ledgersync: HTTP API and Integrations page on "
              << (o.http_tls_cert.empty() ? "http" : "https") << "://"
              << (o.http_listen.empty() ? std::string("127.0.0.1")
                                        : o.http_listen.substr(0, o.http_listen.rfind(':')))
              << ":" << http->port() << "/ (tokens: `ledgersync token create --role admin`)"
              << std::endl;
  if (o.demo) {
    add_demo_integrations(sys, engine, token, sandbox_port, o.data_dir + "/demo-drop",
                          sandbox->ids());
    std::cout << "ledgersync demo: sandbox upstream on http://127.0.0.1:" << sandbox_port << " ("
              << o.demo_records << " records per stream, a few changing every 20s)\n"
              << "\nTen integrations: three of the generic REST kind, and one of each vendor kind\n"
              << "(ecb_fx, stripe, odata, bank_statement from the drop folder " << o.data_dir
              << "/demo-drop,\nxero signed in by client credentials; sage-books and "
                 "quickbooks-books wait for\n`ledgersync connect NAME`). In another terminal:\n"
              << "  export LEDGERSYNC_DATA_DIR=" << o.data_dir << "\n"
              << "  ledgersync list                      # status at a glance\n"
              << "  ledgersync sync acme-accounts --wait # sync now, with progress\n"
              << "  ledgersync logs legacy-erp           # why it is Disconnected\n"
              << "  ledgersync configure legacy-erp --api-key-env KEY --run-after-save\n"
              << "      (with KEY=sk_test_sandbox in the environment: the key rotation fixes it)\n"
              << "  ledgersync records acme-payments --limit 3\n"
              << "  ledgersync changes --since 0 --limit 5\n"
              << demo_page_hint(o.data_dir, http ? http->port() : 0)
              << "(ledgersync is in build/ when started by scripts/demo.) Ctrl-C stops.\n"
              << std::endl;
  }
  int sig = 0;
  while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
    reopen_logs();  // logrotate moved the file away
    spdlog::info("service log reopened (SIGHUP)");
  }
  // Only while it is still ours: never take another service's address away. First, so that a
  // stop cut short (below) leaves no address behind either.
  service_address current;
  if (read_service_address(o.data_dir, current, err) && current.token == token)
    ::unlink(service_file.c_str());
  watchdog = service_stop_watchdog(std::chrono::seconds(30), exit_stop_cut_short);
  watchdog->start();
  watchdog->stage("saying so");
  std::cout << "ledgersync: stopping" << std::endl;
  watchdog->stage("stopping the sandbox and the HTTP API");
  if (sandbox) sandbox->stop();
  stop_http();
  {
    watchdog->stage("stopping the status watcher");
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
    caf::scoped_actor self{sys};
    self->wait_for(watcher);
  }
  watchdog->stage("stopping the engine and its integrations");
  stop_actors();
  watchdog->stage("delivering webhooks");
  deliveries.stop();
  watchdog->stage("stopping HTTP clients");
  io.stop();
  // `sys`, declared after the watchdog, is destroyed before it: its wait for every actor to
  // finish is watched too.
  watchdog->stage("waiting for the actors to finish");
  return 0;
}

}  // namespace ledgersync
