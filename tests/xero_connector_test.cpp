// The xero connector on canned pages built from the examples in Xero's OpenAPI spec
// (tests/fixtures/xero/): page paging to the end, If-Modified-Since on later passes, tombstones,
// set-aside records, refusals explained, and what Xero's rate-limit headers mean.
#include "connectors/xero_connector.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "core/retry_policy.hpp"
#include "core/run_tally.hpp"
#include "core/status_model.hpp"
#include "tests/connector_fixtures.hpp"
#include "tests/model_fixtures.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

constexpr const char* kTenant = "45e4708e-d862-4111-ab3a-dd8cd03913e1";
constexpr const char* kBase = "https://api.xero.com/api.xro/2.0";

integration_config xero_config(json settings = json{{"tenant_id", kTenant}}) {
  return kind_config("xero", "books", kBase, std::move(settings), "access-token");
}

// A spec example's page, with its pagination block replaced (null: none) and its records
// narrowed to `keep` (all when empty).
http_response page_of(const std::string& collection, json pagination,
                      std::vector<size_t> keep = {}) {
  auto body = json::parse(read_fixture("xero/" + collection + ".json"));
  if (pagination.is_null())
    body.erase("pagination");
  else
    body["pagination"] = pagination;
  if (!keep.empty()) {
    json items = json::array();
    for (auto i : keep) items.push_back(body[collection][i]);
    body[collection] = items;
  }
  http_response r;
  r.status = 200;
  r.body = body.dump();
  return r;
}

json pages(int page, int size, int count, int items) {
  return json{{"page", page}, {"pageSize", size}, {"pageCount", count}, {"itemCount", items}};
}

std::string since_of(const stream_cursor& c) {
  return json::parse(c.state).value("since", "");
}

}  // namespace

TEST_CASE("xero is registered: tenant id, page size, five streams and their entities", "[xero]") {
  auto* k = find_connector_kind("xero");
  REQUIRE(k);
  CHECK(k->label == "Xero");
  CHECK(k->default_base_url == kBase);
  CHECK(k->setting("tenant_id")->required);
  CHECK(k->setting("page_size")->default_value == 100);
  std::vector<std::pair<std::string, std::string>> names;
  for (auto& s : k->default_streams()) names.emplace_back(s.name, s.entity);
  CHECK(names ==
        std::vector<std::pair<std::string, std::string>>{{"invoices", "invoice"},
                                                         {"contacts", "customer"},
                                                         {"payments", "payment"},
                                                         {"bank_transactions", "bank_transaction"},
                                                         {"accounts", "gl_account"}});
  CHECK(validate(xero_config()) == "");
  CHECK(
      validate_settings(*k, json::object()).starts_with("settings.tenant_id is required for xero"));
  CHECK(validate_settings(*k, json{{"tenant_id", "abc\r\nX-Evil: 1"}}) ==
        "settings.tenant_id must be one line of text (Xero's tenant id, a UUID)");
  CHECK(validate_settings(*k, json{{"tenant_id", kTenant}, {"page_size", 5000}}) ==
        "settings.page_size must be an integer from 1 to 1000, got 5000");
  CHECK(validate_settings(*k, json{{"tenant_id", kTenant}, {"base_currency", "POUNDS"}}) ==
        "settings.base_currency must be an ISO 4217 code like GBP, got \"POUNDS\"");
}

