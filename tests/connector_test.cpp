// The REST connector on canned answers: every pagination style, incremental parameters,
// validation, error mapping, and the sandbox's pages.
#include "connectors/connector.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "connectors/http_client.hpp"
#include "connectors/paging_guard.hpp"
#include "connectors/watermark.hpp"
#include "core/retry_policy.hpp"
#include "sandbox/sandbox_data.hpp"
#include "tests/faulty_storage.hpp"

using namespace ledgersync;

namespace {
integration_config cfg_with(stream_config s) {
  integration_config c;
  c.name = "t";
  c.base_url = "https://api.example.com/v2/";
  c.api_key = "sk_test_123";
  c.streams = {std::move(s)};
  return c;
}
// The rest connector's state is JSON; tests read and set its fields.
void set_state(stream_cursor& c, const char* key, const std::string& value) {
  auto j = nlohmann::json::parse(c.state.empty() ? "{}" : c.state);
  j[key] = value;
  c.state = j.dump();
}
std::string state_of(const stream_cursor& c, const char* key) {
  auto j = nlohmann::json::parse(c.state, nullptr, false);
  return j.is_object() ? j.value(key, "") : "";
}
http_response ok(std::string body, header_list h = {}) {
  http_response r;
  r.status = 200;
  r.body = std::move(body);
  r.headers = std::move(h);
  return r;
}
}  // namespace

TEST_CASE("cursor paging: first request, next request, last page") {
  auto c = cfg_with(default_rest_streams()[0]);
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  stream_cursor cur;
  auto req = conn->page_request(s, cur);
  CHECK(req.url == "https://api.example.com/v2/v1/customers?limit=500");
  CHECK(req.headers[1] ==
        std::pair<std::string, std::string>{"Authorization", "Bearer sk_test_123"});
  auto p = conn->parse_page(
      s, cur,
      ok(R"({"data":[{"id":"a","name":"A","email":"a@x","updated_at":"2026-01-01T00:00:00Z"},
      {"id":7,"name":"B","email":"b@x","updated_at":"2026-01-02T00:00:00Z"}],"next_cursor":"tok1","total":3})"));
  REQUIRE(p.error.ok());
  CHECK(p.records.size() == 2);
  CHECK(p.records[1].id == "7");
  CHECK(p.records[0].body ==
        R"({"id":"a","name":"A","email":"a@x","updated_at":"2026-01-01T00:00:00Z"})");
  CHECK(p.has_more);
  CHECK(p.next_token == "tok1");
  CHECK(p.total == 3);
  CHECK(p.max_updated == "2026-01-02T00:00:00Z");
  set_state(cur, "page_token", "tok1");
  set_state(cur, "pass_since", "2025-12-31T00:00:00Z");
  req = conn->page_request(s, cur);
  CHECK(req.url ==
        "https://api.example.com/v2/v1/"
        "customers?limit=500&updated_since=2025-12-31T00:00:00Z&cursor=tok1");
  p = conn->parse_page(s, cur, ok(R"({"data":[],"next_cursor":null})"));
  CHECK_FALSE(p.has_more);
}

TEST_CASE("page-number paging stops at a short page or the page count") {
  stream_config s;
  s.name = "Invoices";
  s.path = "/Invoices";
  s.records_pointer = "/Invoices";
  s.id_pointer = "/InvoiceID";
  s.updated_pointer = "/UpdatedDateUTC";
  s.paging = pagination_style::page;
  s.page_size_param = "pageSize";
  s.page_size = 2;
  s.page_count_pointer = "/pagination/pageCount";
  s.incremental_header = "If-Modified-Since";
  auto c = cfg_with(s);
  auto conn = make_connector(c);
  stream_cursor cur;
  set_state(cur, "pass_since", "2026-01-01T00:00:00Z");
  auto req = conn->page_request(c.streams[0], cur);
  CHECK(req.url == "https://api.example.com/v2/Invoices?pageSize=2&page=1");
  CHECK(req.headers.back() ==
        std::pair<std::string, std::string>{"If-Modified-Since", "2026-01-01T00:00:00Z"});
  auto body =
      R"({"pagination":{"page":1,"pageSize":2,"pageCount":2},"Invoices":[{"InvoiceID":"i1"},{"InvoiceID":"i2"}]})";
  auto p = conn->parse_page(c.streams[0], cur, ok(body));
  CHECK(p.has_more);
  CHECK(p.next_token == "2");
  set_state(cur, "page_token", "2");
  p = conn->parse_page(c.streams[0], cur, ok(body));
  CHECK_FALSE(p.has_more);  // page 2 of 2
  set_state(cur, "page_token", "1");
  p = conn->parse_page(c.streams[0], cur, ok(R"({"Invoices":[{"InvoiceID":"i1"}]})"));
  CHECK_FALSE(p.has_more);  // short page
}

