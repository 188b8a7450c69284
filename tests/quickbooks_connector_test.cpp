// The quickbooks connector on canned answers shaped like QuickBooks Online's: the query
// endpoint paged to the end, the incremental pass and Change Data Capture's deletions,
// set-aside records, and Fault bodies (also inside HTTP 200) as error categories.
#include "connectors/quickbooks_connector.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "tests/connector_fixtures.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

const char* const kCompany = "https://quickbooks.api.intuit.com/v3/company/9130350000000000";

integration_config qbo_config(json settings = json{{"realm_id", "9130350000000000"}}) {
  return kind_config("quickbooks", "qb", "https://quickbooks.api.intuit.com/v3/company",
                     std::move(settings));
}

json invoice(const std::string& id, const std::string& updated, bool total = true) {
  json j{{"Id", id},
         {"SyncToken", "0"},
         {"domain", "QBO"},
         {"MetaData", {{"CreateTime", "2026-11-01T09:00:00-07:00"}, {"LastUpdatedTime", updated}}},
         {"CurrencyRef", {{"value", "USD"}}},
         {"DocNumber", "10" + id},
         {"TxnDate", "2026-11-20"},
         {"DueDate", "2026-12-20"},
         {"CustomerRef", {{"value", "1"}, {"name", "Amy's Bird Sanctuary"}}},
         {"TxnTaxDetail", {{"TotalTax", 10}}},
         {"Balance", 110.5}};
  if (total) j["TotalAmt"] = 110.5;
  return j;
}

http_response query_page(const std::string& entity, const std::vector<json>& items,
                         const std::string& time = "2026-11-25T10:00:00-07:00") {
  http_response r;
  r.status = 200;
  json qr = json::object();
  if (!items.empty()) {
    qr[entity] = items;
    qr["startPosition"] = 1;
    qr["maxResults"] = items.size();
  }
  r.body = json{{"QueryResponse", qr}, {"time", time}}.dump();
  return r;
}

http_response cdc_page(const std::string& entity, const std::vector<json>& items) {
  http_response r;
  r.status = 200;
  r.body = json{{"CDCResponse", {{{"QueryResponse", {{{entity, items}}}}}}},
                {"time", "2026-11-25T10:05:00-07:00"}}
               .dump();
  return r;
}

std::string watermark_of(const stream_cursor& c) {
  return json::parse(c.state).value("watermark", "");
}

