#include "notify/subscriptions.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/private_file.hpp"
#include "notify/signing.hpp"

namespace ledgersync::notify {

using json = nlohmann::json;

namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json to_json(const delivery_record& d) {
  json j{
      {"delivery_id", d.delivery_id}, {"event", d.event},    {"at", d.at}, {"attempt", d.attempt},
      {"duration_ms", d.duration_ms}, {"outcome", d.outcome}};
  if (d.status) j["status"] = d.status;
  if (!d.error.empty()) j["error"] = d.error;
  return j;
}

json to_json(const subscription& s) {
  json deliveries = json::array();
  for (auto& d : s.deliveries) deliveries.push_back(to_json(d));
  return {{"id", s.id},
          {"url", s.url},
          {"events", s.events},
          {"secret_sealed", s.sealed_secret},
          {"created_at", s.created_at},
          {"state", s.state},
          {"paused_reason", s.paused_reason},
          {"consecutive_failures", s.consecutive_failures},
          {"deliveries", deliveries}};
}

bool from_json(const json& j, subscription& s) {
  if (!j.is_object() || !j.value("id", json()).is_string() || !j.value("url", json()).is_string())
    return false;
  s.id = j["id"];
  s.url = j["url"];
  s.sealed_secret = j.value("secret_sealed", "");
  s.created_at = j.value("created_at", "");
  s.state = j.value("state", "active");
  s.paused_reason = j.value("paused_reason", "");
  s.consecutive_failures = j.value("consecutive_failures", 0);
  auto events = j.value("events", json::array());
  if (!events.is_array() || (s.state != "active" && s.state != "paused")) return false;
  for (auto& e : events)
    if (e.is_string()) s.events.push_back(e);
  for (auto& d : j.value("deliveries", json::array())) {
    if (!d.is_object()) return false;
    delivery_record r;
    r.delivery_id = d.value("delivery_id", "");
    r.event = d.value("event", "");
    r.at = d.value("at", "");
    r.attempt = d.value("attempt", 1);
    r.status = d.value("status", 0);
    r.error = d.value("error", "");
    r.duration_ms = d.value("duration_ms", int64_t{0});
    r.outcome = d.value("outcome", "");
    s.deliveries.push_back(std::move(r));
  }
  return true;
}

}  // namespace

const std::vector<std::string>& known_events() {
  static const std::vector<std::string> all = {"status_changed", "run_failed",   "run_succeeded",
                                               "set_aside",      "disconnected", "push_failed"};
  return all;
}

bool subscription::wants(std::string_view event) const {
  return std::find(events.begin(), events.end(), event) != events.end();
}

std::string url_problem(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u)
    return "'" + std::string(url) + "' is not an absolute URL (expected http://HOST/... or " +
           "https://HOST/...)";
  auto scheme = u->scheme();
  if (scheme != "http" && scheme != "https")
    return "'" + std::string(url) + "': a webhook goes over http or https only, not " +
           std::string(scheme) + "://";
  if (!u->has_authority() || u->host().empty()) return "'" + std::string(url) + "' names no host";
  if (u->has_fragment()) return "'" + std::string(url) + "' has a #fragment, which is never sent";
  return "";
}

std::optional<std::vector<std::string>> parse_events(std::string_view text, notify_error& err) {
  std::vector<std::string> out;
  auto add = [&](std::string_view name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.emplace_back(name);
  };
  while (!text.empty()) {
    auto comma = text.find(',');
    auto name = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) continue;
    if (name == "*") {
      for (auto& e : known_events()) add(e);
      continue;
    }
    auto& all = known_events();
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      std::string list;
      for (auto& e : all) list += (list.empty() ? "" : ", ") + e;
      err = {notify_error::invalid,
             "unknown event '" + std::string(name) + "': the events are " + list + " (or *)"};
      return std::nullopt;
    }
    add(name);
  }
  if (out.empty()) {
    err = {notify_error::invalid, "no events given: name at least one, or * for all"};
    return std::nullopt;
  }
  return out;
}

subscription_store::subscription_store(std::string path, const secret_box* box)
    : file_(std::move(path)), box_(box) {}

bool subscription_store::refresh(notify_error& err) {
  std::string text, why;
  switch (file_.poll(text, why)) {
    case watched_file::state::unreadable:
      err = {notify_error::io, why};
      return false;
    case watched_file::state::unchanged:
      if (load_error_.empty()) return true;
      err = {notify_error::io, load_error_};
      return false;
    case watched_file::state::absent:  // no file yet: no subscriptions
      subs_.clear();
      load_error_.clear();
      return true;
    case watched_file::state::changed:
      break;
  }
  subs_.clear();
  load_error_.clear();
  auto j = json::parse(text, nullptr, false);
  auto fail = [&](const std::string& why) {
    subs_.clear();
    load_error_ = "the webhook file " + file_.path() + " is damaged (" + why +
                  "); no webhook is delivered until it is fixed or removed";
    err = {notify_error::io, load_error_};
    return false;
  };
  if (!j.is_object() || !j.value("webhooks", json()).is_array()) return fail("not a webhook list");
  for (auto& w : j["webhooks"]) {
    subscription s;
    if (!from_json(w, s)) return fail("an entry lacks an id, url or valid state");
    subs_.push_back(std::move(s));
  }
  return true;
}

bool subscription_store::save(const std::vector<subscription>& subs, notify_error& err) {
  json list = json::array();
  for (auto& s : subs) list.push_back(to_json(s));
  auto text = json{{"webhooks", list}}.dump(2) + "\n";
  std::string why;
  if (write_private_file(file_.path(), text, why)) return true;
  err = {notify_error::io, why};
  return false;
}

