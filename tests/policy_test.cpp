// Token bucket, retry policy and status model: plain classes on an injected clock.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "core/retry_policy.hpp"
#include "core/run_tally.hpp"
#include "core/shared_budget.hpp"
#include "core/status_model.hpp"
#include "core/time_util.hpp"
#include "core/token_bucket.hpp"

using namespace ledgersync;
using namespace std::chrono;

TEST_CASE("token bucket allows a burst, then one token per refill period") {
  token_bucket b(2, minutes(5));
  nanoseconds t{hours(1)};
  CHECK(b.try_take(t));
  CHECK(b.try_take(t));
  CHECK_FALSE(b.try_take(t));
  CHECK(duration_cast<seconds>(b.wait_time(t)) == minutes(5));
  t += minutes(4);
  CHECK_FALSE(b.try_take(t));
  CHECK(duration_cast<seconds>(b.wait_time(t)) == minutes(1));
  t += minutes(1);
  CHECK(b.try_take(t));
  CHECK_FALSE(b.try_take(t));
  t += hours(2);  // long idle refills to the burst, not beyond
  CHECK(b.available(t) == 2);
  CHECK(b.try_take(t));
  CHECK(b.try_take(t));
  CHECK_FALSE(b.try_take(t));
}

TEST_CASE("a refused take leaves the bucket unchanged") {
  token_bucket b(1, seconds(10));
  nanoseconds t{seconds(100)};
  REQUIRE(b.try_take(t));
  for (int i = 0; i < 5; ++i) CHECK_FALSE(b.try_take(t + seconds(i)));
  CHECK(b.try_take(t + seconds(10)));
}

TEST_CASE("shared budget: one bucket per key, a pause holds every caller of the key") {
  shared_budget b;
  nanoseconds t{seconds(100)};
  CHECK(b.take("app", 2, seconds(1), t) == nanoseconds::zero());
  CHECK(b.take("app", 2, seconds(1), t) == nanoseconds::zero());
  CHECK(b.take("app", 2, seconds(1), t) == seconds(1));
  CHECK(b.take("other", 2, seconds(1), t) == nanoseconds::zero());  // keys apart
  CHECK(b.take("app", 2, seconds(1), t + seconds(1)) == nanoseconds::zero());
  b.pause("app", t + seconds(60));
  CHECK(b.take("app", 2, seconds(1), t + seconds(10)) == seconds(50));
  CHECK(b.take("app", 2, seconds(1), t + seconds(60)) == nanoseconds::zero());
  CHECK(b.take("other", 2, seconds(1), t + seconds(10)) == nanoseconds::zero());
  // A pause before any take holds the first one too; an earlier pause never shortens it.
  b.pause("new", t + seconds(5));
  b.pause("new", t + seconds(2));
  CHECK(b.take("new", 1, seconds(1), t) == seconds(5));
}

TEST_CASE("shared budget: callers on many threads never take more than there is") {
  shared_budget b;
  nanoseconds t{seconds(100)};
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int n = 0; n < 1000; ++n)
        if (b.take("app", 100, seconds(1), t) == nanoseconds::zero()) ++taken;
    });
  for (auto& th : threads) th.join();
  CHECK(taken == 100);
}

TEST_CASE("retry policy: full jitter under an exponential ceiling, bounded attempts") {
  retry_settings s;
  s.max_attempts = 4;
  s.base = milliseconds(100);
  s.cap = milliseconds(1000);
  retry_policy p(s, 7);
  auto upstream = make_error_info(error_category::upstream, "500");
  CHECK(p.ceiling(0) == milliseconds(100));
  CHECK(p.ceiling(3) == milliseconds(800));
  CHECK(p.ceiling(10) == milliseconds(1000));
  for (uint32_t a = 0; a < 3; ++a) {
    auto d = p.next_delay(upstream, a, 0);
    REQUIRE(d);
    CHECK(*d >= milliseconds(0));
    CHECK(*d <= p.ceiling(a));
  }
  CHECK_FALSE(p.next_delay(upstream, 3, 0));  // the 4th attempt failed: give up
}

TEST_CASE("retry policy: auth, validation and config are never retried") {
  retry_policy p;
  for (auto c : {error_category::auth, error_category::validation, error_category::config,
                 error_category::storage})
    CHECK_FALSE(p.next_delay(make_error_info(c, "x"), 0, 0));
}