TEST_CASE("xero: a first pass pages to the end with Bearer token and tenant id, no filter",
          "[xero]") {
  auto c = xero_config(json{{"tenant_id", kTenant}, {"page_size", 2}});
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto req = conn->page_request(s, cur);
  CHECK(req.url == std::string(kBase) + "/Invoices?order=UpdatedDateUTC%20ASC&pageSize=2&page=1");
  CHECK(header_of(req, "Authorization") == "Bearer access-token");
  CHECK(header_of(req, "xero-tenant-id") == kTenant);
  CHECK(header_of(req, "Accept") == "application/json");
  CHECK_FALSE(has_header(req, "If-Modified-Since"));
  CHECK(req.allowed_origin == "https://api.xero.com:443");

  // Page 1 of 2: the voided invoice is a tombstone, the paid one a canonical record.
  auto page = conn->parse_page(s, cur, page_of("Invoices", pages(1, 2, 2, 3), {0, 1}));
  REQUIRE(page.error.ok());
  CHECK(page.has_more);
  CHECK(page.next_token == "2");
  CHECK(page.total == 3);
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].id == "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2");
  CHECK(page.records[0].deleted);
  CHECK(page.records[0].body.empty());
  CHECK(page.records[1].id == "046d8a6d-1ae1-4b4d-9340-5601bdf41b87");
  CHECK_FALSE(page.records[1].deleted);
  CHECK(page.records[1].updated_at == "2018-11-02T16:36:32.690Z");
  auto body = json::parse(page.records[1].body);
  CHECK(body["entity"] == "invoice");
  CHECK(body["fields"]["status"] == "paid");
  CHECK(body["fields"]["issue_date"] == "2018-10-20");
  CHECK(body["raw"]["InvoiceID"] == "046d8a6d-1ae1-4b4d-9340-5601bdf41b87");

  auto next = cursor_after(*conn, s, cur, page);
  CHECK(next.in_pass);
  CHECK(conn->page_request(s, next).url.ends_with("&pageSize=2&page=2"));
  // Page 2 of 2 is the last one Xero counts: the pass ends there, short or not.
  auto last = conn->parse_page(s, next, page_of("Invoices", pages(2, 2, 2, 3), {2}));
  REQUIRE(last.error.ok());
  CHECK_FALSE(last.has_more);
  REQUIRE(last.records.size() == 1);
  auto done = cursor_after(*conn, s, next, last);
  CHECK_FALSE(done.in_pass);
  CHECK(since_of(done) == "2018-11-02T16:37:28.927Z");  // the newest UpdatedDateUTC
}

TEST_CASE("xero: without a pagination block a full page asks for the next, an empty one ends",
          "[xero]") {
  auto c = xero_config(json{{"tenant_id", kTenant}, {"page_size", 3}});
  auto conn = make_connector(c);
  auto& s = stream_named(c, "bank_transactions");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto full = conn->parse_page(s, cur, page_of("BankTransactions", nullptr));
  REQUIRE(full.error.ok());
  CHECK(full.records.size() == 3);
  CHECK(full.has_more);
  auto next = cursor_after(*conn, s, cur, full);
  auto empty = answer(200, R"({"Status":"OK","BankTransactions":[]})");
  auto end = conn->parse_page(s, next, empty);
  REQUIRE(end.error.ok());
  CHECK_FALSE(end.has_more);
  CHECK(since_of(cursor_after(*conn, s, next, end)) == "2016-10-13T21:01:27.037Z");
}

TEST_CASE("xero: a later pass sends If-Modified-Since and stores only what changed", "[xero]") {
  auto c = xero_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  stream_cursor synced;
  synced.state = R"({"since":"2018-11-02T16:31:30.160Z"})";
  auto cur = cursor_for_pass(*conn, s, synced, false, "");
  auto req = conn->page_request(s, cur);
  // Xero's form: UTC to the second, no zone; cut down, so the same second is read again.
  CHECK(header_of(req, "If-Modified-Since") == "2018-11-02T16:31:30");
  CHECK(req.url.ends_with("&page=1"));

  auto page = conn->parse_page(s, cur, page_of("Invoices", pages(1, 100, 1, 1), {2}));
  REQUIRE(page.error.ok());
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].id == "7ef31b20-de17-4312-8382-412f869b1510");
  CHECK_FALSE(page.has_more);
  auto done = cursor_after(*conn, s, cur, page);
  CHECK(since_of(done) == "2018-11-02T16:37:28.927Z");

  // Nothing changed: the watermark stays where it was.
  auto quiet = cursor_for_pass(*conn, s, done, false, "");
  CHECK(header_of(conn->page_request(s, quiet), "If-Modified-Since") == "2018-11-02T16:37:28");
  auto nothing = conn->parse_page(s, quiet, answer(200, R"({"Invoices":[]})"));
  REQUIRE(nothing.error.ok());
  CHECK(since_of(cursor_after(*conn, s, quiet, nothing)) == "2018-11-02T16:37:28.927Z");

  // A full pass asks for everything again.
  auto full = cursor_for_pass(*conn, s, done, true, "p1");
  CHECK_FALSE(has_header(conn->page_request(s, full), "If-Modified-Since"));
}

