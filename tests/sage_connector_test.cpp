// The sage connector on canned pages shaped like Sage Business Cloud Accounting v3.1's answers:
// $next paging to the end, the incremental pass and its deletions, set-aside records, errors,
// and a $next link to another host refused.
#include "connectors/sage_connector.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "tests/connector_fixtures.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

const char* const kBase = "https://api.accounting.sage.com/v3.1";

integration_config sage_config(json settings = json{{"business_id", "b4e1c0ffee"}}) {
  return kind_config("sage", "books", kBase, std::move(settings));
}

json sage_link(const std::string& id, const std::string& shown) {
  return json{{"id", id}, {"displayed_as", shown}, {"$path", "/x/" + id}};
}

json contact(const std::string& id, const std::string& updated, bool named = true) {
  json j{{"id", id},
         {"displayed_as", "Customer " + id},
         {"$path", "/contacts/" + id},
         {"created_at", "2026-11-01T09:00:00Z"},
         {"updated_at", updated},
         {"contact_types", json::array({sage_link("CUSTOMER", "Customer")})},
         {"reference", "C" + id},
         {"email", "accounts@example.com"},
         {"currency", sage_link("GBP", "Pound Sterling (GBP)")},
         {"balance", "12.5"}};
  if (named) j["name"] = "Customer " + id + " Ltd";
  return j;
}

http_response sage_page(const std::vector<json>& items, json next, int64_t total = -1) {
  http_response r;
  r.status = 200;
  json body{{"$total", total < 0 ? static_cast<int64_t>(items.size()) : total},
            {"$page", 1},
            {"$next", std::move(next)},
            {"$back", nullptr},
            {"$itemsPerPage", 20},
            {"$items", items}};
  r.body = body.dump();
  return r;
}

std::string watermark_of(const stream_cursor& c) {
  return json::parse(c.state).value("watermark", "");
}

}  // namespace

TEST_CASE("sage is registered: label, settings, five streams and their entities", "[sage]") {
  auto* k = find_connector_kind("sage");
  REQUIRE(k);
  CHECK(k->label == "Sage Accounting");
  CHECK(k->default_base_url == kBase);
  CHECK(k->setting("business_id")->required);
  CHECK(k->setting("items_per_page")->default_value == 200);
  auto streams = k->default_streams();
  std::vector<std::pair<std::string, std::string>> names;
  for (auto& s : streams) names.emplace_back(s.name, s.entity);
  CHECK(names ==
        std::vector<std::pair<std::string, std::string>>{{"contacts", "customer"},
                                                         {"sales_invoices", "invoice"},
                                                         {"contact_payments", "payment"},
                                                         {"bank_accounts", "gl_account"},
                                                         {"ledger_accounts", "gl_account"}});
  CHECK(validate(sage_config()) == "");
  CHECK(validate_settings(*k, json::object())
            .starts_with("settings.business_id is required for sage"));
  CHECK(validate_settings(*k, json{{"business_id", "a\r\nX-Evil: 1"}}) ==
        "settings.business_id must be Sage's business id (letters, digits, - and _), got "
        "\"a\\r\\nX-Evil: 1\"");
  CHECK(validate_settings(*k, json{{"business_id", "b"}, {"items_per_page", 500}}) ==
        "settings.items_per_page must be an integer from 1 to 200, got 500");
}

TEST_CASE("sage: a first pass follows $next to the end, with X-Business and the $total", "[sage]") {
  auto c = sage_config(json{{"business_id", "b4e1c0ffee"}, {"items_per_page", 2}});
  auto conn = make_connector(c);
  auto& s = stream_named(c, "contacts");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto req = conn->page_request(s, cur);
  CHECK(req.url == std::string(kBase) + "/contacts?items_per_page=2&attributes=all");
  CHECK(header_of(req, "Authorization") == "Bearer access-1");
  CHECK(header_of(req, "X-Business") == "b4e1c0ffee");
  CHECK(req.allowed_origin == "https://api.accounting.sage.com:443");

  auto page = conn->parse_page(
      s, cur,
      sage_page({contact("c1", "2026-11-20T10:00:00Z"), contact("c2", "2026-11-21T10:00:00Z")},
                "/contacts?page=2&items_per_page=2&attributes=all", 3));
  REQUIRE(page.error.ok());
  CHECK(page.total == 3);
  CHECK(page.has_more);
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[1].id == "c2");
  CHECK(page.records[1].updated_at == "2026-11-21T10:00:00Z");
  auto body = json::parse(page.records[0].body);
  CHECK(body["entity"] == "customer");
  CHECK(body["fields"]["name"] == "Customer c1 Ltd");
  CHECK(body["fields"]["balance"] == "12.50");
  CHECK(body["raw"]["reference"] == "Cc1");

  // $next is a path from the version root, not from the host.
  auto next = cursor_after(*conn, s, cur, page);
  CHECK(next.in_pass);
  CHECK(conn->page_request(s, next).url ==
        std::string(kBase) + "/contacts?page=2&items_per_page=2&attributes=all");
  CHECK(conn->page_token(next.state) == "/contacts?page=2&items_per_page=2&attributes=all");
  auto last =
      conn->parse_page(s, next, sage_page({contact("c3", "2026-11-19T08:00:00Z")}, nullptr, 3));
  REQUIRE(last.error.ok());
  CHECK_FALSE(last.has_more);  // a first pass has no deletions to ask for
  auto done = cursor_after(*conn, s, next, last);
  CHECK_FALSE(done.in_pass);
  CHECK(watermark_of(done) == "2026-11-21T10:00:00Z");  // the newest, not the last
}