TEST_CASE("retry policy honours Retry-After and bounds rate-limit waits separately") {
  retry_settings s;
  s.max_rate_limit_waits = 3;
  retry_policy p(s);
  auto e = make_error_info(error_category::rate_limited, "429");
  e.retry_after_s = 7;
  CHECK(*p.next_delay(e, 0, 0) == seconds(7));
  CHECK(*p.next_delay(e, 99, 2) == seconds(7));  // attempts do not count for 429
  CHECK_FALSE(p.next_delay(e, 0, 3));
  // Longer than the cap: the run ends rather than waiting a cut-short time to be refused again.
  e.retry_after_s = 100000;
  CHECK_FALSE(p.next_delay(e, 0, 0));
  e.retry_after_s = static_cast<int>(s.max_retry_after.count() / 1000);
  CHECK(*p.next_delay(e, 0, 0) == s.max_retry_after);
}

TEST_CASE("status model: words, health and staleness") {
  status_inputs in;
  in.name = "x";
  in.now_ms = 10 * 3600 * 1000;
  in.stale_after_ms = 3600 * 1000;
  in.facts.created_at_ms = 1;
  in.facts.last_success_ms = in.now_ms - 1000;
  in.facts.last_outcome = std::string("ok");  // GCC 12 warns falsely on "ok" here
  CHECK(status_word(in) == "active");
  CHECK(status_json(in)["health"] == "healthy");
  in.facts.last_success_ms = in.now_ms - 2 * 3600 * 1000;
  CHECK(is_stale(in));
  CHECK(status_json(in)["health"] == "warning");
  in.facts.last_outcome = "failed";
  in.facts.last_error = make_error_info(error_category::auth, "401");
  CHECK(status_word(in) == "disconnected");
  auto j = status_json(in);
  CHECK(j["health"] == "failure");
  CHECK(j["last_error"]["category"] == "auth");
  CHECK(j["last_error"]["hint"].get<std::string>().find("API key may have expired") !=
        std::string::npos);
  in.facts.last_error = make_error_info(error_category::upstream, "HTTP 500");
  CHECK(status_word(in) == "error");
  // An upstream that answers, too slowly or too much, is not a lost connection.
  in.facts.last_error = make_error_info(error_category::timeout, "timed out reading", true);
  CHECK(status_word(in) == "error");
  in.facts.last_error = make_error_info(error_category::upstream, "answer too large");
  CHECK(status_word(in) == "error");
  in.facts.last_error = make_error_info(error_category::unreachable, "connection refused", true);
  CHECK(status_word(in) == "disconnected");
  CHECK(status_json(in)["last_error"]["hint"].get<std::string>().find("check the API base URL") !=
        std::string::npos);
  // New settings or a new sign-in clear the error the failure left: pending the next run's
  // verdict, not an Error with no error to show.
  in.facts.last_error = {};
  in.stale_after_ms = 0;  // a manual schedule: never stale
  CHECK(status_word(in) == "pending");
  CHECK(status_json(in)["last_error"].is_null());
  in.facts.last_success_ms = in.now_ms - 1000;  // synced before: its data is fresh
  CHECK(health_word(in) == "healthy");
  in.facts.last_success_ms = 0;  // never synced
  CHECK(health_word(in) == "unknown");
  in.facts.set_aside = 2;  // set-aside records still keep it in Error
  CHECK(status_word(in) == "error");
  in.facts.set_aside = 0;
  in.enabled = false;
  CHECK(status_word(in) == "disabled");
  CHECK(health_word(in) == "off");  // disabled is not a warning
  CHECK_FALSE(is_stale(in));
}

TEST_CASE("never synced is pending with health unknown, until its first run ends") {
  status_inputs in;
  in.name = "new";
  in.enabled = true;
  in.now_ms = 1000;
  in.facts.created_at_ms = 900;
  CHECK(status_word(in) == "pending");
  CHECK(health_word(in) == "unknown");
  in.progress.running = true;  // still pending while its first run goes on
  CHECK(status_word(in) == "pending");
  in.facts.last_outcome = "ok";
  in.facts.last_success_ms = 1000;
  CHECK(status_word(in) == "active");
  CHECK(health_word(in) == "healthy");
}

TEST_CASE("push counts in the status come from the outbox's counts by status") {
  status_facts f;
  f.count_pushes({{"pending", 2}, {"sending", 1}, {"failed", 3}, {"conflict", 1}, {"sent", 9}});
  CHECK(f.push_open == 3);
  CHECK(f.push_failed == 4);
  f.count_pushes({});
  CHECK(f.push_open == 0);
  CHECK(f.push_failed == 0);
}

