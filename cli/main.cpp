// ledgersync: the service (serve, demo), the sandbox upstream, and the client commands that
// send messages to a running service. Exit codes: 0 ok, 1 failed (or a conflict), 2 usage, 3
// refused by rate limit, 4 not found (integration, stream, run, record), 5 service unreachable,
// 6 (serve, demo) another service already runs on the data dir. Errors go to stderr: two lines
// (what, what to do) for a person, one {code, error, hint} object with --json.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <thread>

#include "actors/service.hpp"
#include "cli/client.hpp"
#include "cli/config_options.hpp"
#include "cli/connect_command.hpp"
#include "cli/push_command.hpp"
#include "cli/errors.hpp"
#include "cli/interrupt.hpp"
#include "cli/render.hpp"
#include "cli/serve_command.hpp"
#include "cli/settings_options.hpp"
#include "cli/token_command.hpp"
#include "cli/webhook_command.hpp"
#include "config/integration_config.hpp"
#include "sandbox/sandbox_data.hpp"
#include "sandbox/sandbox_server.hpp"

using namespace ledgersync;
using namespace ledgersync::cli;
using nlohmann::json;

namespace {

struct client_opts {
  std::string data_dir, connect;
  bool json_out = false;
  double timeout_s = 0;  // 0: not given
};

void add_client_opts(CLI::App* cmd, client_opts& o, bool json_flag) {
  cmd->add_option("--data-dir", o.data_dir,
                  "the service's data dir (default $LEDGERSYNC_DATA_DIR)");
  cmd->add_option("--connect", o.connect, "HOST:PORT of the service (default: from the data dir)");
  cmd->add_option("--timeout", o.timeout_s,
                  "seconds to wait for the service, per request (default $LEDGERSYNC_TIMEOUT, "
                  "else 60)")
      ->check(CLI::Range(0.001, 86400.0));
  if (json_flag) cmd->add_flag("--json", o.json_out, "machine-readable output");
}

std::unique_ptr<service_client> connect(client_opts& o) {
  if (o.data_dir.empty()) o.data_dir = default_data_dir();
  std::string err, host;
  uint16_t port = 0;
  if (!o.connect.empty() && !parse_host_port(o.connect, host, port, err))
    die(usage, "--connect: " + err);
  auto timeout =
      request_timeout(o.timeout_s > 0 ? std::optional<double>(o.timeout_s) : std::nullopt, err);
  if (!timeout) die(usage, err);
  auto c = service_client::open(o.data_dir, o.connect, *timeout, err);
  if (!c) die(unreachable, err);
  return c;
}

// An error goes to stderr (as JSON under --json); a success to stdout, as JSON when `json_out`.
int report(const reply& r, bool json_out, const std::function<void(const json&)>& human) {
  if (r.code != 0)
    print_error(r);
  else if (json_out && !r.text.empty())
    std::cout << r.text << "\n";  // compact JSON as the service wrote it: what dump() gives
  else if (json_out)
    std::cout << r.body.dump() << "\n";
  else
    human(r.body);
  return r.code;
}

// Asks the service to answer when the run is over; each answer that comes back first (after
// 200 ms on a terminal, a second otherwise) carries the progress to show meanwhile.
int wait_for_run(service_client& c, const std::string& name, uint64_t run_id, bool json_out) {
  bool tty = !json_out && ::isatty(STDOUT_FILENO);
  std::string last_line;
  int64_t poll_ms = std::clamp<int64_t>(c.timeout_ms() / 2, 1, tty ? 200 : 1000);
  json run;
  for (;;) {
    auto r = c.call("wait", name, {{"run_id", run_id}, {"timeout_ms", poll_ms}});
    if (r.code != 0) return report(r, json_out, [](const json&) {});
    if (r.body.value("done", false)) {
      run = r.body["run"];
      break;
    }
    auto& s = r.body["status"];
    if (!json_out && s.is_object() && s["progress"].is_object()) {
      auto line = s["progress"].dump();
      if (tty || line != last_line) print_progress(s, tty);
      last_line = line;
    }
  }
  if (tty) std::cout << "\n";
  if (json_out)
    std::cout << run.dump() << "\n";
  else
    print_run_summary(run, name);
  return run.value("status", "") == "ok" ? ok : failed;
}

int run_sandbox(sandbox::server_options so) {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  sandbox::server s(so);
  std::string err;
  auto port = s.start(err);
  if (!port) die(failed, err);
  std::cout << "ledgersync sandbox: http://" << so.host << ":" << port << " (" << so.records
            << " records per stream, seed " << so.seed << ", API key " << so.api_key << ")"
            << std::endl;
  int sig;
  sigwait(&sigs, &sig);
  s.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgersync — keeps finance data in step with the systems it lives in"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ledgersync 0.1.0");

