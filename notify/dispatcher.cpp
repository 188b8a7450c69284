#include "notify/dispatcher.hpp"

#include <algorithm>

#include "notify/signing.hpp"

namespace ledgersync::notify {

using namespace std::chrono;

std::optional<milliseconds> retry_schedule::delay_after(int attempt) const {
  if (attempt < 1 || attempt >= s_.max_attempts) return std::nullopt;
  auto d = s_.first_delay;
  for (int i = 1; i < attempt && d < s_.max_delay; ++i) d *= 2;
  return std::min(d, s_.max_delay);
}

sys_ms system_clock_source::now() const {
  return time_point_cast<milliseconds>(system_clock::now());
}

dispatcher::dispatcher(subscription_store& store, const secret_box& box, http_transport& transport,
                       const clock_source& clock, retry_settings settings)
    : store_(store), box_(box), transport_(transport), clock_(clock), schedule_(settings) {}

dispatcher::~dispatcher() {
  stop();
}

void dispatcher::notify(const std::string& type, nlohmann::json data) {
  // The body is made here, once, so every subscription and attempt carries the same event id.
  auto body = make_payload("evt_" + random_hex(8), type, format_iso(clock_.now()), data);
  {
    std::lock_guard lock(s_->mu);
    if (s_->events.size() >= schedule_.settings().max_pending) {
      s_->events.pop_front();
      ++s_->c.dropped;
    }
    s_->events.push_back({type, std::move(body)});
  }
  s_->wake.notify_one();
}

void dispatcher::start() {
  if (worker_.joinable()) return;
  {
    std::lock_guard lock(s_->mu);
    s_->stopping = false;
  }
  worker_ = std::thread([this] { loop(); });
}

void dispatcher::stop() {
  {
    std::lock_guard lock(s_->mu);
    s_->stopping = true;
  }
  s_->wake.notify_all();
  if (worker_.joinable()) worker_.join();
}

void dispatcher::loop() {
  std::unique_lock lock(s_->mu);
  while (!s_->stopping) {
    lock.unlock();
    auto next = run_due();
    lock.lock();
    if (s_->stopping) break;
    if (!s_->answers.empty() || !s_->events.empty()) continue;
    // At most a second, so a clock that jumps (NTP) delays a retry by no more than that.
    milliseconds wait{1000};
    if (next)
      wait = std::clamp(duration_cast<milliseconds>(*next - clock_.now()), milliseconds{0},
                        milliseconds{1000});
    s_->wake.wait_for(lock, wait);
  }
}

dispatcher::counters dispatcher::stats() const {
  std::lock_guard lock(s_->mu);
  auto c = s_->c;
  c.queued = s_->events.size();
  c.waiting = s_->waiting.size();
  return c;
}

std::optional<sys_ms> dispatcher::run_due() {
  std::vector<answer> answers;
  std::deque<pending_event> events;
  {
    std::lock_guard lock(s_->mu);
    answers.swap(s_->answers);
    events.swap(s_->events);
  }
  for (auto& a : answers) handle(std::move(a));

  auto now = clock_.now();
  std::vector<job> fresh;
  if (!events.empty()) {
    notify_error err;
    auto subs = store_.list(err);
    // A damaged or unreadable file: nothing can be delivered, and the store says why to
    // whoever lists the webhooks; the events count as dropped.
    if (!subs) {
      std::lock_guard lock(s_->mu);
      s_->c.dropped += events.size();
    }
    for (auto& e : events)
      for (auto& s : subs ? *subs : std::vector<subscription>{})
        if (s.state == "active" && s.wants(e.type))
          fresh.push_back({"dlv_" + random_hex(8), s.id, s.url, e.type, e.body, 0, now, {}});
  }

  std::vector<job> due;
  std::optional<sys_ms> next;
  {
    std::lock_guard lock(s_->mu);
    for (auto& j : fresh) {
      if (s_->waiting.size() >= schedule_.settings().max_pending) {
        s_->waiting.pop_front();
        ++s_->c.dropped;
      }
      s_->waiting.push_back(std::move(j));
    }
    for (auto it = s_->waiting.begin(); it != s_->waiting.end();) {
      if (it->due <= now) {
        due.push_back(std::move(*it));
        it = s_->waiting.erase(it);
      } else {
        next = next ? std::min(*next, it->due) : it->due;
        ++it;
      }
    }
    s_->c.in_flight += due.size();
  }
  for (auto& j : due) send(std::move(j));
  return next;
}

void dispatcher::send(job j) {
  notify_error err;
  auto sub = store_.get(j.subscription_id, err);
  std::optional<std::string> secret;
  if (sub && sub->state == "active") secret = box_.unseal(sub->sealed_secret);
  if (!secret) {
    // Removed or paused since the event was queued (or its secret is unreadable): no send.
    std::lock_guard lock(s_->mu);
    --s_->c.in_flight;
    return;
  }
  ++j.attempt;
  j.sent = clock_.now();
  http_request req;
  req.method = "POST";
  req.url = sub->url;
  req.body = j.body;
  req.headers = delivery_headers(*secret, duration_cast<seconds>(j.sent.time_since_epoch()).count(),
                                 j.event, j.delivery_id, j.body);
  req.timeout_ms = schedule_.settings().timeout.count();
  // The answer is not read; the bound only stops a receiver that never ends its body.
  req.max_body_bytes = 1 << 20;
  req.allowed_origin = origin_of(sub->url);
  req.allow_file = false;
  std::weak_ptr<shared> target = s_;
  transport_.fetch(std::move(req), [target, j = std::move(j)](http_response r) mutable {
    auto s = target.lock();
    if (!s) return;
    {
      std::lock_guard lock(s->mu);
      s->answers.push_back({std::move(j), std::move(r)});
    }
    s->wake.notify_one();
  });
}

void dispatcher::handle(answer a) {
  auto& j = a.j;
  auto& r = a.response;
  delivery_record rec;
  rec.delivery_id = j.delivery_id;
  rec.event = j.event;
  rec.at = format_iso(j.sent);
  rec.attempt = j.attempt;
  rec.status = r.status;
  rec.duration_ms = std::max<int64_t>(0, (clock_.now() - j.sent).count());
  if (r.status == 0) {
    rec.error = r.error.message.empty() ? "no answer" : r.error.message;
  } else if (r.status >= 300 && r.status <= 399) {
    auto where = r.header("Location");
    rec.error = "redirect" + (where.empty() ? "" : " to " + std::string(where)) +
                " not followed: the webhook's URL must answer itself";
  }
  bool ok = retry_schedule::delivered(r.status);
  auto delay = ok ? std::nullopt : schedule_.delay_after(j.attempt);
  rec.outcome = ok ? "delivered" : delay ? "retrying" : "failed";

  notify_error err;
  auto after = store_.record_delivery(j.subscription_id, rec, err);
  // Removed meanwhile: no retry. A log that cannot be written does not stop the retries.
  bool gone = !after && err.what == notify_error::not_found;
  bool pause = after && !ok && !delay && after->state == "active" &&
               schedule_.should_pause(after->consecutive_failures);
  if (pause) {
    auto last = rec.status ? "HTTP " + std::to_string(rec.status) : rec.error;
    store_.pause(j.subscription_id,
                 std::to_string(after->consecutive_failures) +
                     " deliveries in a row failed (the last: " + last + ", " + rec.at +
                     "); resume with `ledgersync webhook resume " + j.subscription_id + "`",
                 err);
  }
  std::lock_guard lock(s_->mu);
  --s_->c.in_flight;
  if (ok)
    ++s_->c.delivered;
  else
    ++s_->c.failed_attempts;
  if (!ok && !delay) ++s_->c.given_up;
  if (pause) ++s_->c.paused;
  // Whether the subscription is still active is checked again when the retry is sent.
  if (delay && !gone) {
    j.due = clock_.now() + *delay;
    if (s_->waiting.size() >= schedule_.settings().max_pending) {
      s_->waiting.pop_front();
      ++s_->c.dropped;
    }
    s_->waiting.push_back(std::move(j));
  }
}

}  // namespace ledgersync::notify