// The query text of a request, decoded.
std::string query_of(const std::string& url) {
  auto at = url.find("query=");
  std::string enc = url.substr(at + 6, url.find('&', at) - at - 6), out;
  for (size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == '%') {
      out += static_cast<char>(std::stoi(enc.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += enc[i];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("quickbooks is registered: label, settings, four streams, the company's rate",
          "[quickbooks]") {
  auto* k = find_connector_kind("quickbooks");
  REQUIRE(k);
  CHECK(k->label == "QuickBooks Online");
  CHECK(k->setting("realm_id")->required);
  CHECK(k->setting("minor_version")->default_value == 75);
  REQUIRE(k->default_rate);
  auto rate = k->default_rate(nlohmann::json::object());
  CHECK(rate.calls == 500);
  CHECK(rate.per == std::chrono::minutes(1));
  CHECK(rate.burst == 1);
  std::vector<std::pair<std::string, std::string>> names;
  for (auto& s : k->default_streams()) names.emplace_back(s.name, s.entity);
  CHECK(names == std::vector<std::pair<std::string, std::string>>{{"customers", "customer"},
                                                                  {"invoices", "invoice"},
                                                                  {"payments", "payment"},
                                                                  {"accounts", "gl_account"}});
  CHECK(validate(qbo_config()) == "");
  CHECK(validate_settings(*k, json::object())
            .starts_with("settings.realm_id is required for quickbooks"));
  CHECK(validate_settings(*k, json{{"realm_id", "12/../34"}}) ==
        "settings.realm_id must be the company's realm id (digits), got \"12/../34\"");
}

TEST_CASE("quickbooks: the query pages by STARTPOSITION to the end, then reads CDC",
          "[quickbooks]") {
  auto c = qbo_config(json{{"realm_id", "9130350000000000"}, {"max_results", 2}});
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto req = conn->page_request(s, cur);
  CHECK(req.url == std::string(kCompany) +
                       "/query?query=SELECT%20%2A%20FROM%20Invoice%20ORDERBY%20MetaData."
                       "LastUpdatedTime%20STARTPOSITION%201%20MAXRESULTS%202&minorversion=75");
  CHECK(header_of(req, "Authorization") == "Bearer access-1");
  CHECK(req.allowed_origin == "https://quickbooks.api.intuit.com:443");

  auto page = conn->parse_page(s, cur,
                               query_page("Invoice", {invoice("1", "2026-11-20T10:00:00-07:00"),
                                                      invoice("2", "2026-11-21T10:00:00-07:00")}));
  REQUIRE(page.error.ok());
  CHECK(page.has_more);
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].id == "1");
  CHECK(page.records[1].updated_at == "2026-11-21T10:00:00-07:00");
  auto body = json::parse(page.records[0].body);
  CHECK(body["entity"] == "invoice");
  CHECK(body["fields"]["total"] == "110.50");
  CHECK(body["fields"]["status"] == "open");

  auto next = cursor_after(*conn, s, cur, page);
  CHECK(next.in_pass);
  CHECK(query_of(conn->page_request(s, next).url) ==
        "SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime STARTPOSITION 3 MAXRESULTS 2");
  auto last = conn->parse_page(s, next,
                               query_page("Invoice", {invoice("3", "2026-11-19T10:00:00-07:00")},
                                          "2026-11-25T10:01:00-07:00"));
  REQUIRE(last.error.ok());
  // The query is read; CDC follows for what changed since the pass began.
  CHECK(last.has_more);
  auto cdc = cursor_after(*conn, s, next, last);
  CHECK(conn->page_request(s, cdc).url ==
        std::string(kCompany) +
            "/cdc?entities=Invoice&changedSince=2026-11-25T10%3A00%3A00-07%3A00&minorversion=75");
  auto changes = conn->parse_page(s, cdc, cdc_page("Invoice", {}));
  REQUIRE(changes.error.ok());
  CHECK_FALSE(changes.has_more);
  auto done = cursor_after(*conn, s, cdc, changes);
  CHECK_FALSE(done.in_pass);
  CHECK(watermark_of(done) == "2026-11-21T10:00:00-07:00");  // the newest, not the last
}

TEST_CASE("quickbooks: a later pass queries since the watermark; CDC's deletions are tombstones",
          "[quickbooks]") {
  auto c = qbo_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "payments");
  stream_cursor before;
  before.state = R"({"watermark":"2026-11-21T10:00:00-07:00"})";
  auto cur = cursor_for_pass(*conn, s, before, false, "");
  CHECK(query_of(conn->page_request(s, cur).url) ==
        "SELECT * FROM Payment WHERE MetaData.LastUpdatedTime >= '2026-11-21T10:00:00-07:00' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000");
  json payment{
      {"Id", "7"},
      {"MetaData", {{"LastUpdatedTime", "2026-11-22T08:00:00-07:00"}}},
      {"CurrencyRef", {{"value", "USD"}}},
      {"TxnDate", "2026-11-22"},
      {"TotalAmt", 25},
      {"CustomerRef", {{"value", "1"}}},
      {"Line", {{{"Amount", 25}, {"LinkedTxn", {{{"TxnId", "3"}, {"TxnType", "Invoice"}}}}}}}};
  auto page = conn->parse_page(s, cur, query_page("Payment", {payment}));
  REQUIRE(page.records.size() == 1);
  CHECK(json::parse(page.records[0].body)["fields"]["invoice_id"] == "3");
  CHECK(page.has_more);
  auto cdc = cursor_after(*conn, s, cur, page);
  CHECK(conn->page_request(s, cdc).url.find(
            "/cdc?entities=Payment&changedSince=2026-11-21T10%3A00%3A00-07%3A00") !=
        std::string::npos);
  json gone{{"domain", "QBO"},
            {"status", "Deleted"},
            {"Id", "5"},
            {"MetaData", {{"LastUpdatedTime", "2026-11-23T08:00:00-07:00"}}}};
  auto deletions = conn->parse_page(s, cdc, cdc_page("Payment", {gone, payment}));
  REQUIRE(deletions.error.ok());
  REQUIRE(deletions.records.size() == 2);
  CHECK(deletions.records[0].id == "5");
  CHECK(deletions.records[0].deleted);
  CHECK(deletions.records[0].body.empty());
  CHECK_FALSE(deletions.records[1].deleted);  // a change CDC repeats: unchanged, not rewritten
  CHECK_FALSE(deletions.has_more);
  auto done = cursor_after(*conn, s, cdc, deletions);
  CHECK_FALSE(done.in_pass);
  CHECK(watermark_of(done) == "2026-11-22T08:00:00-07:00");

  // Not synced for more than CDC's 30 days: the query still runs, CDC is not asked (it would
  // refuse); a full pass reconciles deletions.
  stream_cursor old;
  old.state = R"({"watermark":"2026-09-01T10:00:00-07:00"})";
  auto stale = cursor_for_pass(*conn, s, old, false, "");
  CHECK_FALSE(conn->parse_page(s, stale, query_page("Payment", {})).has_more);
}

TEST_CASE("quickbooks: CDC reads from when the last pass began, not from the newest record",
          "[quickbooks]") {
  auto c = qbo_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "customers");
  auto first = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  json customer{{"Id", "1"},
                {"DisplayName", "Amy's Bird Sanctuary"},
                {"MetaData", {{"LastUpdatedTime", "2026-08-01T10:00:00-07:00"}}}};
  auto listed =
      conn->parse_page(s, first, query_page("Customer", {customer}, "2026-11-20T09:00:00-07:00"));
  auto cdc = cursor_after(*conn, s, first, listed);
  auto done = cursor_after(*conn, s, cdc, conn->parse_page(s, cdc, cdc_page("Customer", {})));
  CHECK_FALSE(done.in_pass);
  // A quiet company: its newest record is four months old, its last sync five days.
  auto later_pass = cursor_for_pass(*conn, s, done, false, "");
  CHECK(query_of(conn->page_request(s, later_pass).url).find(">= '2026-08-01T10:00:00-07:00'") !=
        std::string::npos);
  auto quiet =
      conn->parse_page(s, later_pass, query_page("Customer", {}, "2026-11-25T09:00:00-07:00"));
  CHECK(quiet.has_more);
  CHECK(conn->page_request(s, cursor_after(*conn, s, later_pass, quiet))
            .url.find("changedSince=2026-11-20T09%3A00%3A00-07%3A00") != std::string::npos);
}