  serve_command serving;
  add_serve_commands(app, serving);
  token_command tokens;
  add_token_commands(app, tokens);
  webhook_command hooks;
  add_webhook_commands(app, hooks);

  std::string demo_dir;
  size_t demo_records = 2000;
  auto* demo = app.add_subcommand(
      "demo", "the service with a sandbox upstream and an integration of each kind");
  demo->add_option("--data-dir", demo_dir, "where the demo's data lives");
  demo->add_option("--records", demo_records, "records per sandbox stream")
      ->check(whole_number(1, 10000000));

  sandbox::server_options sbo;
  auto* sb = app.add_subcommand("sandbox", "serve the deterministic sandbox upstream");
  sb->add_option("--port", sbo.port, "port (0 = any free)");
  sb->add_option("--records", sbo.records, "records per stream")->check(whole_number(0, 100000000));
  sb->add_option("--seed", sbo.seed, "seed of the generated data");
  sb->add_option("--api-key", sbo.api_key, "the API key it accepts");
  sb->add_option("--churn", sbo.churn, "records of each stream changed every 20s");
  sb->add_option("--invalid", sbo.invalid_at_start, "records per stream missing a required field");
  sb->add_option("--invalid-stream", sbo.invalid_stream, "only this stream gets --invalid records")
      ->check(CLI::IsMember(sandbox::dataset::streams()));
  sb->add_option("--statements-dir", sbo.statements_dir,
                 "where POST /_sandbox/statements writes bank statement files (a drop folder)");

  client_opts co;
  config_opts cfg;
  std::string name, stream, entity, record_id, feed_integration;
  bool wait = false, full = false, follow = false, with_records = false;
  size_t limit = 0;
  uint64_t since = 0;

  auto* add = app.add_subcommand("add", "add an integration");
  add->add_option("NAME", name, "integration name")->required();
  add_config_opts(add, cfg);
  add_client_opts(add, co, true);
  auto* configure =
      app.add_subcommand("configure", "change an integration's settings (rotate its key)");
  configure->add_option("NAME", name)->required();
  add_config_opts(configure, cfg);
  add_client_opts(configure, co, true);

  std::string kind;
  auto* connectors =
      app.add_subcommand("connectors", "the connector kinds, or one kind's settings and streams");
  connectors->add_option("KIND", kind, "one connector kind in full");
  add_client_opts(connectors, co, true);

