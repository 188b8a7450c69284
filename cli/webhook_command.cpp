#include "cli/webhook_command.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "actors/service.hpp"
#include "cli/client.hpp"
#include "cli/errors.hpp"
#include "notify/subscriptions.hpp"
#include "storage/secrets.hpp"

namespace ledgersync::cli {

using nlohmann::json;

std::string webhooks_path(const std::string& data_dir) {
  return data_dir + "/webhooks.json";
}

void add_webhook_commands(CLI::App& app, webhook_command& c) {
  c.webhook = app.add_subcommand("webhook", "webhook notifications: signed POSTs on events");
  c.webhook->require_subcommand(1);
  c.webhook->add_option("--data-dir", c.data_dir, "the service's data dir");
  c.webhook->add_option("--secrets-key-file", c.key_file,
                        "the sealing key, when the service keeps it outside the data dir");
  c.webhook->add_flag("--json", c.json, "answer in JSON");
  c.add = c.webhook->add_subcommand("add", "subscribe a URL; its signing secret is printed once");
  c.add->add_option("URL", c.url, "http:// or https:// URL that receives the POSTs")->required();
  c.add
      ->add_option("--events", c.events,
                   "comma-separated: status_changed, run_failed, run_succeeded, set_aside, "
                   "disconnected, push_failed, or * for all")
      ->required();
  c.list = c.webhook->add_subcommand("list", "the subscriptions, their state and last delivery");
  c.deliveries = c.webhook->add_subcommand("deliveries", "a subscription's recent attempts");
  c.deliveries->add_option("ID", c.id, "as `webhook list` shows")->required();
  c.resume = c.webhook->add_subcommand("resume", "deliver again to a paused subscription");
  c.resume->add_option("ID", c.id, "as `webhook list` shows")->required();
  c.remove = c.webhook->add_subcommand("remove", "delete a subscription at once");
  c.remove->add_option("ID", c.id, "as `webhook list` shows")->required();
  for (auto* sub : {c.add, c.list, c.deliveries, c.resume, c.remove}) sub->fallthrough();
}

namespace {

[[noreturn]] void fail(const notify::notify_error& e) {
  switch (e.what) {
    case notify::notify_error::invalid:
      die(usage, e.message);
    case notify::notify_error::not_found:
      die(not_found, e.message, "`ledgersync webhook list` shows the ids there are");
    default:
      die(failed, e.message);
  }
}

using notify::describe;

std::string result_text(const notify::delivery_record& d) {
  return d.status ? "HTTP " + std::to_string(d.status) : d.error;
}

// The service's key: a separate file when it keeps one, else DIR/master.key. Never made here:
// a master.key created beside a configured key file would stop the service from starting.
secret_box open_key(const webhook_command& c, const std::string& dir) {
  std::string error;
  std::optional<secret_box> box;
  if (!c.key_file.empty()) {
    box = secret_box::open_key_file(c.key_file, dir, error);
  } else {
    struct stat st {};
    if (::stat((dir + "/master.key").c_str(), &st) != 0)
      die(failed, "no sealing key in " + dir + " to keep the webhook's secret",
          "start the service once (it makes " + dir +
              "/master.key), or pass --secrets-key-file when the service keeps its key elsewhere");
    box = secret_box::open(dir, error);
  }
  if (!box) die(failed, error);
  return *box;
}

}  // namespace

std::optional<int> run_webhook_commands(webhook_command& c) {
  if (!c.webhook->parsed()) return std::nullopt;
  auto dir = c.data_dir.empty() ? default_data_dir() : c.data_dir;
  notify::notify_error err;
  if (c.add->parsed()) {
    // Bad input is refused before the key is needed.
    if (auto why = notify::url_problem(c.url); !why.empty()) die(usage, why);
    auto events = notify::parse_events(c.events, err);
    if (!events) die(usage, "--events: " + err.message);
    auto box = open_key(c, dir);
    notify::subscription_store store(webhooks_path(dir), &box);
    auto made = store.add(c.url, *events, err);
    if (!made) fail(err);
    if (c.json) {
      auto j = describe(made->sub);
      j["secret"] = made->secret;
      std::cout << j.dump() << "\n";
    } else {
      std::cout << made->secret << "\n"
                << "(webhook " << made->sub.id << " for " << made->sub.url
                << ". The secret signs every delivery and is shown only now: keep it where the "
                   "receiver checks the Ledgersync-Signature header.)\n";
    }
    return 0;
  }
  notify::subscription_store store(webhooks_path(dir), nullptr);
  if (c.list->parsed()) {
    auto subs = store.list(err);
    if (!subs) fail(err);
    if (c.json) {
      auto out = json::array();
      for (auto& s : *subs) out.push_back(describe(s));
      std::cout << out.dump() << "\n";
    } else if (subs->empty()) {
      std::cout << "No webhooks. Add one with `ledgersync webhook add URL --events *`.\n";
    } else {
      std::printf("%-16s %-7s %-8s %-36s %s\n", "ID", "STATE", "FAILURES", "LAST DELIVERY", "URL");
      for (auto& s : *subs) {
        std::string last = "-";
        if (!s.deliveries.empty()) {
          auto& d = s.deliveries.back();
          last = d.outcome + " (" + result_text(d) + ") " + d.at;
        }
        std::printf("%-16s %-7s %-8d %-36s %s\n", s.id.c_str(), s.state.c_str(),
                    s.consecutive_failures, last.c_str(), s.url.c_str());
        if (s.state == "paused") std::printf("  paused: %s\n", s.paused_reason.c_str());
      }
    }
    return 0;
  }
  if (c.deliveries->parsed()) {
    auto s = store.get(c.id, err);
    if (!s) fail(err);
    if (c.json) {
      auto out = json::array();
      for (auto& d : s->deliveries) out.push_back(describe(d));
      std::cout << out.dump() << "\n";
    } else if (s->deliveries.empty()) {
      std::cout << "No deliveries to " << s->id << " yet.\n";
    } else {
      std::printf("%-24s %-20s %-16s %-7s %-10s %-8s %s\n", "AT", "DELIVERY", "EVENT", "ATTEMPT",
                  "OUTCOME", "MS", "RESULT");
      for (auto& d : s->deliveries)
        std::printf("%-24s %-20s %-16s %-7d %-10s %-8lld %s\n", d.at.c_str(), d.delivery_id.c_str(),
                    d.event.c_str(), d.attempt, d.outcome.c_str(),
                    static_cast<long long>(d.duration_ms), result_text(d).c_str());
    }
    return 0;
  }
  bool resuming = c.resume->parsed();
  if (!(resuming ? store.resume(c.id, err) : store.remove(c.id, err))) fail(err);
  if (c.json)
    std::cout << json{{resuming ? "resumed" : "removed", c.id}}.dump() << "\n";
  else if (resuming)
    std::cout << "resumed " << c.id << ": the next events are delivered to it again\n";
  else
    std::cout << "removed " << c.id << "; no more deliveries go to it\n";
  return 0;
}

}  // namespace ledgersync::cli