TEST_CASE("quickbooks: a record lacking a required field is set aside; accounts map",
          "[quickbooks]") {
  auto c = qbo_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "invoices");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto page =
      conn->parse_page(s, cur,
                       query_page("Invoice", {invoice("1", "2026-11-20T10:00:00-07:00", false),
                                              invoice("2", "2026-11-20T11:00:00-07:00")}));
  REQUIRE(page.error.ok());
  REQUIRE(page.invalid.size() == 1);
  CHECK(page.invalid[0].id == "1");
  CHECK(page.invalid[0].missing == std::vector<std::string>{"total"});
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].id == "2");

  auto& a = stream_named(c, "accounts");
  CHECK(query_of(conn->page_request(a, cursor_for_pass(*conn, a, {}, false, "")).url)
            .starts_with("SELECT * FROM Account ORDERBY"));
  json account{{"Id", "35"},
               {"Name", "Checking"},
               {"AcctNum", "1000"},
               {"Classification", "Asset"},
               {"AccountType", "Bank"},
               {"CurrencyRef", {{"value", "USD"}}},
               {"Active", true},
               {"MetaData", {{"LastUpdatedTime", "2026-11-20T10:00:00-07:00"}}}};
  auto accounts = conn->parse_page(a, cursor_for_pass(*conn, a, {}, false, ""),
                                   query_page("Account", {account}));
  REQUIRE(accounts.records.size() == 1);
  auto fields = json::parse(accounts.records[0].body)["fields"];
  CHECK(fields["name"] == "Checking");
  CHECK(fields["code"] == "1000");
  CHECK(fields["class"] == "asset");
  CHECK(fields["type"] == "Bank");
  CHECK(fields["status"] == "active");
}