TEST_CASE("sage: a later pass asks for changes since the watermark, then for deletions", "[sage]") {
  auto c = sage_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "sales_invoices");
  stream_cursor before;
  before.state = R"({"watermark":"2026-11-21T10:00:00Z"})";
  auto cur = cursor_for_pass(*conn, s, before, false, "");
  CHECK(conn->page_request(s, cur).url ==
        std::string(kBase) +
            "/sales_invoices?items_per_page=200&attributes=all&updated_or_created_since="
            "2026-11-21T10:00:00Z");
  json invoice{{"id", "i9"},
               {"updated_at", "2026-11-22T12:30:00Z"},
               {"invoice_number", "SI-9"},
               {"contact", sage_link("c1", "Customer c1")},
               {"date", "2026-11-22"},
               {"due_date", "2026-12-22"},
               {"net_amount", "100.0"},
               {"tax_amount", "20.0"},
               {"total_amount", "120.0"},
               {"total_paid", "0.0"},
               {"outstanding_amount", "120.0"},
               {"currency", sage_link("GBP", "Pound Sterling")},
               {"status", sage_link("UNPAID", "Unpaid")}};
  auto changes = conn->parse_page(s, cur, sage_page({invoice}, nullptr));
  REQUIRE(changes.error.ok());
  REQUIRE(changes.records.size() == 1);
  auto fields = json::parse(changes.records[0].body)["fields"];
  CHECK(fields["total"] == "120.00");
  CHECK(fields["status"] == "open");
  // The changes are read; the same pass goes on with deletions.
  CHECK(changes.has_more);
  auto deleting = cursor_after(*conn, s, cur, changes);
  CHECK(deleting.in_pass);
  CHECK(conn->page_request(s, deleting).url ==
        std::string(kBase) +
            "/sales_invoices?items_per_page=200&deleted_since=2026-11-21T10:00:00Z");
  auto gone = conn->parse_page(
      s, deleting,
      sage_page({json{{"id", "i3"}, {"deleted_at", "2026-11-23T08:00:00Z"}}}, nullptr));
  REQUIRE(gone.error.ok());
  CHECK_FALSE(gone.has_more);
  REQUIRE(gone.records.size() == 1);
  CHECK(gone.records[0].id == "i3");
  CHECK(gone.records[0].deleted);
  CHECK(gone.records[0].body.empty());
  auto done = cursor_after(*conn, s, deleting, gone);
  CHECK_FALSE(done.in_pass);
  // The newest change, not the deletion's time: a change made meanwhile may be older.
  CHECK(watermark_of(done) == "2026-11-22T12:30:00Z");

  // Nothing changed: the watermark stays.
  auto quiet = cursor_for_pass(*conn, s, done, false, "");
  auto none = conn->parse_page(s, quiet, sage_page({}, nullptr));
  auto quiet_del = cursor_after(*conn, s, quiet, none);
  auto end =
      cursor_after(*conn, s, quiet_del, conn->parse_page(s, quiet_del, sage_page({}, nullptr)));
  CHECK_FALSE(end.in_pass);
  CHECK(watermark_of(end) == "2026-11-22T12:30:00Z");

  // A full pass lists everything and asks for no deletions: what it misses becomes one.
  auto full = cursor_for_pass(*conn, s, done, true, "p1");
  CHECK(conn->page_request(s, full).url ==
        std::string(kBase) + "/sales_invoices?items_per_page=200&attributes=all");
  CHECK_FALSE(conn->parse_page(s, full, sage_page({}, nullptr)).has_more);
}