  auto* list = app.add_subcommand("list", "every integration's status at a glance");
  add_client_opts(list, co, true);
  auto* status = app.add_subcommand("status", "status of one integration, or all");
  status->add_option("NAME", name);
  add_client_opts(status, co, true);
  auto* show = app.add_subcommand("show", "settings, streams, counts and recent runs");
  show->add_option("NAME", name)->required();
  add_client_opts(show, co, true);
  std::map<std::string, CLI::App*> simple;
  bool yes = false;
  for (auto [cmd, help] : {std::pair{"enable", "enable syncing"},
                           {"disable", "stop syncing, keep settings"},
                           {"remove", "delete the integration and its data"},
                           {"test", "test the connection"}}) {
    auto* c = app.add_subcommand(cmd, help);
    c->add_option("NAME", name)->required();
    add_client_opts(c, co, true);
    simple[cmd] = c;
  }
  simple["remove"]->add_flag("--yes,-y", yes, "remove without asking (asked only on a terminal)");
  connect_options conn_opts;
  auto* connect_cmd = app.add_subcommand(
      "connect", "sign in with OAuth 2.0 (a browser, or --client-credentials) and store the token");
  connect_cmd->add_option("NAME", name)->required();
  connect_cmd->add_flag("--no-browser", conn_opts.no_browser,
                        "print the sign-in URL only; open it yourself (any browser on this host)");
  connect_cmd->add_flag("--client-credentials", conn_opts.client_credentials,
                        "sign in with the client id and secret alone, no browser (where the "
                        "vendor offers it: Xero custom connections)");
  connect_cmd
      ->add_option("--wait-seconds", conn_opts.wait_s,
                   "how long to wait for the browser's redirect (default 300)")
      ->check(whole_number(1, 3600));
  add_client_opts(connect_cmd, co, true);
  auto* sync = app.add_subcommand("sync", "sync now (manual syncs are rate-limited)");
  sync->add_option("NAME", name)->required();
  sync->add_flag("--wait", wait, "wait for the run and show its progress");
  sync->add_flag("--full", full, "fetch everything, not only what changed");
  add_client_opts(sync, co, true);
  auto* logs = app.add_subcommand("logs", "the sync log");
  logs->add_option("NAME", name)->required();
  logs->add_option("--limit", limit, "newest N events (default 50)")
      ->check(whole_number(1, 100000));
  add_client_opts(logs, co, true);
  auto* records = app.add_subcommand("records", "synced records");
  records->add_option("NAME", name)->required();
  records->add_option("--stream", stream, "one stream only");
  records->add_option("--entity", entity,
                      "only records of this canonical entity (customer, invoice, payment, …), "
                      "from whichever streams hold it");
  records->add_option("--limit", limit, "at most N records")->check(whole_number(1, 100000000));
  bool include_deleted = false;
  records->add_flag("--include-deleted", include_deleted,
                    "also records gone upstream (tombstones, marked deleted)");
  records->add_option("--id", record_id, "one record by its upstream id (in --stream, or any)");
  add_client_opts(records, co, true);
  std::string dismiss_id;
  bool include_dismissed = false;
  auto* aside =
      app.add_subcommand("set-aside", "records set aside by validation, with the fields they lack");
  aside->add_option("NAME", name)->required();
  aside->add_option("--dismiss", dismiss_id,
                    "accept this record as unfixable (the sync log keeps who and when)");
  aside->add_option("--stream", stream, "the record's stream (when ids repeat across streams)");
  aside->add_flag("--all", include_dismissed, "list dismissed records too");
  add_client_opts(aside, co, true);
  auto* changes = app.add_subcommand("changes", "the change feed");
  changes->add_option("--since", since, "entries after this sequence number")
      ->check(whole_number(0));
  changes->add_option("--limit", limit, "at most N entries")->check(whole_number(1, 100000000));
  changes->add_option("--integration", feed_integration, "one integration's entries only");
  changes->add_flag("--follow", follow, "wait for new entries until interrupted (Ctrl-C)");
  changes->add_flag("--with-records", with_records,
                    "each entry carries the record's current body (null when gone)");
  add_client_opts(changes, co, true);

