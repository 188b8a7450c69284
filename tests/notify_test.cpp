// Webhook notifications: validation, signing, the subscription file, and the dispatcher driven
// in virtual time (a hand-moved clock and a transport that answers as the test scripts it).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "notify/dispatcher.hpp"
#include "notify/signing.hpp"
#include "notify/subscriptions.hpp"
#include "tests/faulty_storage.hpp"

using namespace ledgersync;
using namespace ledgersync::notify;
using namespace std::chrono;

namespace {

secret_box test_box() {
  return secret_box::with_key(std::string(32, 'k'));
}

struct manual_clock : clock_source {
  sys_ms t = from_ms(1'700'000'000'000);
  sys_ms now() const override { return t; }
};

// Answers each request at once with the next scripted status (the last one repeats) and keeps
// the requests it saw.
struct scripted_transport : http_transport {
  std::vector<int> statuses{200};
  std::vector<http_request> seen;
  void fetch(http_request req, callback done) override {
    seen.push_back(req);
    http_response r;
    r.status = statuses[std::min(seen.size(), statuses.size()) - 1];
    if (r.status >= 300 && r.status < 400) r.headers.emplace_back("Location", "http://elsewhere/");
    done(std::move(r));
  }
};

std::string header(const http_request& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231 and a signature header matches an independent one") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Python: hmac.new(b'whsec_test', b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
  CHECK(signature_header("whsec_test", 1700000000, R"({"id":"evt_1"})") ==
        "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
}

TEST_CASE("a payload with text that is not UTF-8 is still sent, the bad bytes replaced") {
  std::string body;
  REQUIRE_NOTHROW(body = make_payload("evt_1", "run_failed", "2026-11-25T18:00:00.000Z",
                                      {{"error", std::string("bad \xff byte")}}));
  auto j = nlohmann::json::parse(body);
  CHECK(j["data"]["error"] == "bad \xef\xbf\xbd byte");
  CHECK(j["id"] == "evt_1");
  CHECK(j["type"] == "run_failed");
}

TEST_CASE("verify accepts a fresh signature and refuses a changed body, an old time or junk") {
  std::string body = R"({"id":"evt_1","type":"run_failed"})";
  auto h = signature_header("whsec_a", 1000, body);
  CHECK(verify(h, body, "whsec_a", 1000) == verify_result::ok);
  CHECK(verify(h, body, "whsec_a", 1300) == verify_result::ok);  // the default 300 s window
  CHECK(verify(h, body, "whsec_a", 1301) == verify_result::outside_tolerance);
  CHECK(verify(h, body, "whsec_a", 699) == verify_result::outside_tolerance);
  CHECK(verify(h, body + " ", "whsec_a", 1000) == verify_result::mismatch);
  CHECK(verify(h, body, "whsec_b", 1000) == verify_result::mismatch);
  CHECK(verify("v1=abc", body, "whsec_a", 1000) == verify_result::malformed);
  CHECK(verify("t=12x,v1=abc", body, "whsec_a", 1000) == verify_result::malformed);
  CHECK(verify("t=1000", body, "whsec_a", 1000) == verify_result::malformed);
  // While a secret is rotated a header may carry several v1 values: one match is enough.
  auto v1 = h.substr(h.find("v1="));
  CHECK(verify("t=1000,v1=00ff," + v1, body, "whsec_a", 1000) == verify_result::ok);
}

TEST_CASE("a webhook URL is absolute http or https with a host") {
  CHECK(url_problem("https://hooks.example.com/ledgersync").empty());
  CHECK(url_problem("http://127.0.0.1:8080/x?y=1").empty());
  CHECK(url_problem("file:///etc/passwd").find("http or https only") != std::string::npos);
  CHECK(url_problem("ftp://example.com/").find("not ftp://") != std::string::npos);
  CHECK(url_problem("/relative/path").find("not an absolute URL") != std::string::npos);
  CHECK(url_problem("example.com/hook").find("not an absolute URL") != std::string::npos);
  CHECK(url_problem("http:///nohost").find("no host") != std::string::npos);
  CHECK(url_problem("https://example.com/#frag").find("fragment") != std::string::npos);
}

TEST_CASE("events are checked against the known set; * means all of them") {
  notify_error err;
  auto two = parse_events("status_changed, run_failed,run_failed", err);
  REQUIRE(two);
  CHECK(*two == std::vector<std::string>{"status_changed", "run_failed"});
  auto all = parse_events("*", err);
  REQUIRE(all);
  CHECK(*all == known_events());
  CHECK_FALSE(parse_events("run_failed,run_exploded", err));
  CHECK(err.what == notify_error::invalid);
  CHECK(err.message.find("'run_exploded'") != std::string::npos);
  CHECK_FALSE(parse_events(" , ", err));
  CHECK(err.message.find("no events") != std::string::npos);
}

TEST_CASE("subscriptions round-trip through a 0600 file that other processes may change") {
  testing::temp_dir dir;
  auto path = dir.path + "/webhooks.json";
  auto box = test_box();
  subscription_store store(path, &box);
  notify_error err;
  auto made = store.add("https://hooks.example.com/a", {"run_failed"}, err);
  REQUIRE(made);
  CHECK(made->secret.rfind("whsec_", 0) == 0);
  CHECK(made->secret.size() == 6 + 64);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text.find(made->secret) == std::string::npos);  // only sealed
  }