TEST_CASE("xero: contacts include archived ones; accounts come whole, without paging", "[xero]") {
  auto c = xero_config();
  auto conn = make_connector(c);
  auto& contacts = stream_named(c, "contacts");
  auto cur = cursor_for_pass(*conn, contacts, stream_cursor{}, false, "");
  CHECK(conn->page_request(contacts, cur).url ==
        std::string(kBase) +
            "/Contacts?order=UpdatedDateUTC%20ASC&includeArchived=true&pageSize=100&page=1");

  auto& accounts = stream_named(c, "accounts");
  auto acur = cursor_for_pass(*conn, accounts, stream_cursor{}, false, "");
  CHECK(conn->page_request(accounts, acur).url == std::string(kBase) + "/Accounts");
  auto page = conn->parse_page(accounts, acur, page_of("Accounts", nullptr));
  REQUIRE(page.error.ok());
  CHECK_FALSE(page.has_more);
  REQUIRE(page.records.size() == 2);
  CHECK(json::parse(page.records[0].body)["entity"] == "gl_account");

  auto deleted = json::parse(read_fixture("xero/Accounts.json"));
  deleted["Accounts"][1]["Status"] = "DELETED";
  auto gone = conn->parse_page(accounts, acur, answer(200, deleted.dump()));
  REQUIRE(gone.records.size() == 2);
  CHECK(gone.records[1].deleted);
}

TEST_CASE("xero: a record lacking a required field is set aside, naming the field", "[xero]") {
  auto c = xero_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto body = json::parse(read_fixture("xero/Invoices.json"));
  body["Invoices"][2].erase("Total");
  auto page = conn->parse_page(s, cur, answer(200, body.dump()));
  REQUIRE(page.error.ok());
  REQUIRE(page.invalid.size() == 1);
  CHECK(page.invalid[0].id == "7ef31b20-de17-4312-8382-412f869b1510");
  CHECK(page.invalid[0].missing == std::vector<std::string>{"total"});
  CHECK(json::parse(page.invalid[0].body)["InvoiceID"] == "7ef31b20-de17-4312-8382-412f869b1510");
  CHECK(page.records.size() == 2);
  // The set-aside record still counts for the watermark: it is stored (set aside) too.
  CHECK(page.max_updated == "2018-11-02T16:37:28.927Z");
}

TEST_CASE("xero: payments without a currency take the base currency setting", "[xero]") {
  // The configs outlive the connectors and streams taken from them (make_connector's rule).
  auto plain = xero_config();
  auto& s = stream_named(plain, "payments");
  auto body = json::parse(read_fixture("xero/Payments.json"));
  body["Payments"][0]["Invoice"].erase("CurrencyCode");
  auto without = make_connector(plain)->parse_page(s, stream_cursor{}, answer(200, body.dump()));
  REQUIRE(without.invalid.size() == 1);
  CHECK(without.invalid[0].missing.front() == "currency");
  auto c = xero_config(json{{"tenant_id", kTenant}, {"base_currency", "NZD"}});
  auto with = make_connector(c)->parse_page(s, stream_cursor{}, answer(200, body.dump()));
  CHECK(with.invalid.empty());
  REQUIRE(with.records.size() == 2);
  CHECK(json::parse(with.records[0].body)["fields"]["currency"] == "NZD");
}

TEST_CASE("xero: 401 and a refused tenant id say what to do; the test reads /Organisation",
          "[xero]") {
  auto c = xero_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto probe = conn->probe_request(s);
  CHECK(probe.url == std::string(kBase) + "/Organisation");
  CHECK(header_of(probe, "xero-tenant-id") == kTenant);

  auto unauthorized =
      answer(401, R"({"Title":"Unauthorized","Status":401,"Detail":"AuthenticationUnsuccessful"})");
  auto e = conn->parse_page(s, stream_cursor{}, unauthorized).error;
  CHECK(e.category == error_category::auth);
  CHECK(e.message == "stream invoices: HTTP 401 — AuthenticationUnsuccessful");
  CHECK(e.hint().find("connect again or reconfigure with a new token") != std::string::npos);
  CHECK(conn->probe_error(s, unauthorized).category == error_category::auth);

  auto forbidden =
      answer(403, R"({"Title":"Forbidden","Status":403,"Detail":"AuthorizationUnsuccessful"})");
  auto t = conn->probe_error(s, forbidden);
  CHECK(t.category == error_category::auth);
  CHECK(t.message == std::string("test of Xero organisation ") + kTenant +
                         ": HTTP 403 — AuthorizationUnsuccessful");
  CHECK(t.hint().find("settings.tenant_id must be the tenant id") != std::string::npos);
  CHECK(t.settings_to_fix() == std::vector<std::string>{"settings.tenant_id"});
  CHECK(conn->probe_error(s, answer(200, R"({"Organisations":[]})")).ok());

  auto keyless = xero_config();
  keyless.api_key.clear();
  auto no_key = make_connector(keyless)->parse_page(s, stream_cursor{}, answer(200, "{}"));
  CHECK(no_key.error.category == error_category::auth);

  auto junk = conn->parse_page(s, stream_cursor{}, answer(200, R"({"Contacts":[]})"));
  CHECK(junk.error.message == "stream invoices: the answer has no Invoices list");
}