  push_options push_opts;
  auto* push = app.add_subcommand(
      "push", "send records to the vendor (customers, invoices, payments), each exactly once");
  push->add_option("NAME", name)->required();
  push->add_option("--entity", push_opts.entity, "what the file holds: customer, invoice or payment")
      ->check(CLI::IsMember({"customer", "invoice", "payment"}));
  push->add_option("--file", push_opts.file,
                   "NDJSON, one item per line: {\"external_id\", \"op\", \"fields\"} (- = stdin)");
  push->add_option("--retry", push_opts.retry, "send a failed or conflicting item again")
      ->check(whole_number(1));
  push->add_flag("--wait", push_opts.wait, "wait until the items are sent and show each outcome");
  add_client_opts(push, co, true);
  pushes_options pushes_opts;
  auto* pushes = app.add_subcommand("pushes", "pushed items and their status");
  pushes->add_option("NAME", name)->required();
  pushes->add_option("--status", pushes_opts.status, "only items with this status")
      ->check(CLI::IsMember({"pending", "sending", "succeeded", "failed", "conflict", "superseded"}));
  pushes->add_option("--entity", pushes_opts.entity, "only items of this entity");
  pushes->add_option("--external-id", pushes_opts.external_id, "one record's items");
  pushes->add_option("--limit", pushes_opts.limit, "at most N items")->check(whole_number(1));
  add_client_opts(pushes, co, true);

