// The stripe connector on canned pages built from Stripe's fixtures (tests/fixtures/stripe/):
// list paging, canonical records, the switch to /v1/events, deletions, set-aside records.
#include "connectors/stripe_connector.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "core/retry_policy.hpp"
#include "tests/connector_fixtures.hpp"
#include "tests/model_fixtures.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

integration_config stripe_config(json settings = json::object()) {
  return kind_config("stripe", "pay", "https://api.stripe.com", std::move(settings), "sk_test_123");
}

json fixture(const std::string& name) {
  return json::parse(read_fixture("stripe/" + name));
}

http_response list_page(const std::vector<json>& items, bool has_more) {
  http_response r;
  r.status = 200;
  r.body =
      json{{"object", "list"}, {"url", "/v1/x"}, {"has_more", has_more}, {"data", items}}.dump();
  return r;
}

json event(const std::string& id, const std::string& type, int64_t created, json object) {
  return json{{"id", id},
              {"object", "event"},
              {"type", type},
              {"created", created},
              {"api_version", "2024-06-20"},
              {"data", {{"object", std::move(object)}}}};
}

std::string since_of(const stream_cursor& c) {
  return json::parse(c.state).value("events_since", "");
}

}  // namespace

TEST_CASE("stripe is registered: settings, five streams and their entities", "[stripe]") {
  auto* k = find_connector_kind("stripe");
  REQUIRE(k);
  CHECK(k->label == "Stripe");
  CHECK(k->setting("stripe_version")->default_value == "2024-06-20");
  CHECK(k->setting("mode")->allowed == std::vector<std::string>{"test", "live"});
  auto streams = k->default_streams();
  REQUIRE(streams.size() == 5);
  std::vector<std::pair<std::string, std::string>> names;
  for (auto& s : streams) names.emplace_back(s.name, s.entity);
  CHECK(names == std::vector<std::pair<std::string, std::string>>{
                     {"customers", "customer"},
                     {"charges", "payment"},
                     {"payment_intents", "payment"},
                     {"invoices", "invoice"},
                     {"balance_transactions", "bank_transaction"}});
  CHECK(validate(stripe_config()) == "");
  CHECK(validate_settings(*k, json{{"stripe_version", "latest"}}) ==
        "settings.stripe_version must be a date YYYY-MM-DD (Stripe's API version), got "
        "\"latest\"");
  CHECK(validate_settings(*k, json{{"mode", "prod"}}) ==
        "settings.mode must be one of test, live, got \"prod\"");
}

TEST_CASE("stripe: the first pass lists with starting_after paging, pinned version, Bearer key",
          "[stripe]") {
  auto c = stripe_config(json{{"stripe_version", "2023-10-16"}});
  auto conn = make_connector(c);
  auto& s = stream_named(c, "charges");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto req = conn->page_request(s, cur);
  CHECK(req.url == "https://api.stripe.com/v1/charges?limit=100");
  CHECK(header_of(req, "Authorization") == "Bearer sk_test_123");
  CHECK(header_of(req, "Stripe-Version") == "2023-10-16");
  CHECK(req.allowed_origin == "https://api.stripe.com:443");

  auto charge = fixture("charge.json");
  auto older = charge;
  older["id"] = "ch_older";
  older["created"] = 1234500000;
  auto page = conn->parse_page(s, cur, list_page({charge, older}, true));
  REQUIRE(page.error.ok());
  CHECK(page.has_more);
  CHECK(page.next_token == "ch_older");
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].id == "ch_1PgafuB7WZ01zgkWXYmPNZs8");
  CHECK(page.records[0].updated_at == "2009-02-13T23:31:30Z");
  auto body = json::parse(page.records[0].body);
  CHECK(body["entity"] == "payment");
  CHECK(body["fields"]["amount"] == "1.00");
  CHECK(body["fields"]["currency"] == "USD");
  CHECK(body["raw"]["id"] == "ch_1PgafuB7WZ01zgkWXYmPNZs8");  // the vendor's object, verbatim

  auto next = cursor_after(*conn, s, cur, page);
  CHECK(next.in_pass);
  CHECK(conn->page_request(s, next).url ==
        "https://api.stripe.com/v1/charges?limit=100&starting_after=ch_older");
  auto last = conn->parse_page(s, next, list_page({}, false));
  REQUIRE(last.error.ok());
  CHECK_FALSE(last.has_more);
  auto done = cursor_after(*conn, s, next, last);
  CHECK_FALSE(done.in_pass);
  CHECK(since_of(done) == "1234567890");  // the newest object listed
}

TEST_CASE("stripe: a record lacking a required field is set aside, naming it", "[stripe]") {
  auto c = stripe_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "customers");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto named = fixture("customer.json");
  named["id"] = "cus_named";
  named["name"] = "Jenny Rosen";
  auto page = conn->parse_page(s, cur, list_page({fixture("customer.json"), named}, false));
  REQUIRE(page.error.ok());
  REQUIRE(page.invalid.size() == 1);
  CHECK(page.invalid[0].id == "cus_QXg1o8vcGmoR32");
  CHECK(page.invalid[0].missing == std::vector<std::string>{"name"});
  CHECK(json::parse(page.invalid[0].body)["id"] == "cus_QXg1o8vcGmoR32");
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].id == "cus_named");
  CHECK(json::parse(page.records[0].body)["entity"] == "customer");
}