TEST_CASE("next-URL and Link-header paging") {
  stream_config s;
  s.name = "contacts";
  s.path = "/contacts";
  s.records_pointer = "/value";
  s.paging = pagination_style::next_url;
  s.next_url_pointer = "/@odata.nextLink";
  auto c = cfg_with(s);
  auto conn = make_connector(c);
  stream_cursor cur;
  auto p = conn->parse_page(
      c.streams[0], cur,
      ok(R"({"value":[{"id":"1"}],"@odata.nextLink":"https://API.example.com:443/v2/contacts?$skiptoken=9"})"));
  CHECK(p.error.ok());
  CHECK(p.next_token == "https://API.example.com:443/v2/contacts?$skiptoken=9");
  set_state(cur, "page_token", p.next_token);
  auto next = conn->page_request(c.streams[0], cur);
  CHECK(next.url == "https://API.example.com:443/v2/contacts?$skiptoken=9");
  CHECK(next.allowed_origin == "https://api.example.com:443");
  CHECK(origin_of(next.url) == next.allowed_origin);

  c.streams[0].paging = pagination_style::link;
  auto conn2 = make_connector(c);
  p = conn2->parse_page(
      c.streams[0], stream_cursor{},
      ok(R"({"value":[{"id":"1"}]})",
         {{"Link", R"(</contacts?page=1>; rel="prev", </contacts?page=3>; rel="next")"}}));
  CHECK(p.next_token == "/contacts?page=3");
  stream_cursor c2;
  set_state(c2, "page_token", p.next_token);
  CHECK(conn2->page_request(c.streams[0], c2).url == "https://api.example.com/contacts?page=3");
}

TEST_CASE("records missing required fields are set aside with their names") {
  auto c = cfg_with(default_rest_streams()[1]);  // invoices: customer_id, total, currency
  auto conn = make_connector(c);
  auto p = conn->parse_page(
      c.streams[0], {}, ok(R"({"data":[{"id":"inv1","customer_id":"c","total":1,"currency":"GBP"},
                                             {"id":"inv2","customer_id":"c","total":null,"currency":""},
                                             {"customer_id":"c","total":1,"currency":"GBP"}]})"));
  REQUIRE(p.error.ok());
  CHECK(p.records.size() == 1);
  REQUIRE(p.invalid.size() == 2);
  CHECK(p.invalid[0].id == "inv2");
  CHECK(p.invalid[0].missing == std::vector<std::string>{"total", "currency"});
  CHECK(p.invalid[1].missing == std::vector<std::string>{"id"});
}

TEST_CASE("garbage from the upstream is an upstream error, not a crash") {
  auto c = cfg_with(default_rest_streams()[0]);
  auto conn = make_connector(c);
  for (auto body :
       {R"({"data":[{"id":"a","name":)", "<html>502</html>", R"({"data":{"id":1}})", ""}) {
    auto p = conn->parse_page(c.streams[0], {}, ok(body));
    CHECK(p.error.category == error_category::upstream);
    CHECK_FALSE(p.error.message.empty());
  }
}

TEST_CASE("HTTP statuses map to categories with the vendor's message") {
  http_response r;
  r.status = 401;
  r.body = R"({"error":{"message":"Invalid API Key provided"}})";
  auto e = classify_response(r, "customers");
  CHECK(e.category == error_category::auth);
  CHECK(e.message == "customers: HTTP 401 — Invalid API Key provided");
  r.status = 429;
  r.headers = {{"retry-after", "12"}};
  r.body = R"({"Title":"Too many","Detail":"minute limit"})";
  e = classify_response(r, "x");
  CHECK(e.category == error_category::rate_limited);
  CHECK(e.retry_after_s == 12);
  r.status = 503;
  CHECK(classify_response(r, "x").category == error_category::upstream);
  r.status = 504;
  CHECK(classify_response(r, "x").category == error_category::timeout);
  r.status = 404;
  r.body = R"([{"$severity":"error","$message":"Not found"}])";
  e = classify_response(r, "x");
  CHECK(e.category == error_category::config);
  CHECK(e.message.find("Not found") != std::string::npos);
  r.status = 0;
  r.error = make_error_info(error_category::timeout, "timed out", true);
  CHECK(classify_response(r, "x").transport);
}

TEST_CASE("percent_encode keeps RFC 3986's unreserved characters and those asked for") {
  CHECK(percent_encode("aZ09-._~ /:'%") == "aZ09-._~%20%2F%3A%27%25");
  CHECK(percent_encode("/drop/a b%2F..", "/") == "/drop/a%20b%252F..");
  CHECK(percent_encode("Modified gt '2024'", ":'") == "Modified%20gt%20'2024'");
  CHECK(percent_encode("\xC3\xA9") == "%C3%A9");
}

TEST_CASE("Retry-After: delta-seconds, or an HTTP-date counted from the answer's Date; capped") {
  CHECK(parse_retry_after("120") == 120);
  CHECK(parse_retry_after(" 7 ") == 7);
  CHECK(parse_retry_after("") == -1);
  CHECK(parse_retry_after("soon") == -1);
  CHECK(parse_retry_after("12s") == -1);
  // The date is read against the vendor's own clock, never ours.
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:26:30 GMT") == 90);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", "Thu, 22 Oct 2015 00:00:00 GMT") == 0);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == -1);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", "yesterday") == -1);
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", "Wed, 21 Oct 2015 07:26:30 GMT") ==
        -1);
  // A hostile or broken answer cannot hold an integration back for years.
  CHECK(parse_retry_after("999999999999999999999") == 2 * 24 * 3600);
  CHECK(parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", "Wed, 21 Oct 2015 07:26:30 GMT") ==
        2 * 24 * 3600);
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC") == -1);
  CHECK(parse_http_date("Sun, 36 Nov 1994 08:49:37 GMT") == -1);
  http_response r;
  r.status = 429;
  r.headers = {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"},
               {"Date", "Wed, 21 Oct 2015 07:27:00 GMT"}};
  CHECK(classify_response(r, "x").retry_after_s == 60);
}