  bool json_errors = false;
  for (int i = 1; i < argc; ++i) json_errors = json_errors || std::string(argv[i]) == "--json";
  set_json_errors(json_errors);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    auto parsed = app.get_subcommands();
    if (parsed.empty()) {  // no command, or one we do not have: say which there are
      std::string word, list, names;
      for (int i = 1; i < argc && word.empty(); ++i)
        if (argv[i][0] != '-') word = argv[i];
      for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        auto n = sub->get_name();
        list += "\n    " + n + std::string(n.size() < 11 ? 11 - n.size() : 1, ' ') +
                sub->get_description();
        names += (names.empty() ? "" : ", ") + n;
      }
      die(usage, word.empty() ? "a command is required" : "unknown command '" + word + "'",
          json_errors ? "commands: " + names : "run one of these commands:" + list);
    }
    die(usage, e.what(), "`ledgersync " + parsed.back()->get_name() + " --help` shows its options");
  }

  if (auto code = run_serve_commands(serving)) return *code;
  if (auto code = run_token_commands(tokens)) return *code;
  if (auto code = run_webhook_commands(hooks)) return *code;
  if (demo->parsed()) {
    serve_options d;
    d.data_dir = demo_dir.empty()
                     ? std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/ledgersync-demo"
                     : demo_dir;
    d.port = 0;
    d.demo = true;
    d.demo_records = demo_records;
    return run_service(d);
  }
  if (sb->parsed()) return run_sandbox(sbo);

  // Before the client's threads start: they inherit the blocked signals.
  std::mutex* output = changes->parsed() && follow ? &stop_on_interrupt() : nullptr;
  // The command line's own mistakes (a bad value, an unreadable file) before the service's.
  json changes_json;
  if (add->parsed() || configure->parsed())
    changes_json = config_changes(cfg, add->parsed() ? add : configure);
  if (configure->parsed() && changes_json.empty() && !cfg.run_after_save)
    die(usage, "configure: nothing to change");
  auto c = connect(co);
  if (add->parsed() || configure->parsed()) {
    reply r;
    if (add->parsed()) {
      // The defaults of what is not given are the service's (the add operation's).
      json conf = changes_json;
      conf["name"] = name;
      r = c->call("add", "", {{"config", conf}, {"run_after_save", cfg.run_after_save}});
    } else {
      if (!cfg.options.empty() && !changes_json.contains("connector")) {
        // Each --option is read as its setting's type, which the integration's kind says.
        auto shown = c->call("show", name);
        if (shown.code == 0 && shown.body.contains("config"))
          changes_json["settings"] = settings_changes(
              cfg, shown.body["config"].value("connector", std::string("rest")));
      }
      r = c->call("configure", name,
                  {{"changes", changes_json}, {"run_after_save", cfg.run_after_save}});
    }
    return report(r, co.json_out, [&](const json& b) {
      std::cout << (add->parsed() ? "added " : "saved ") << name << "\n";
      if (b.contains("streams"))
        for (auto* what : {"added", "restarted", "removed"})
          for (auto& s : b["streams"].value(what, json::array()))
            std::cout << "stream " << s.get<std::string>() << ": " << what
                      << (std::string(what) == "removed" ? "" : " (its next sync reads it in full)")
                      << "\n";
      if (b.contains("streams_note")) std::cout << b["streams_note"].get<std::string>() << "\n";
      if (b.contains("sync")) std::cout << "sync: " << b["sync"].value("message", "") << "\n";
    });
  }
  if (connectors->parsed()) {
    auto r = c->call("connectors", "", kind.empty() ? json::object() : json{{"kind", kind}});
    return report(r, co.json_out, [&](const json& b) {
      if (kind.empty())
        print_connectors(b);
      else
        print_connector(b);
    });
  }
  if (list->parsed() || (status->parsed() && name.empty())) {
    if (co.json_out) return report(c->call_text("list", ""), true, {});
    return report(c->call("list", ""), false, [](const json& b) { print_status_table(b); });
  }
  if (status->parsed()) {
    if (co.json_out) return report(c->call_text("status", name), true, {});
    return report(c->call("status", name), false, [](const json& b) { print_status_detail(b); });
  }
  if (show->parsed()) {
    auto r = c->call("show", name);
    if (r.code != 0 || co.json_out) return report(r, co.json_out, [](const json&) {});
    auto s = c->call("status", name);
    print_show(r.body, s.body);
    print_retention(r.body);
    return ok;
  }
  if (simple["remove"]->parsed() && !yes && ::isatty(STDIN_FILENO)) {
    auto s = c->call("show", name);
    if (s.code != 0) return report(s, co.json_out, [](const json&) {});
    uint64_t n = 0;
    for (auto& [stream, count] : s.body["records"].items()) n += count.get<uint64_t>();
    if (!confirm(std::cin, std::cerr,
                 "Remove " + name + " with its " + std::to_string(n) +
                     " records, cursors and sync log? This cannot be undone."))
      die(failed, name + " was not removed", "answer y to remove it, or pass --yes");
  }
  for (auto& [cmd, sub] : simple)
    if (sub->parsed())
      return report(c->call(cmd, name), co.json_out, [&, cmd = cmd](const json& b) {
        if (cmd == "test") {
          std::cout << b.value("message", "connected") << "\n";
          if (b.contains("certificate") && b["certificate"].is_object()) {
            auto& cert = b["certificate"];
            std::cout << "server certificate: " << cert.value("subject", "") << "\n"
                      << "  issued by: " << cert.value("issuer", "") << "\n"
                      << "  expires:   " << cert.value("expires", "") << "\n";
          }
        } else
          std::cout << cmd << (cmd == "remove" ? "d " : "d ") << name << "\n";
      });
  if (push->parsed()) {
    push_opts.json_out = co.json_out;
    return run_push(*c, name, push_opts);
  }
  if (pushes->parsed()) {
    pushes_opts.json_out = co.json_out;
    return run_pushes(*c, name, pushes_opts);
  }
  if (connect_cmd->parsed()) {
    conn_opts.json_out = co.json_out;
    return run_connect(*c, name, conn_opts);
  }
  if (sync->parsed()) {
    auto r = c->call("sync", name, {{"full", full}});
    if (r.code != 0 || !wait) {
      return report(r, co.json_out,
                    [](const json& b) { std::cout << b.value("message", "") << "\n"; });
    }
    if (!co.json_out) std::cout << r.body.value("message", "") << std::endl;
    return wait_for_run(*c, name, r.body.value("run_id", uint64_t{0}), co.json_out);
  }
  if (logs->parsed())
    return report(c->call("logs", name, {{"limit", limit ? limit : 50}}), false,
                  [&](const json& b) {
                    for (auto& e : b) {
                      if (co.json_out)
                        std::cout << e.dump() << "\n";
                      else
                        print_log_line(e, name);
                    }
                  });
  if (records->parsed()) {
    // The service pages; this follows its `next` until done or --limit rows are shown.
    bool by_id = records->count("--id") > 0;
    json next;
    size_t shown = 0;
    do {
      size_t page = limit ? std::min<size_t>(1000, limit - shown) : 1000;
      json args{{"stream", stream}, {"include_deleted", include_deleted}};
      if (!entity.empty()) args["entity"] = entity;
      if (by_id)
        args["id"] = record_id;
      else
        args["limit"] = page;
      if (next.is_string()) args["after"] = next;
      auto r = c->call("records", name, args);
      if (r.code != 0) return report(r, false, [](const json&) {});
      for (auto& row : r.body["records"]) {
        if (co.json_out) {
          std::cout << row.dump() << "\n";
          continue;
        }
        auto rec = row["record"].dump();
        if (rec.size() > 100) rec = rec.substr(0, 97) + "...";
        std::cout << row["stream"].get<std::string>() << "  " << row["id"].get<std::string>()
                  << "  " << row["updated_at"].get<std::string>() << "  "
                  << (row.value("deleted", false) ? "(deleted) " : "") << rec << "\n";
      }
      shown += r.body["records"].size();
      next = r.body.value("next", json());
    } while (next.is_string() && (!limit || shown < limit));
    return ok;
  }
  if (aside->parsed()) {
    if (!dismiss_id.empty()) {
      auto* pw = ::getpwuid(::geteuid());
      std::string by = pw ? pw->pw_name : "uid " + std::to_string(::geteuid());
      auto r = c->call("dismiss", name, {{"id", dismiss_id}, {"stream", stream}, {"by", by}});
      return report(r, co.json_out, [&](const json& b) {
        std::cout << "dismissed " << dismiss_id << "; " << b.value("set_aside", 0)
                  << " record(s) still set aside\n";
      });
    }
    auto r = c->call("set_aside", name, {{"include_dismissed", include_dismissed}});
    return report(r, co.json_out, [&](const json& b) { print_set_aside(b); });
  }
  if (changes->parsed()) {
    // Pages of at most 1000; with --follow, a request that finds nothing new waits in the
    // service (bounded, well inside the client's reply deadline) and the loop asks again.
    size_t shown = 0;
    for (;;) {
      size_t page = limit ? std::min<size_t>(1000, limit - shown) : 1000;
      json args{{"since", since}, {"limit", page}, {"with_records", with_records}};
      if (!feed_integration.empty()) args["integration"] = feed_integration;
      if (follow) args["wait_ms"] = 25000;
      auto r = c->call("changes", "", args);
      if (r.code != 0) return report(r, false, [](const json&) {});
      auto& rows = r.body["changes"];
      {
        std::unique_lock<std::mutex> hold;
        if (output) hold = std::unique_lock<std::mutex>(*output);
        for (auto& row : rows) {
          if (co.json_out) {
            std::cout << row.dump() << "\n";
            continue;
          }
          std::cout << row["seq"] << "  " << row.value("at", "-") << "  "
                    << row["integration"].get<std::string>() << "  "
                    << row["stream"].get<std::string>() << "  " << row["id"].get<std::string>()
                    << "  " << row["op"].get<std::string>();
          if (row.contains("record")) {
            auto rec = row["record"].dump();
            if (rec.size() > 100) rec = rec.substr(0, 97) + "...";
            std::cout << "  " << rec;
          }
          std::cout << "\n";
        }
        std::cout.flush();
      }
      shown += rows.size();
      auto before = since;
      since = r.body.value("next_since", rows.empty() ? since : rows.back()["seq"].get<uint64_t>());
      if (limit && shown >= limit) break;
      if (!follow && (since >= r.body.value("last_seq", since) || since == before)) break;
    }
    return ok;
  }
  return usage;
}