TEST_CASE("status text is the status document, byte for byte, in every state") {
  std::vector<status_inputs> cases;
  status_inputs base;
  base.name = "acme \"quoted\" \u00e9t\u00e9\n";
  base.connector = "rest";
  base.schedule = "every 15m";
  base.scheduled = true;
  base.now_ms = to_ms(*parse_iso("2026-11-23T10:00:00Z"));
  base.stale_after_ms = 3600 * 1000;
  base.facts.created_at_ms = base.now_ms - 86400 * 1000;
  cases.push_back(base);  // pending, never run
  auto ok = base;
  ok.facts.last_success_ms = ok.facts.last_attempt_ms = base.now_ms - 60'000;
  ok.facts.last_run_id = 7;
  ok.facts.last_outcome = std::string("ok");
  ok.next_run_ms = base.now_ms + 900'000;
  cases.push_back(ok);
  auto stale = ok;
  stale.facts.last_success_ms = base.now_ms - 3 * 3600 * 1000;
  cases.push_back(stale);
  auto disabled = ok;
  disabled.enabled = false;
  cases.push_back(disabled);
  auto failing = ok;
  failing.facts.last_outcome = "failed";
  failing.facts.consecutive_failures = 3;
  failing.facts.last_error = make_error_info(error_category::timeout, "no answer \t in time", true);
  cases.push_back(failing);
  auto refused = ok;
  refused.facts.last_error = make_error_info(error_category::auth, "401 Unauthorized");
  refused.facts.awaiting_key = true;
  cases.push_back(refused);
  auto limited = ok;
  limited.facts.rate_limited_until_ms = base.now_ms + 3600 * 1000;
  cases.push_back(limited);
  auto crashed = ok;
  crashed.facts.crash = "stopped after 4 crashes";
  cases.push_back(crashed);
  auto aside = ok;
  aside.facts.set_aside = 3;
  aside.facts.push_failed = 2;
  aside.facts.push_open = 5;
  cases.push_back(aside);
  auto pushes = ok;
  pushes.facts.push_failed = 1;
  cases.push_back(pushes);
  auto running = ok;
  running.progress.running = true;
  running.progress.run_id = 8;
  running.progress.kind = "manual";
  running.progress.stream = "customers";
  running.progress.fetched = 120;
  running.progress.total = 360;
  running.progress.percent = 33;
  running.progress.resumes = 6;
  running.progress.waiting = "rate limited: waiting 30s";
  running.progress.started_ms = base.now_ms - 5000;
  running.progress.streams = nlohmann::json::array({{{"name", "customers"}, {"fetched", 120}}});
  cases.push_back(running);
  for (auto& in : cases) {
    INFO(status_json(in).dump());
    CHECK(status_text(in) == status_json(in).dump());
  }
}

TEST_CASE("set-aside records keep the status in Error, whatever later runs did") {
  status_inputs in;
  in.name = "pay";
  in.now_ms = 1000;
  in.facts.last_outcome = "ok";
  in.facts.last_success_ms = 1000;
  in.facts.set_aside = 3;
  CHECK(status_word(in) == "error");
  CHECK(health_word(in) == "warning");
  auto j = status_json(in);
  CHECK(j["set_aside"] == 3);
  CHECK(j["last_error"]["category"] == "validation");
  CHECK(j["last_error"]["message"].get<std::string>().rfind("3 records set aside (validation)",
                                                            0) == 0);
  in.facts.set_aside = 0;
  CHECK(status_word(in) == "active");
}

TEST_CASE("refused keys pause scheduled syncs; other failures back off to once a day") {
  CHECK(scheduled_backoff_ms(0) == 0);
  CHECK(scheduled_backoff_ms(1) == 60000);
  CHECK(scheduled_backoff_ms(3) == 4 * 60000);
  CHECK(scheduled_backoff_ms(11) == 1024 * 60000);      // 17 h
  CHECK(scheduled_backoff_ms(12) == 24 * 3600 * 1000);  // 2048 min > a day: capped
  CHECK(scheduled_backoff_ms(400) == 24 * 3600 * 1000);
  run_tally t;
  t.id = 1;
  t.error = make_error_info(error_category::auth, "HTTP 401");
  status_facts f;
  t.settle(f, 10);
  CHECK(f.awaiting_key);
  CHECK(f.consecutive_failures == 0);
  t.error = make_error_info(error_category::upstream, "HTTP 500");
  f = {};
  t.settle(f, 10);
  t.settle(f, 20);
  CHECK(f.consecutive_failures == 2);
  CHECK_FALSE(f.awaiting_key);
  t.error = {};
  t.settle(f, 30);
  CHECK(f.consecutive_failures == 0);
  status_inputs in;
  in.name = "paused-one";
  in.scheduled = true;
  in.now_ms = 40;
  in.facts = f;
  in.facts.awaiting_key = true;
  CHECK(status_json(in)["paused"].get<std::string>().find("waiting for a new API key") == 0);
  // A sign-in the vendor refused is not fixed by a key: the pause says what is.
  in.facts.last_error = make_error_info(error_category::auth, "refused");
  in.facts.last_error.fix_settings = {"refresh_token"};
  CHECK(status_json(in)["paused"].get<std::string>().find("waiting for a sign-in") == 0);
}