  // Another process's view of the same file.
  subscription_store other(path, &box);
  auto listed = other.list(err);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  auto& s = listed->front();
  CHECK(s.url == "https://hooks.example.com/a");
  CHECK(s.events == std::vector<std::string>{"run_failed"});
  CHECK(s.state == "active");
  CHECK(other.secret_of(s, err) == made->secret);

  REQUIRE(other.pause(s.id, "testing", err));
  auto seen = store.get(s.id, err);  // the first store re-reads the changed file
  REQUIRE(seen);
  CHECK(seen->state == "paused");
  CHECK(seen->paused_reason == "testing");
  REQUIRE(store.resume(s.id, err));
  CHECK(other.get(s.id, err)->state == "active");

  CHECK_FALSE(store.resume("wh_nope", err));
  CHECK(err.what == notify_error::not_found);
  CHECK_FALSE(store.add("file:///tmp/x", {"run_failed"}, err));
  CHECK(err.what == notify_error::invalid);
  CHECK_FALSE(store.add("https://x.example/", {"nope"}, err));
  CHECK(err.what == notify_error::invalid);

  REQUIRE(store.remove(s.id, err));
  CHECK(other.list(err)->empty());
  CHECK_FALSE(store.remove(s.id, err));
  CHECK(err.what == notify_error::not_found);
}

TEST_CASE("the delivery log keeps the newest 20 attempts and counts failed deliveries") {
  testing::temp_dir dir;
  auto box = test_box();
  subscription_store store(dir.path + "/webhooks.json", &box);
  notify_error err;
  auto id = store.add("https://h.example/", {"run_failed"}, err)->sub.id;
  for (int i = 1; i <= 25; ++i) {
    delivery_record r;
    r.delivery_id = "dlv_" + std::to_string(i);
    r.outcome = i <= 23 ? "failed" : "retrying";
    r.status = 500;
    REQUIRE(store.record_delivery(id, r, err));
  }
  auto s = store.get(id, err);
  REQUIRE(s->deliveries.size() == 20);
  CHECK(s->deliveries.front().delivery_id == "dlv_6");
  CHECK(s->deliveries.back().delivery_id == "dlv_25");
  CHECK(s->consecutive_failures == 23);  // "retrying" attempts are not failed deliveries
  delivery_record ok;
  ok.outcome = "delivered";
  CHECK(store.record_delivery(id, ok, err)->consecutive_failures == 0);
}

TEST_CASE("a damaged webhook file is reported, not taken for an empty one") {
  testing::temp_dir dir;
  auto path = dir.path + "/webhooks.json";
  { std::ofstream(path) << "{not json"; }
  subscription_store store(path, nullptr);
  notify_error err;
  CHECK_FALSE(store.list(err));
  CHECK(err.message.find("damaged") != std::string::npos);
}

TEST_CASE("retries back off 1 s, 2 s, 4 s ... up to 5 min, 8 attempts in all") {
  retry_schedule s;
  std::vector<int64_t> waits;
  for (int a = 1; a <= 8; ++a)
    if (auto d = s.delay_after(a)) waits.push_back(d->count());
  CHECK(waits == std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 64000});
  CHECK_FALSE(s.delay_after(8));
  retry_settings long_run;
  long_run.max_attempts = 20;
  retry_schedule capped(long_run);
  CHECK(capped.delay_after(9)->count() == 256000);
  CHECK(capped.delay_after(10)->count() == 300000);
  CHECK(capped.delay_after(19)->count() == 300000);
  CHECK_FALSE(s.should_pause(9));
  CHECK(s.should_pause(10));
  CHECK(retry_schedule::delivered(204));
  CHECK_FALSE(retry_schedule::delivered(302));
}