TEST_CASE("xero limits: a minute 429 waits Retry-After; a daily one ends the run until reset",
          "[xero]") {
  retry_policy policy;
  auto minute = read_xero_limits(
      answer(429, "", {{"Retry-After", "37"}, {"X-Rate-Limit-Problem", "minute"}}), "stream x");
  CHECK(minute.refused.category == error_category::rate_limited);
  CHECK(minute.refused.message == "stream x: Xero's minute limit was reached (HTTP 429)");
  CHECK(policy.next_delay(minute.refused, 0, 0) == std::chrono::milliseconds(37000));

  // Hours to wait: no 15-minute cut and no retries burnt; the run ends, its error carrying
  // the reset for the scheduler.
  auto day = read_xero_limits(
      answer(429, "", {{"Retry-After", "43200"}, {"X-Rate-Limit-Problem", "day"}}), "stream x");
  CHECK(day.refused.retry_after_s == 43200);
  CHECK_FALSE(policy.next_delay(day.refused, 0, 0));
  CHECK(day.refused.hint().find("daily call limit") != std::string::npos);

  auto day_unsaid = read_xero_limits(answer(429, "", {{"X-Rate-Limit-Problem", "day"}}), "s");
  CHECK(day_unsaid.refused.retry_after_s == 3600);

  // A limit Xero did not promise Retry-After for: backed off with jitter.
  auto other = read_xero_limits(answer(429, "", {{"X-Rate-Limit-Problem", "concurrent"}}), "s");
  CHECK(other.refused.retry_after_s == -1);
  auto delay = policy.next_delay(other.refused, 1, 0);
  REQUIRE(delay);
  CHECK(*delay <= policy.ceiling(1));
}

TEST_CASE("xero limits: a remaining count at its floor pauses before the next request", "[xero]") {
  auto ok = [](header_list h) { return read_xero_limits(answer(200, "{}", std::move(h)), "s"); };
  CHECK(ok({{"X-MinLimit-Remaining", "12"}, {"X-AppMinLimit-Remaining", "9000"}}).pause_ms == 0);
  CHECK(ok({{"X-MinLimit-Remaining", "1"}}).pause_ms == 60000);
  // The app's minute is every integration's of the app: the shared budget waits, not only this.
  auto app = ok({{"X-MinLimit-Remaining", "30"}, {"X-AppMinLimit-Remaining", "0"}});
  CHECK(app.pause_ms == 0);
  CHECK(app.shared_pause_ms == 60000);
  CHECK(ok({{"X-MinLimit-Remaining", "1"}}).shared_pause_ms == 0);
  CHECK(ok({{"X-DayLimit-Remaining", "0"}}).pause_ms == 0);  // the day ends the run instead
  CHECK(ok({}).pause_ms == 0);

  auto c = xero_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto spent = page_of("Invoices", pages(1, 100, 1, 3));
  spent.headers = {{"X-MinLimit-Remaining", "0"}};
  CHECK(conn->parse_page(s, stream_cursor{}, spent).pause_ms == 60000);
  spent.headers = {{"X-AppMinLimit-Remaining", "1"}};
  CHECK(conn->parse_page(s, stream_cursor{}, spent).shared_pause_ms == 60000);
}