TEST_CASE("stream cursor survives a JSON round trip; the connector's state is opaque to it") {
  stream_cursor c;
  c.in_pass = true;
  c.pages = 4;
  c.full = true;
  c.pass_id = "run-3";
  c.state = "anything \"the connector\" keeps";
  auto d = stream_cursor::from_json(c.to_json());
  CHECK(d.in_pass);
  CHECK(d.pages == 4);
  CHECK(d.full);
  CHECK(d.pass_id == "run-3");
  CHECK(d.state == c.state);
}

TEST_CASE("a cursor stored before connectors owned their state loads, its fields in the state") {
  auto old = stream_cursor::from_json(
      R"({"watermark":"2026-01-01T00:00:00Z","in_pass":true,"pass_since":"2025-12-01T00:00:00Z",)"
      R"("page_token":"tok7","pass_max":"2026-01-02T00:00:00Z","pages":3,"full":true,)"
      R"("pass_id":"run-9"})");
  CHECK(old.in_pass);
  CHECK(old.pages == 3);
  CHECK(old.full);
  CHECK(old.pass_id == "run-9");
  CHECK(state_of(old, "watermark") == "2026-01-01T00:00:00Z");
  CHECK(state_of(old, "pass_since") == "2025-12-01T00:00:00Z");
  CHECK(state_of(old, "page_token") == "tok7");
  CHECK(state_of(old, "pass_max") == "2026-01-02T00:00:00Z");
  // The rest connector resumes the old pass where it stood.
  auto c = cfg_with(default_rest_streams()[0]);
  auto conn = make_connector(c);
  CHECK(conn->page_token(old.state) == "tok7");
  CHECK(conn->page_request(c.streams[0], old).url ==
        "https://api.example.com/v2/v1/"
        "customers?limit=500&updated_since=2025-12-01T00:00:00Z&cursor=tok7");
  // An old cursor between passes; and one with nothing in it.
  auto idle =
      stream_cursor::from_json(R"({"watermark":"2026-01-01T00:00:00Z","in_pass":false,)"
                               R"("pass_since":"","page_token":"","pass_max":"","pages":0})");
  CHECK_FALSE(idle.in_pass);
  CHECK(idle.state == R"({"watermark":"2026-01-01T00:00:00Z"})");
  CHECK(stream_cursor::from_json("{}").state.empty());
  CHECK(stream_cursor::from_json("not json").state.empty());
}