template <class F>
bool subscription_store::modify(notify_error& err, F&& change) {
  std::lock_guard lock(mu_);
  std::string why;
  auto other_writers = file_lock::take(file_.path(), why);
  if (!other_writers) {
    err = {notify_error::io, why};
    return false;
  }
  file_.forget();
  if (!refresh(err)) return false;
  auto next = subs_;
  if (!change(next)) return false;
  return save(next, err);
}

std::optional<created_subscription> subscription_store::add(const std::string& url,
                                                            const std::vector<std::string>& events,
                                                            notify_error& err) {
  if (auto why = url_problem(url); !why.empty()) {
    err = {notify_error::invalid, why};
    return std::nullopt;
  }
  std::string joined;
  for (auto& e : events) joined += e + ",";
  auto wanted = parse_events(joined, err);  // also expands "*"
  if (!wanted) return std::nullopt;
  if (!box_) {
    err = {notify_error::io, "no sealing key at hand to keep the webhook's secret"};
    return std::nullopt;
  }
  created_subscription out;
  out.secret = "whsec_" + random_hex(32);
  out.sub.id = "wh_" + random_hex(6);
  out.sub.url = url;
  out.sub.events = *wanted;
  out.sub.sealed_secret = box_->seal(out.secret);
  out.sub.created_at = now_iso();
  if (!modify(err, [&](std::vector<subscription>& next) {
        next.push_back(out.sub);
        return true;
      }))
    return std::nullopt;
  return out;
}

std::optional<std::vector<subscription>> subscription_store::list(notify_error& err) {
  std::lock_guard lock(mu_);
  if (!refresh(err)) return std::nullopt;
  return subs_;
}

std::optional<subscription> subscription_store::get(const std::string& id, notify_error& err) {
  std::lock_guard lock(mu_);
  if (!refresh(err)) return std::nullopt;
  for (auto& s : subs_)
    if (s.id == id) return s;
  err = {notify_error::not_found, "no webhook with id '" + id + "'"};
  return std::nullopt;
}

namespace {
subscription* find(std::vector<subscription>& subs, const std::string& id, notify_error& err) {
  for (auto& s : subs)
    if (s.id == id) return &s;
  err = {notify_error::not_found, "no webhook with id '" + id + "'"};
  return nullptr;
}
}  // namespace

bool subscription_store::remove(const std::string& id, notify_error& err) {
  return modify(err, [&](std::vector<subscription>& next) {
    if (!find(next, id, err)) return false;
    std::erase_if(next, [&](const subscription& s) { return s.id == id; });
    return true;
  });
}

bool subscription_store::resume(const std::string& id, notify_error& err) {
  return modify(err, [&](std::vector<subscription>& next) {
    auto* s = find(next, id, err);
    if (!s) return false;
    s->state = "active";
    s->paused_reason.clear();
    s->consecutive_failures = 0;
    return true;
  });
}

bool subscription_store::pause(const std::string& id, const std::string& reason,
                               notify_error& err) {
  return modify(err, [&](std::vector<subscription>& next) {
    auto* s = find(next, id, err);
    if (!s) return false;
    s->state = "paused";
    s->paused_reason = reason;
    return true;
  });
}

std::optional<subscription> subscription_store::record_delivery(const std::string& id,
                                                                const delivery_record& rec,
                                                                notify_error& err) {
  subscription after;
  bool ok = modify(err, [&](std::vector<subscription>& next) {
    auto* s = find(next, id, err);
    if (!s) return false;
    s->deliveries.push_back(rec);
    if (s->deliveries.size() > subscription::max_recent)
      s->deliveries.erase(s->deliveries.begin(), s->deliveries.end() - subscription::max_recent);
    if (rec.outcome == "delivered") s->consecutive_failures = 0;
    if (rec.outcome == "failed") ++s->consecutive_failures;
    after = *s;
    return true;
  });
  if (!ok) return std::nullopt;
  return after;
}

std::optional<std::string> subscription_store::secret_of(const subscription& s,
                                                         notify_error& err) const {
  if (!box_) {
    err = {notify_error::io, "no sealing key at hand to read the webhook's secret"};
    return std::nullopt;
  }
  auto plain = box_->unseal(s.sealed_secret);
  if (!plain)
    err = {notify_error::io, "the secret of webhook " + s.id +
                                 " cannot be unsealed with this key (was the key replaced?)"};
  return plain;
}

nlohmann::json describe(const delivery_record& d) {
  nlohmann::json j{{"delivery_id", d.delivery_id}, {"event", d.event},    {"at", d.at},
                   {"attempt", d.attempt},         {"status", nullptr},   {"error", nullptr},
                   {"duration_ms", d.duration_ms}, {"outcome", d.outcome}};
  if (d.status) j["status"] = d.status;
  if (!d.error.empty()) j["error"] = d.error;
  return j;
}

nlohmann::json describe(const subscription& s) {
  nlohmann::json j{{"id", s.id},
                   {"url", s.url},
                   {"events", s.events},
                   {"created_at", s.created_at},
                   {"state", s.state},
                   {"paused_reason",
                    s.paused_reason.empty() ? nlohmann::json() : nlohmann::json(s.paused_reason)},
                   {"consecutive_failures", s.consecutive_failures},
                   {"last_delivery", nullptr}};
  if (!s.deliveries.empty()) j["last_delivery"] = describe(s.deliveries.back());
  return j;
}

}  // namespace ledgersync::notify