TEST_CASE("progress is per stream; a percentage only when true, never backwards or past 100") {
  run_tally t;
  t.streams = {{"customers", 0, -1, false}, {"invoices", 0, -1, false}};
  t.count_page(0, 500, 1000, true, false);
  CHECK(t.percent() == -1);  // the invoices' total is not known yet
  auto js = t.streams_json();
  CHECK(js[0]["percent"] == 50);
  CHECK(js[1]["total"].is_null());
  t.count_page(0, 600, -1, false, true);  // 1100 of "1000": the total was low
  CHECK(t.streams_json()[0]["percent"] == 100);
  CHECK(t.percent() == -1);
  t.count_page(1, 100, 20000, true, false);
  int p1 = t.percent();
  CHECK(p1 == (1100 + 100) * 100 / (1100 + 20000));
  t.count_page(1, 25000, -1, false, false);  // more than the total said: capped, not backwards
  int p2 = t.percent();
  CHECK(p2 >= p1);
  CHECK(p2 <= 99);
  CHECK(t.streams_json()[1]["percent"] == 99);
}

TEST_CASE("status facts survive a JSON round trip") {
  status_facts f;
  f.created_at_ms = 5;
  f.last_success_ms = 6;
  f.last_run_id = 9;
  f.last_outcome = "error";
  f.last_error = make_error_info(error_category::validation, "missing email");
  auto g = status_facts::from_json(f.to_json());
  CHECK(g.last_run_id == 9);
  CHECK(g.last_error.category == error_category::validation);
  CHECK(g.last_error.message == "missing email");
}

TEST_CASE("a run's outcome, record, final event and what it does to the status") {
  run_tally t;
  t.id = 3;
  t.kind = "manual";
  t.started_ms = 1000;
  t.fetched = 10;
  t.inserted = 7;
  t.updated = 3;
  status_facts f;
  f.last_error = make_error_info(error_category::upstream, "HTTP 500");
  CHECK(t.outcome() == "ok");
  t.settle(f, 5000);
  CHECK(f.last_success_ms == 5000);
  CHECK(f.last_error.ok());
  CHECK(f.last_run_id == 3);
  CHECK(t.summary() ==
        "run 3 ok: 10 fetched, 7 new, 3 updated, 0 unchanged, 0 deleted, 0 set aside");

  t.invalid = 2;  // completed, with records set aside: a success with an Error status
  CHECK(t.outcome() == "error");
  t.settle(f, 6000);
  CHECK(f.last_success_ms == 6000);
  CHECK(f.last_error.ok());  // the set-aside count speaks for them, not the last error
  CHECK(t.final_event(6000)["level"] == "warn");

  t.error = make_error_info(error_category::auth, "HTTP 401");
  CHECK(t.outcome() == "failed");
  t.settle(f, 7000);
  CHECK(f.last_success_ms == 6000);  // a failure is not a success
  CHECK(f.last_error.category == error_category::auth);
  auto rec = t.final_record(7000);
  CHECK(rec["status"] == "failed");
  CHECK(rec["error"]["category"] == "auth");
  CHECK(rec["finished"] == "1970-01-01T00:00:07.000Z");
  auto ev = t.final_event(7000);
  CHECK(ev["level"] == "error");
  CHECK(ev["hint"].get<std::string>().find("API key") != std::string::npos);
  CHECK(ev["counts"]["invalid"] == 2);

  t.cancelled = true;  // disabling mid-run: the last error stays what it was
  CHECK(t.outcome() == "cancelled");
  t.settle(f, 8000);
  CHECK(f.last_outcome == "cancelled");
  CHECK(f.last_error.category == error_category::auth);
}