TEST_CASE("a pass's pages move the cursor; its last page sets the watermark") {
  auto c = cfg_with(default_rest_streams()[0]);
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  stream_cursor idle;
  set_state(idle, "watermark", "2026-01-01T00:00:00.000Z");
  auto c0 = cursor_for_pass(*conn, s, idle, false, "");
  CHECK(c0.in_pass);
  CHECK(c0.pages == 0);
  CHECK(state_of(c0, "pass_since") == "2026-01-01T00:00:00.000Z");
  page_result p1;
  p1.has_more = true;
  p1.next_token = "t2";
  p1.max_updated = "2026-02-01T00:00:00.000Z";
  auto c1 = cursor_after(*conn, s, c0, p1);
  CHECK(state_of(c1, "page_token") == "t2");
  CHECK(c1.in_pass);
  CHECK(c1.pages == 1);
  // Not before the pass is complete: a crash resumes it.
  CHECK(state_of(c1, "watermark") == "2026-01-01T00:00:00.000Z");
  CHECK(state_of(c1, "pass_max") == p1.max_updated);
  page_result p2;  // the last page; its records are older than the first page's
  p2.max_updated = "2026-01-15T00:00:00.000Z";
  auto c2 = cursor_after(*conn, s, c1, p2);
  CHECK_FALSE(c2.in_pass);
  CHECK(c2.pages == 2);
  CHECK(state_of(c2, "watermark") == "2026-02-01T00:00:00.000Z");
  CHECK(state_of(c2, "page_token").empty());
  CHECK(state_of(c2, "pass_since").empty());
  page_result empty;  // a pass that found nothing keeps the watermark
  CHECK(state_of(cursor_after(*conn, s, cursor_for_pass(*conn, s, c2, false, ""), empty),
                 "watermark") == state_of(c2, "watermark"));
  // A full pass asks for everything and carries its pass id until its last page.
  auto full = cursor_for_pass(*conn, s, c2, true, "run-5");
  CHECK(state_of(full, "pass_since").empty());
  CHECK(full.full);
  CHECK(full.pass_id == "run-5");
  auto after_full = cursor_after(*conn, s, full, p2);
  CHECK_FALSE(after_full.full);
  CHECK(after_full.pass_id.empty());
  CHECK(state_of(after_full, "watermark") == "2026-02-01T00:00:00.000Z");
}

