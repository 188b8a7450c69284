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
  cur.page_token = "tok1";
  cur.pass_since = "2025-12-31T00:00:00Z";
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
  cur.pass_since = "2026-01-01T00:00:00Z";
  auto req = conn->page_request(c.streams[0], cur);
  CHECK(req.url == "https://api.example.com/v2/Invoices?pageSize=2&page=1");
  CHECK(req.headers.back() ==
        std::pair<std::string, std::string>{"If-Modified-Since", "2026-01-01T00:00:00Z"});
  auto body =
      R"({"pagination":{"page":1,"pageSize":2,"pageCount":2},"Invoices":[{"InvoiceID":"i1"},{"InvoiceID":"i2"}]})";
  auto p = conn->parse_page(c.streams[0], cur, ok(body));
  CHECK(p.has_more);
  CHECK(p.next_token == "2");
  cur.page_token = "2";
  p = conn->parse_page(c.streams[0], cur, ok(body));
  CHECK_FALSE(p.has_more);  // page 2 of 2
  cur.page_token = "1";
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
  cur.page_token = p.next_token;
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
  c2.page_token = p.next_token;
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
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == -1);
}

TEST_CASE("stream cursor survives a JSON round trip") {
  stream_cursor c;
  c.watermark = "2026-01-01T00:00:00Z";
  c.in_pass = true;
  c.page_token = "x:1";
  c.pages = 4;
  auto d = stream_cursor::from_json(c.to_json());
  CHECK(d.watermark == c.watermark);
  CHECK(d.in_pass);
  CHECK(d.page_token == "x:1");
  CHECK(d.pages == 4);
}

TEST_CASE("a pass's pages move the cursor; its last page sets the watermark") {
  stream_cursor c;
  c.watermark = "2026-01-01T00:00:00.000Z";
  c.in_pass = true;
  c.pass_since = c.watermark;
  page_result p1;
  p1.has_more = true;
  p1.next_token = "t2";
  p1.max_updated = "2026-02-01T00:00:00.000Z";
  auto c1 = cursor_after(c, p1);
  CHECK(c1.page_token == "t2");
  CHECK(c1.in_pass);
  CHECK(c1.pages == 1);
  CHECK(c1.watermark == c.watermark);  // not before the pass is complete: a crash resumes it
  CHECK(c1.pass_max == p1.max_updated);
  page_result p2;  // the last page; its records are older than the first page's
  p2.max_updated = "2026-01-15T00:00:00.000Z";
  auto c2 = cursor_after(c1, p2);
  CHECK_FALSE(c2.in_pass);
  CHECK(c2.watermark == "2026-02-01T00:00:00.000Z");
  CHECK(c2.page_token.empty());
  CHECK(c2.pass_since.empty());
  page_result empty;  // a pass that found nothing keeps the watermark
  CHECK(cursor_after(c2, empty).watermark == c2.watermark);
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
  cur.page_token = "https://127.0.0.2/capture";
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
  cur.pass_since = "2026-01-01T00:00:00.000Z";
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
  cur.page_token = p.next_token;
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
  cur.watermark = cur.pass_since = "2026-11-20T06:00:00.500Z";
  cur.in_pass = true;
  CHECK(header(conn->page_request(c.streams[0], cur), "If-Modified-Since") ==
        "Fri, 20 Nov 2026 06:00:00 GMT");

  http_response not_modified;
  not_modified.status = 304;
  auto p = conn->parse_page(c.streams[0], cur, not_modified);
  CHECK(p.error.ok());
  CHECK(p.records.empty());
  CHECK_FALSE(p.has_more);
  auto after = cursor_after(cur, p);
  CHECK_FALSE(after.in_pass);
  CHECK(after.watermark == "2026-11-20T06:00:00.500Z");
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