TEST_CASE("quickbooks: Fault bodies are error categories, also inside an HTTP 200",
          "[quickbooks]") {
  auto c = qbo_config();
  auto conn = make_connector(c);
  auto& s = stream_named(c, "customers");
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto answer = [](int status, std::string body) {
    http_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  };

  auto in_200 = conn->parse_page(
      s, cur, answer(200, R"({"Fault":{"Error":[{"Message":"An application error has occurred",
        "Detail":"System Failure Error: boom","code":"10000"}],"type":"SystemFault"},
        "time":"2026-11-25T10:00:00-07:00"})"));
  CHECK(in_200.error.category == error_category::upstream);
  CHECK(in_200.error.retryable());
  CHECK(in_200.error.message ==
        "stream customers: HTTP 200 — QuickBooks SystemFault 10000: An application error has "
        "occurred (System Failure Error: boom)");
  CHECK(in_200.records.empty());

  auto denied = conn->parse_page(
      s, cur,
      answer(401, R"({"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200",
        "detail":"Token expired or invalid","code":"3200"}],"type":"AUTHENTICATION"}})"));
  CHECK(denied.error.category == error_category::auth);
  CHECK(denied.error.hint().starts_with("QuickBooks refused the access token"));

  auto auth_fault =
      conn->parse_page(s, cur, answer(200, R"({"Fault":{"Error":[{"Message":"x","code":"100"}],
        "type":"AuthenticationFault"}})"));
  CHECK(auth_fault.error.category == error_category::auth);

  auto realm = conn->parse_page(
      s, cur, answer(403, R"({"Fault":{"Error":[{"Message":"ApplicationAuthorizationFailed",
        "code":"3100"}],"type":"AuthorizationFault"}})"));
  CHECK(realm.error.category == error_category::auth);
  CHECK(realm.error.hint().find("settings.realm_id") != std::string::npos);

  auto invalid =
      conn->parse_page(s, cur, answer(400, R"({"Fault":{"Error":[{"Message":"Error parsing query",
        "Detail":"QueryParserError","code":"4000"}],"type":"ValidationFault"}})"));
  CHECK(invalid.error.category == error_category::validation);
  CHECK_FALSE(invalid.error.retryable());

  auto throttled = conn->parse_page(
      s, cur, answer(429, R"({"Fault":{"Error":[{"Message":"message=ThrottleExceeded",
        "code":"3001"}],"type":"ThrottleExceeded"}})"));
  CHECK(throttled.error.category == error_category::rate_limited);
  CHECK(throttled.error.retry_after_s == 60);

  auto junk = conn->parse_page(s, cur, answer(200, R"({"time":"x"})"));
  CHECK(junk.error.message == "stream customers: the answer is not a QuickBooks query response");

  auto probe = conn->probe_request(s);
  CHECK(query_of(probe.url) == "SELECT COUNT(*) FROM Customer");
}