TEST_CASE("watermarks compare as instants, where text order is wrong") {
  auto t = watermark_order::timestamp;
  // 'Z' sorts after '.' as text, yet 10:00:00Z is half a second before 10:00:00.5Z.
  CHECK(std::string("2026-11-25T10:00:00Z") > std::string("2026-11-25T10:00:00.5Z"));
  CHECK(later("2026-11-25T10:00:00.5Z", "2026-11-25T10:00:00Z", t));
  CHECK_FALSE(later("2026-11-25T10:00:00Z", "2026-11-25T10:00:00.5Z", t));
  // An offset: 11:00+01:00 is 10:00Z, before 10:30Z although it sorts after it as text.
  CHECK(later("2026-11-25T10:30:00Z", "2026-11-25T11:00:00+01:00", t));
  CHECK(compare_watermarks("2026-11-25T11:00:00+01:00", "2026-11-25T10:00:00Z", t) == 0);
  CHECK(compare_watermarks("2026-11-25T10:00:00.000000001Z", "2026-11-25T10:00:00Z", t) > 0);
  CHECK(later("2026-11-25T10:00:00-0030", "2026-11-25T10:15:00Z", t));
  CHECK(later("2026-11-25 10:00:01", "2026-11-25T10:00:00Z", t));  // no zone: UTC
  CHECK(later("2026-11-26", "2026-11-25T23:59:59Z", t));
  // Epoch numbers by value: 9 digits before 10 is earlier, though "999999999" > "1000000000".
  CHECK(later("1000000000", "999999999", t));
  // What is no time compares as text; text order compares as text.
  CHECK(later("v10", "v09", t));
  CHECK(later("2026-11-25T10:00:00Z", "2026-11-25T10:00:00.5Z", watermark_order::text));
  CHECK(later("x", "", t));
  CHECK_FALSE(later("", "x", t));
  CHECK_FALSE(parse_instant("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parse_instant("2026-11-25T10:00:00Zjunk"));
  CHECK_FALSE(parse_instant("2026-11-25T10:00:00."));

  // The rest connector keeps the later instant as the page's maximum and the watermark.
  auto c = cfg_with(default_rest_streams()[0]);
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  auto p = conn->parse_page(
      s, {},
      ok(R"({"data":[{"id":"a","name":"A","email":"a@x","updated_at":"2026-11-25T10:00:00.5Z"},
      {"id":"b","name":"B","email":"b@x","updated_at":"2026-11-25T10:00:00Z"}]})"));
  REQUIRE(p.error.ok());
  CHECK(p.max_updated == "2026-11-25T10:00:00.5Z");
  stream_cursor at;
  set_state(at, "watermark", "2026-11-25T10:00:00.5Z");
  auto pass = cursor_for_pass(*conn, s, at, false, "");
  page_result older;
  older.max_updated = "2026-11-25T10:00:00Z";
  CHECK(state_of(cursor_after(*conn, s, pass, older), "watermark") == "2026-11-25T10:00:00.5Z");
  // With watermark_order text, the string order decides (and here it is wrong on purpose).
  c.settings = {{"watermark_order", "text"}};
  auto text_conn = make_connector(c);
  auto text_pass = cursor_for_pass(*text_conn, s, at, false, "");
  CHECK(state_of(cursor_after(*text_conn, s, text_pass, older), "watermark") ==
        "2026-11-25T10:00:00Z");
}

TEST_CASE("sandbox pages: cursor order, incremental filter, changes move records forward") {
  sandbox::dataset d(25, 3);
  sandbox::page_query q;
  q.stream = "customers";
  q.limit = 10;
  std::string body;
  std::vector<std::string> ids;
  std::string cursor;
  for (int pages = 0; pages < 5; ++pages) {
    q.cursor = cursor;
    REQUIRE(d.page(q, body));
    auto j = nlohmann::json::parse(body);
    if (pages == 0) CHECK(j["total"] == 25);
    for (auto& r : j["data"]) ids.push_back(r["id"]);
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"];
  }
  CHECK(ids.size() == 25);
  CHECK(ids.front() == "cus_00000001");
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  auto later = int64_t{1800000000000};
  CHECK(d.mutate("customers", 3, later) == 3);
  q.cursor.clear();
  q.updated_since = "2027-01-15T08:00:00Z";  // = 1800000000000 ms
  REQUIRE(d.page(q, body));
  auto j = nlohmann::json::parse(body);
  CHECK(j["data"].size() == 3);
  CHECK(j["data"][0]["version"] == 2);
  CHECK(d.invalidate("customers", 1, later) == 1);
  REQUIRE(d.page(q, body));
  CHECK(body.find("\"email\"") != std::string::npos);
  q.updated_since = "yesterday";
  CHECK_FALSE(d.page(q, body));
  CHECK(d.record_json("invoices", 0).size() > 900);  // ~1 KB records
}

TEST_CASE("a next link to another origin or a local file is refused, naming the host") {
  stream_config s;
  s.name = "contacts";
  s.path = "/contacts";
  s.records_pointer = "/value";
  s.paging = pagination_style::next_url;
  s.next_url_pointer = "/next";
  auto c = cfg_with(s);
  auto conn = make_connector(c);
  for (auto bad : {"http://api.example.com/v2/contacts?p=2",        // scheme differs
                   "https://api.example.com:8443/v2/contacts?p=2",  // port differs
                   "https://127.0.0.2/capture",                     // host differs
                   "//evil.example/steal",                          // network-path reference
                   "file:///etc/passwd", "file:///dev/zero", "gopher://x/"}) {
    auto body = std::string(R"({"value":[{"id":"1"}],"next":")") + bad + "\"}";
    auto p = conn->parse_page(c.streams[0], stream_cursor{}, ok(body));
    INFO(bad);
    CHECK(p.error.category == error_category::config);
    CHECK(p.error.permanent);
    CHECK(p.error.message.find("refused") != std::string::npos);
    CHECK(p.records.empty());
  }
  auto p = conn->parse_page(c.streams[0], stream_cursor{},
                            ok(R"({"value":[],"next":"https://127.0.0.2/capture"})"));
  CHECK(p.error.message.find("https://127.0.0.2:443") != std::string::npos);
  // A relative link resolves against the base URL and stays on it.
  p = conn->parse_page(c.streams[0], stream_cursor{},
                       ok(R"({"value":[{"id":"1"}],"next":"/v2/contacts?p=2"})"));
  CHECK(p.error.ok());
  // Whatever a cursor holds (stored before this check existed), the request is bound to the
  // configured origin and file: is never allowed: the transport refuses anything else.
  stream_cursor cur;
  set_state(cur, "page_token", "https://127.0.0.2/capture");
  auto r = conn->page_request(c.streams[0], cur);
  CHECK(r.allowed_origin == "https://api.example.com:443");
  CHECK(origin_of(r.url) != r.allowed_origin);
  CHECK_FALSE(r.allow_file);
}

TEST_CASE("answers that fail the same way every time are permanent, not retried") {
  stream_config s;
  s.name = "customers";
  s.path = "/customers";
  auto c = cfg_with(s);
  auto conn = make_connector(c);
  auto p = conn->parse_page(c.streams[0], stream_cursor{}, ok("{\"data\":[\"\xff\xfe\"]}"));
  CHECK(p.error.category == error_category::upstream);
  CHECK(p.error.permanent);
  std::string deep(2000, '[');
  p = conn->parse_page(c.streams[0], stream_cursor{}, ok("{\"data\":" + deep));
  CHECK(p.error.category == error_category::upstream);
  retry_policy rp;
  auto e = make_error_info(error_category::upstream, "not UTF-8");
  CHECK(rp.next_delay(e, 0, 0).has_value());
  e.permanent = true;
  CHECK_FALSE(rp.next_delay(e, 0, 0).has_value());
}

TEST_CASE("the paging guard ends a pass whose token repeats or that pages without end") {
  paging_guard g(1000);
  CHECK(g.check("payments", 0, true, "A").ok());
  CHECK(g.check("payments", 1, true, "B").ok());
  auto e = g.check("payments", 2, true, "A");
  CHECK(e.category == error_category::upstream);
  CHECK(e.permanent);
  CHECK(e.message.find("'A' a second time") != std::string::npos);
  CHECK(g.check("payments", 2, false, "").ok());  // the last page names no token
  paging_guard resumed(1000);
  resumed.followed("SAME");  // a resumed pass remembers where it stood
  CHECK_FALSE(resumed.check("payments", 5, true, "SAME").ok());
  paging_guard capped(3);
  CHECK(capped.check("x", 0, true, "1").ok());
  CHECK(capped.check("x", 1, true, "2").ok());
  auto cap = capped.check("x", 2, true, "3");
  CHECK(cap.message.find("max_pages_per_pass") != std::string::npos);
}

TEST_CASE("totals come from X-Total-Count or Content-Range when the stream names the header") {
  CHECK(total_from_header("5000") == 5000);
  CHECK(total_from_header("items 0-499/5000") == 5000);
  CHECK(total_from_header("bytes 0-99/*") == -1);
  CHECK(total_from_header("") == -1);
  CHECK(total_from_header("many") == -1);
  CHECK(total_from_header("99999999999999999999") == -1);

  stream_config s;
  s.name = "invoices";
  s.path = "/invoices";
  s.records_pointer = "";
  s.paging = pagination_style::link;
  s.total_header = "X-Total-Count";
  auto c = cfg_with(s);
  auto conn = make_connector(c);
  auto p = conn->parse_page(c.streams[0], {}, ok(R"([{"id":1}])", {{"x-total-count", "5000"}}));
  CHECK(p.total == 5000);
  c.streams[0].total_header = "Content-Range";
  p = conn->parse_page(c.streams[0], {}, ok("[]", {{"Content-Range", "items 0-499/5000"}}));
  CHECK(p.total == 5000);
  p = conn->parse_page(c.streams[0], {}, ok("[]"));
  CHECK(p.total == -1);
}

TEST_CASE("json-server's absolute Link URLs on the configured host and port are followed") {
  stream_config s;
  s.name = "invoices";
  s.path = "/invoices";
  s.records_pointer = "";
  s.paging = pagination_style::link;
  s.page_size_param = "_limit";
  s.incremental_param = "updated_at_gte";
  s.query = {{"_page", "1"}};
  auto c = cfg_with(s);
  c.base_url = "http://127.0.0.1:3000";
  auto conn = make_connector(c);
  stream_cursor cur;
  set_state(cur, "pass_since", "2026-01-01T00:00:00.000Z");
  auto first = conn->page_request(c.streams[0], cur);
  CHECK(
      first.url ==
      "http://127.0.0.1:3000/invoices?_page=1&_limit=500&updated_at_gte=2026-01-01T00:00:00.000Z");
  std::string base = "http://127.0.0.1:3000/invoices?_page=";
  std::string link = "<" + base + "1&_limit=500>; rel=\"first\", <" + base +
                     "2&_limit=500>; rel=\"next\", <" + base + "10&_limit=500>; rel=\"last\"";
  auto p = conn->parse_page(c.streams[0], cur,
                            ok(R"([{"id":1,"updated_at":"2026-01-02T00:00:00.000Z"}])",
                               {{"Link", link}, {"X-Total-Count", "5000"}}));
  REQUIRE(p.error.ok());
  CHECK(p.records.size() == 1);
  CHECK(p.next_token == base + "2&_limit=500");
  set_state(cur, "page_token", p.next_token);
  auto next = conn->page_request(c.streams[0], cur);
  CHECK(next.url == base + "2&_limit=500");
  CHECK(next.allowed_origin == "http://127.0.0.1:3000");
  // The same link on another port is another origin.
  c.base_url = "http://127.0.0.1:3001";
  auto other = make_connector(c);
  CHECK(other->parse_page(c.streams[0], {}, ok("[]", {{"Link", link}})).error.category ==
        error_category::config);
}

TEST_CASE("the watermark goes out as an HTTP-date in If-Modified-Since, and 304 ends the pass") {
  CHECK(http_date_of("1994-11-06T08:49:37Z") == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(http_date_of("2024-03-05T10:20:30.999+01:00") == "Tue, 05 Mar 2024 09:20:30 GMT");
  CHECK(http_date_of("2024-03-05") == "Tue, 05 Mar 2024 00:00:00 GMT");
  CHECK(http_date_of("yesterday").empty());

  stream_config s;
  s.name = "rates";
  s.path = "/rates.json";
  s.records_pointer = "";
  s.paging = pagination_style::none;
  s.incremental_header = "If-Modified-Since";
  s.since_format = watermark_format::http_date;
  auto c = cfg_with(s);
  auto conn = make_connector(c);
  auto header = [](const http_request& r, const std::string& name) {
    for (auto& [k, v] : r.headers)
      if (k == name) return v;
    return std::string();
  };
  stream_cursor everything;
  CHECK(header(conn->page_request(c.streams[0], everything), "If-Modified-Since").empty());
  stream_cursor cur;
  set_state(cur, "watermark", "2026-11-20T06:00:00.500Z");
  set_state(cur, "pass_since", "2026-11-20T06:00:00.500Z");
  cur.in_pass = true;
  CHECK(header(conn->page_request(c.streams[0], cur), "If-Modified-Since") ==
        "Fri, 20 Nov 2026 06:00:00 GMT");

  http_response not_modified;
  not_modified.status = 304;
  auto p = conn->parse_page(c.streams[0], cur, not_modified);
  CHECK(p.error.ok());
  CHECK(p.records.empty());
  CHECK_FALSE(p.has_more);
  auto after = cursor_after(*conn, c.streams[0], cur, p);
  CHECK_FALSE(after.in_pass);
  CHECK(state_of(after, "watermark") == "2026-11-20T06:00:00.500Z");
  // 304 to a request that asked for everything is no answer at all.
  CHECK(conn->parse_page(c.streams[0], everything, not_modified).error.category ==
        error_category::config);

  // The same stream with a query parameter sends the watermark as the upstream wrote it.
  c.streams[0].incremental_header.clear();
  c.streams[0].incremental_param = "since";
  c.streams[0].since_format = watermark_format::iso8601;
  CHECK(conn->page_request(c.streams[0], cur).url ==
        "https://api.example.com/v2/rates.json?limit=500&since=2026-11-20T06:00:00.500Z");
}

TEST_CASE("the rest connector pages by each stream's strategy: offset and starting_after") {
  stream_config s;
  s.name = "customers";
  s.path = "/v1/customers";
  s.paging = pagination_style::starting_after;
  s.page_size = 2;
  auto c = cfg_with(s);
  auto conn = make_connector(c);
  stream_cursor cur = cursor_for_pass(*conn, c.streams[0], {}, false, "");
  CHECK(conn->page_request(c.streams[0], cur).url ==
        "https://api.example.com/v2/v1/customers?limit=2");
  auto p = conn->parse_page(c.streams[0], cur, ok(R"({"object":"list","has_more":true,"data":[
        {"id":"cus_3","updated_at":"2026-01-03T00:00:00Z"},
        {"id":"cus_2","updated_at":"2026-01-02T00:00:00Z"}]})"));
  REQUIRE(p.error.ok());
  CHECK(p.has_more);
  CHECK(p.next_token == "cus_2");
  cur = cursor_after(*conn, c.streams[0], cur, p);
  CHECK(conn->page_request(c.streams[0], cur).url ==
        "https://api.example.com/v2/v1/customers?limit=2&starting_after=cus_2");

  c.streams[0].paging = pagination_style::offset;
  c.streams[0].offset_param = "$skip";
  c.streams[0].page_size_param = "$top";
  c.streams[0].records_pointer = "/value";
  c.streams[0].total_pointer = "/@odata.count";
  auto odata = make_connector(c);
  cur = cursor_for_pass(*odata, c.streams[0], {}, false, "");
  CHECK(odata->page_request(c.streams[0], cur).url ==
        "https://api.example.com/v2/v1/customers?$top=2&$skip=0");
  p = odata->parse_page(c.streams[0], cur, ok(R"({"@odata.count":3,"value":[{"id":1},{"id":2}]})"));
  REQUIRE(p.error.ok());
  CHECK(p.has_more);
  cur = cursor_after(*odata, c.streams[0], cur, p);
  CHECK(odata->page_request(c.streams[0], cur).url ==
        "https://api.example.com/v2/v1/customers?$top=2&$skip=2");
  p = odata->parse_page(c.streams[0], cur, ok(R"({"@odata.count":3,"value":[{"id":3}]})"));
  CHECK_FALSE(p.has_more);
}

TEST_CASE("each record carries its body's content hash, computed off the writer's thread") {
  auto c = cfg_with(default_rest_streams()[0]);
  auto conn = make_connector(c);
  auto p = conn->parse_page(
      c.streams[0], {},
      ok(R"({"data":[{"id":"c1","name":"A","email":"a@x","updated_at":"2026-01-01T00:00:00Z"},
                     {"id":"c2","name":"B","email":"b@x","updated_at":"2026-01-01T00:00:00Z"}]})"));
  REQUIRE(p.error.ok());
  REQUIRE(p.records.size() == 2);
  for (auto& r : p.records) {
    CHECK(r.hash != 0);
    CHECK(r.hash == content_hash(r.body));
  }
  CHECK(p.records[0].hash != p.records[1].hash);
}