TEST_CASE("sage: a record lacking a required field is set aside; bank accounts are accounts",
          "[sage]") {
  auto c = sage_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "contacts");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto page = conn->parse_page(s, cur,
                               sage_page({contact("c1", "2026-11-20T10:00:00Z", false),
                                          contact("c2", "2026-11-20T11:00:00Z")},
                                         nullptr));
  REQUIRE(page.error.ok());
  REQUIRE(page.invalid.size() == 1);
  CHECK(page.invalid[0].id == "c1");
  CHECK(page.invalid[0].missing == std::vector<std::string>{"name"});
  CHECK(json::parse(page.invalid[0].body)["reference"] == "Cc1");
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].id == "c2");

  auto& banks = stream_named(c, "bank_accounts");
  json bank{{"id", "ba1"},
            {"displayed_as", "Current (1200)"},
            {"updated_at", "2026-11-20T10:00:00Z"},
            {"bank_account_details", {{"account_name", "Current"}}},
            {"nominal_code", 1200},
            {"currency", sage_link("GBP", "Pound Sterling")}};
  auto accounts = conn->parse_page(banks, cursor_for_pass(*conn, banks, {}, false, ""),
                                   sage_page({bank}, nullptr));
  REQUIRE(accounts.records.size() == 1);
  auto fields = json::parse(accounts.records[0].body)["fields"];
  CHECK(fields["name"] == "Current");
  CHECK(fields["code"] == "1200");
  CHECK(fields["class"] == "asset");
  CHECK(fields["type"] == "BANK");
  CHECK(fields["currency"] == "GBP");
}

TEST_CASE("sage: a $next link to another host is refused, the token never sent there", "[sage]") {
  auto c = sage_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "contacts");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  for (std::string next :
       {"https://evil.example/v3.1/contacts?page=2", "//evil.example/contacts?page=2",
        "http://api.accounting.sage.com/v3.1/contacts?page=2"}) {
    auto page = conn->parse_page(s, cur, sage_page({contact("c1", "2026-11-20T10:00:00Z")}, next));
    CAPTURE(next);
    CHECK_FALSE(page.has_more);
    CHECK(page.error.category == error_category::config);
    CHECK(page.error.permanent);
    CHECK(page.error.message.find("refused so that the credentials go nowhere else") !=
          std::string::npos);
  }
  // An absolute link on the configured origin is followed as it is.
  auto same = conn->parse_page(
      s, cur,
      sage_page({contact("c1", "2026-11-20T10:00:00Z")}, std::string(kBase) + "/contacts?page=2"));
  REQUIRE(same.error.ok());
  CHECK(conn->page_request(s, cursor_after(*conn, s, cur, same)).url ==
        std::string(kBase) + "/contacts?page=2");
}

TEST_CASE("sage: a refused token says what to do; an unknown business names the setting",
          "[sage]") {
  auto c = sage_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "ledger_accounts");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  http_response denied;
  denied.status = 401;
  denied.body = R"([{"$severity":"error","$dataCode":"AuthorizationFailure",
                     "$message":"The access token is missing, invalid or has expired.",
                     "$source":""}])";
  auto page = conn->parse_page(s, cur, denied);
  CHECK(page.error.category == error_category::auth);
  CHECK(page.error.message ==
        "stream ledger_accounts: HTTP 401 — The access token is missing, invalid or has "
        "expired.");
  CHECK(page.error.hint() ==
        "Sage refused the access token (AuthorizationFailure): its access tokens last 5 minutes "
        "— connect again, or give a current token with --api-key-file");

  http_response unknown;
  unknown.status = 404;
  unknown.body = R"([{"$severity":"error","$dataCode":"RecordNotFound",
                      "$message":"No business with that id is accessible.",
                      "$source":"X-Business"}])";
  auto missing = conn->parse_page(s, cur, unknown);
  CHECK(missing.error.category == error_category::config);
  CHECK(missing.error.hint().starts_with(
      "Sage knows no business \"b4e1c0ffee\" for this token: check settings.business_id"));

  http_response limited;
  limited.status = 429;
  limited.headers = {{"Retry-After", "12"}};
  limited.body = R"([{"$severity":"error","$dataCode":"TooManyRequests","$message":"Slow down"}])";
  auto slow = conn->parse_page(s, cur, limited);
  CHECK(slow.error.category == error_category::rate_limited);
  CHECK(slow.error.retry_after_s == 12);

  http_response junk;
  junk.status = 200;
  junk.body = R"({"id":"x"})";
  CHECK(conn->parse_page(s, cur, junk).error.message ==
        "stream ledger_accounts: the answer is not a Sage list (no $items)");

  auto probe = conn->probe_request(s);
  CHECK(probe.url == std::string(kBase) + "/ledger_accounts?items_per_page=1");
  CHECK(header_of(probe, "X-Business") == "b4e1c0ffee");
}