TEST_CASE("xero limits: a run ended by the day limit pauses scheduled runs until its reset",
          "[xero]") {
  run_tally run;
  run.error =
      read_xero_limits(answer(429, "", {{"Retry-After", "43200"}, {"X-Rate-Limit-Problem", "day"}}),
                       "stream invoices")
          .refused;
  status_facts facts;
  const int64_t t0 = 1'790'000'000'000;
  run.settle(facts, t0);
  CHECK(facts.rate_limited_until_ms == t0 + 43'200'000);
  // Kept with the status, so a restarted service still waits.
  auto kept = status_facts::from_json(facts.to_json());
  CHECK(scheduled_pause(kept, t0 + 43'199'000).find("rate limit is used up") != std::string::npos);
  CHECK(scheduled_pause(kept, t0 + 43'200'000) == "");
  // A later run that succeeds clears it.
  run_tally ok;
  ok.settle(kept, t0 + 43'300'000);
  CHECK(kept.rate_limited_until_ms == 0);
}

TEST_CASE("xero limits: an app-minute 429 pauses the app's shared budget for its Retry-After",
          "[xero]") {
  auto app = read_xero_limits(
      answer(429, "", {{"Retry-After", "17"}, {"X-Rate-Limit-Problem", "appminute"}}), "stream x");
  CHECK(app.refused.category == error_category::rate_limited);
  CHECK(app.refused.retry_after_s == 17);
  CHECK(app.shared_pause_ms == 17000);
  CHECK(app.pause_ms == 0);
  CHECK(app.refused.hint().find("every integration of the app waits") != std::string::npos);
  // Retry-After is promised for the minute and day limits only: the app's window is a minute.
  CHECK(read_xero_limits(answer(429, "", {{"X-Rate-Limit-Problem", "appminute"}}), "s")
            .shared_pause_ms == 60000);
  // The organisation's own minute is this integration's alone.
  CHECK(read_xero_limits(
            answer(429, "", {{"Retry-After", "17"}, {"X-Rate-Limit-Problem", "minute"}}), "s")
            .shared_pause_ms == 0);

  auto c = xero_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto page = conn->parse_page(
      s, stream_cursor{},
      answer(429, "", {{"Retry-After", "17"}, {"X-Rate-Limit-Problem", "appminute"}}));
  CHECK(page.error.category == error_category::rate_limited);
  CHECK(page.shared_pause_ms == 17000);
}

TEST_CASE("xero limits: X-DayLimit-Remaining 0 keeps the page and stops the run after it",
          "[xero]") {
  auto ok = [](header_list h) { return read_xero_limits(answer(200, "{}", std::move(h)), "s"); };
  CHECK(ok({{"X-DayLimit-Remaining", "1"}}).day_spent.ok());
  CHECK(ok({{"X-DayLimit-Remaining", "junk"}}).day_spent.ok());
  CHECK(ok({}).day_spent.ok());
  auto spent = ok({{"X-DayLimit-Remaining", "0"}, {"X-MinLimit-Remaining", "40"}}).day_spent;
  CHECK(spent.category == error_category::rate_limited);
  CHECK(spent.message ==
        "s: Xero's daily limit of 5,000 calls for this organisation is spent "
        "(X-DayLimit-Remaining: 0); what was fetched is kept");
  CHECK(spent.hint().find("syncs resume when Xero's rolling day frees calls") != std::string::npos);
  // No header says when the rolling day frees a call: an hour, as for a 429 that names none.
  CHECK(spent.retry_after_s == 3600);
  // Longer than a run waits: the run ends, its error holding back the next runs.
  retry_policy policy;
  CHECK_FALSE(policy.next_delay(spent, 0, 0));
  run_tally run;
  run.error = spent;
  status_facts facts;
  const int64_t t0 = 1'790'000'000'000;
  run.settle(facts, t0);
  CHECK(facts.rate_limited_until_ms == t0 + 3'600'000);

  auto c = xero_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto answer_page = page_of("Invoices", pages(1, 2, 2, 3), {0, 1});
  answer_page.headers = {{"X-DayLimit-Remaining", "0"}};
  auto page = conn->parse_page(s, stream_cursor{}, answer_page);
  CHECK(page.error.ok());  // the page itself is good: it is committed
  CHECK(page.records.size() == 2);
  CHECK(page.has_more);
  CHECK(page.stop_after.category == error_category::rate_limited);
  CHECK(page.stop_after.message.rfind("stream invoices: Xero's daily limit", 0) == 0);
  answer_page.headers = {{"X-DayLimit-Remaining", "4999"}};
  CHECK(conn->parse_page(s, stream_cursor{}, answer_page).stop_after.ok());
}