TEST_CASE("notify only queues; a failed attempt is retried after its backoff, in virtual time") {
  testing::temp_dir dir;
  auto box = test_box();
  subscription_store store(dir.path + "/webhooks.json", &box);
  notify_error err;
  auto made = store.add("http://receiver.example:8080/hook", {"run_failed"}, err);
  REQUIRE(made);
  manual_clock clock;
  scripted_transport net;
  net.statuses = {500, 200};
  dispatcher d(store, box, net, clock);

  d.notify("run_failed", {{"integration", "xero-eu"}});
  d.notify("run_succeeded", {{"integration", "xero-eu"}});  // not subscribed
  CHECK(net.seen.empty());  // nothing is sent from the caller's thread
  CHECK(d.stats().queued == 2);

  d.run_due();
  REQUIRE(net.seen.size() == 1);
  auto first = net.seen[0];  // a copy: seen grows
  CHECK(first.method == "POST");
  CHECK(first.url == "http://receiver.example:8080/hook");
  CHECK(first.allowed_origin == "http://receiver.example:8080");
  CHECK_FALSE(first.allow_file);
  CHECK(first.timeout_ms == 10000);
  CHECK(header(first, "Ledgersync-Event") == "run_failed");
  CHECK(header(first, "Content-Type") == "application/json");
  CHECK(verify(header(first, "Ledgersync-Signature"), first.body, made->secret,
               to_ms(clock.t) / 1000) == verify_result::ok);
  auto payload = nlohmann::json::parse(first.body);
  CHECK(payload["type"] == "run_failed");
  CHECK(payload["data"]["integration"] == "xero-eu");
  CHECK(payload["id"].get<std::string>().rfind("evt_", 0) == 0);
  CHECK(payload["created_at"] == format_iso(clock.t));

  auto next = d.run_due();  // handles the 500
  REQUIRE(next);
  CHECK(*next == clock.t + 1s);
  clock.t += 999ms;
  d.run_due();
  CHECK(net.seen.size() == 1);
  clock.t += 1ms;
  d.run_due();
  REQUIRE(net.seen.size() == 2);
  CHECK(net.seen[1].body == first.body);
  CHECK(header(net.seen[1], "Ledgersync-Delivery") == header(first, "Ledgersync-Delivery"));
  CHECK_FALSE(d.run_due());

  auto log = store.get(made->sub.id, err)->deliveries;
  REQUIRE(log.size() == 2);
  CHECK(log[0].attempt == 1);
  CHECK(log[0].status == 500);
  CHECK(log[0].outcome == "retrying");
  CHECK(log[1].attempt == 2);
  CHECK(log[1].status == 200);
  CHECK(log[1].outcome == "delivered");
  CHECK(log[1].delivery_id == header(first, "Ledgersync-Delivery"));
  CHECK(d.stats().delivered == 1);
  CHECK(d.stats().failed_attempts == 1);
}

TEST_CASE("a redirect is a failed attempt, never followed") {
  testing::temp_dir dir;
  auto box = test_box();
  subscription_store store(dir.path + "/webhooks.json", &box);
  notify_error err;
  auto id = store.add("https://hooks.example/", {"*"}, err)->sub.id;
  manual_clock clock;
  scripted_transport net;
  net.statuses = {302};
  retry_settings once;
  once.max_attempts = 1;
  dispatcher d(store, box, net, clock, once);
  d.notify("disconnected", {});
  d.run_due();
  d.run_due();
  CHECK(net.seen.size() == 1);
  auto log = store.get(id, err)->deliveries;
  REQUIRE(log.size() == 1);
  CHECK(log[0].status == 302);
  CHECK(log[0].outcome == "failed");
  CHECK(log[0].error.find("redirect to http://elsewhere/ not followed") != std::string::npos);
}

TEST_CASE("a subscription whose deliveries keep failing is paused until resumed") {
  testing::temp_dir dir;
  auto box = test_box();
  subscription_store store(dir.path + "/webhooks.json", &box);
  notify_error err;
  auto id = store.add("https://down.example/", {"run_failed"}, err)->sub.id;
  manual_clock clock;
  scripted_transport net;
  net.statuses = {503};
  dispatcher d(store, box, net, clock);  // the defaults: 8 attempts, pause after 10 deliveries

  for (int i = 0; i < 10; ++i) {
    d.notify("run_failed", {});
    // Every attempt of this delivery, each at its backoff: 1+2+...+64 s.
    for (int step = 0; step < 20; ++step) {
      if (auto next = d.run_due()) clock.t = *next;
    }
  }
  CHECK(net.seen.size() == 80);
  auto s = store.get(id, err);
  CHECK(s->state == "paused");
  CHECK(s->consecutive_failures == 10);
  CHECK(s->paused_reason.find("10 deliveries in a row failed (the last: HTTP 503") !=
        std::string::npos);
  CHECK(s->paused_reason.find("webhook resume " + id) != std::string::npos);
  CHECK(d.stats().paused == 1);

  d.notify("run_failed", {});
  d.run_due();
  CHECK(net.seen.size() == 80);  // paused: nothing more

  REQUIRE(store.resume(id, err));
  net.statuses = {200};
  net.seen.clear();
  d.notify("run_failed", {});
  d.run_due();
  d.run_due();
  CHECK(net.seen.size() == 1);
  CHECK(store.get(id, err)->consecutive_failures == 0);
}

TEST_CASE("a full queue drops the oldest events and counts them") {
  testing::temp_dir dir;
  auto box = test_box();
  subscription_store store(dir.path + "/webhooks.json", &box);
  notify_error err;
  store.add("https://h.example/", {"status_changed"}, err);
  manual_clock clock;
  scripted_transport net;
  retry_settings small;
  small.max_pending = 3;
  dispatcher d(store, box, net, clock, small);
  for (int i = 0; i < 5; ++i) d.notify("status_changed", {{"n", i}});
  CHECK(d.stats().dropped == 2);
  CHECK(d.stats().queued == 3);
  d.run_due();
  REQUIRE(net.seen.size() == 3);
  CHECK(nlohmann::json::parse(net.seen[0].body)["data"]["n"] == 2);
}