TEST_CASE("stripe: later passes read the object's events; *.deleted is a tombstone", "[stripe]") {
  auto c = stripe_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "customers");
  stream_cursor listed;
  listed.state = R"({"events_since":"1700000000"})";
  auto cur = cursor_for_pass(*conn, s, listed, false, "");
  auto req = conn->page_request(s, cur);
  CHECK(req.url ==
        "https://api.stripe.com/v1/events?types[]=customer.*&created[gte]=1700000000&limit=100");

  auto updated = fixture("customer.json");
  updated["name"] = "Jenny Rosen";
  auto page = conn->parse_page(
      s, cur,
      list_page({event("evt_2", "customer.deleted", 1700000300,
                       json{{"id", "cus_gone"}, {"object", "customer"}, {"deleted", true}}),
                 event("evt_1", "customer.updated", 1700000200, updated)},
                true));
  REQUIRE(page.error.ok());
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].id == "cus_gone");
  CHECK(page.records[0].deleted);
  CHECK(page.records[0].body.empty());
  CHECK(page.records[1].id == "cus_QXg1o8vcGmoR32");
  CHECK_FALSE(page.records[1].deleted);
  CHECK(page.records[1].updated_at == "2023-11-14T22:16:40Z");  // the event's time
  CHECK(json::parse(page.records[1].body)["fields"]["name"] == "Jenny Rosen");
  CHECK(page.next_token == "evt_1");

  auto next = cursor_after(*conn, s, cur, page);
  CHECK(conn->page_request(s, next).url.ends_with("&limit=100&starting_after=evt_1"));
  auto end = cursor_after(*conn, s, next, conn->parse_page(s, next, list_page({}, false)));
  CHECK(since_of(end) == "1700000300");  // the newest event

  // No events: the watermark stays.
  auto quiet = cursor_for_pass(*conn, s, end, false, "");
  auto nothing = conn->parse_page(s, quiet, list_page({}, false));
  CHECK(nothing.records.empty());
  CHECK(since_of(cursor_after(*conn, s, quiet, nothing)) == "1700000300");

  // A full pass lists everything again.
  auto full = cursor_for_pass(*conn, s, end, true, "p1");
  CHECK(conn->page_request(s, full).url == "https://api.stripe.com/v1/customers?limit=100");
}

TEST_CASE("stripe: balance transactions, which have no events, list what was created since",
          "[stripe]") {
  auto c = stripe_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "balance_transactions");
  stream_cursor listed;
  listed.state = R"({"events_since":"1234567890"})";
  auto cur = cursor_for_pass(*conn, s, listed, false, "");
  CHECK(conn->page_request(s, cur).url ==
        "https://api.stripe.com/v1/balance_transactions?created[gte]=1234567890&limit=100");
  auto txn = fixture("balance_transaction.json");
  txn["id"] = "txn_new";
  txn["created"] = 1234569999;
  auto page = conn->parse_page(s, cur, list_page({txn}, false));
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].id == "txn_new");
  CHECK(json::parse(page.records[0].body)["entity"] == "bank_transaction");
  CHECK(since_of(cursor_after(*conn, s, cur, page)) == "1234569999");
}

TEST_CASE("stripe: errors and 429s are answers the engine's retry policy handles", "[stripe]") {
  auto c = stripe_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  http_response limited;
  limited.status = 429;
  limited.body = R"({"error":{"type":"invalid_request_error","code":"rate_limit",
                   "message":"Too many requests"}})";
  auto page = conn->parse_page(s, cur, limited);
  REQUIRE(page.error.category == error_category::rate_limited);
  // No Retry-After: backed off with jitter under the ceiling, not refused.
  retry_policy policy;
  auto delay = policy.next_delay(page.error, 2, 0);
  REQUIRE(delay);
  CHECK(*delay <= policy.ceiling(2));

  http_response denied;
  denied.status = 401;
  denied.body =
      R"({"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}})";
  CHECK(conn->parse_page(s, cur, denied).error.category == error_category::auth);

  auto keyless = stripe_config();
  keyless.api_key.clear();
  auto no_key = make_connector(keyless)->parse_page(s, cur, list_page({}, false));
  CHECK(no_key.error.category == error_category::auth);
  CHECK(no_key.error.message ==
        "stream invoices: Stripe needs the secret API key (give it with --api-key-file)");

  http_response junk;
  junk.status = 200;
  junk.body = R"({"object":"invoice"})";
  auto bad = conn->parse_page(s, cur, junk);
  CHECK(bad.error.message == "stream invoices: the answer is not a Stripe list");
}

TEST_CASE("stripe: each record carries its body's content hash, computed off the writer",
          "[stripe]") {
  auto c = stripe_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "charges");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto page = conn->parse_page(s, cur, list_page({fixture("charge.json")}, false));
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].hash != 0);
  CHECK(page.records[0].hash == content_hash(page.records[0].body));
}
