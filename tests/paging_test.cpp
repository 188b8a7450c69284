// The paging strategies on canned answers, hostile ones included: a next URL to another host,
// a repeated token, a page count of 10^12.
#include "connectors/paging.hpp"

#include <catch2/catch.hpp>

#include "connectors/paging_guard.hpp"

using namespace ledgersync;

namespace {

struct answer {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  http_response resp;
  answer(const std::string& body, header_list headers = {}) {
    resp.status = 200;
    resp.body = body;
    resp.headers = std::move(headers);
    doc = parser.parse(resp.body).value();
  }
  page_view view(size_t count, std::string last_id = "") const {
    return page_view{doc, resp, count, std::move(last_id)};
  }
};

const paging_origin origin{"https://api.example.com/v1/items", "https://api.example.com/"};

std::string url_after(const paging_strategy& p, const std::string& token) {
  boost::urls::url u("https://api.example.com/v1/items?limit=2");
  p.apply(token, u);
  return std::string(u.buffer());
}

}  // namespace

TEST_CASE("cursor token: sent back as a parameter, ends at an empty or missing cursor") {
  auto p = cursor_paging("cursor", "/next_cursor");
  CHECK(url_after(*p, "") == "https://api.example.com/v1/items?limit=2");
  CHECK(url_after(*p, "tok 1") == "https://api.example.com/v1/items?limit=2&cursor=tok%201");
  answer a(R"({"data":[1,2],"next_cursor":"tok2"})");
  auto n = p->next(a.view(2), "", origin);
  CHECK(n.has_more);
  CHECK(n.token == "tok2");
  CHECK_FALSE(
      p->next(answer(R"({"data":[1],"next_cursor":null})").view(1), "tok2", origin).has_more);
  CHECK_FALSE(p->next(answer(R"({"data":[1],"next_cursor":""})").view(1), "tok2", origin).has_more);
  // A cursor beside an empty page is no reason to go on.
  CHECK_FALSE(p->next(answer(R"({"data":[],"next_cursor":"x"})").view(0), "t", origin).has_more);
  CHECK_FALSE(p->token_is_url());
}

TEST_CASE("page numbers: short page, page count, and a page count of 10^12") {
  auto p = page_number_paging("page", 1, 2, "/pagination/pageCount");
  CHECK(url_after(*p, "") == "https://api.example.com/v1/items?limit=2&page=1");
  CHECK(url_after(*p, "3") == "https://api.example.com/v1/items?limit=2&page=3");
  auto plain = page_number_paging("page", 1, 2, "");
  auto n = plain->next(answer("[1,2]").view(2), "", origin);
  CHECK(n.has_more);
  CHECK(n.token == "2");
  CHECK_FALSE(plain->next(answer("[1]").view(1), "2", origin).has_more);  // short page
  // With a page count, a short page is not the end (servers cap page sizes), the count is.
  answer of3(R"({"pagination":{"page":2,"pageCount":3},"items":[1]})");
  CHECK(p->next(of3.view(1), "2", origin).has_more);
  CHECK_FALSE(p->next(of3.view(1), "3", origin).has_more);
  // A hostile count: empty pages still end the pass, full ones are stopped by the guard.
  answer huge(R"({"pagination":{"pageCount":1000000000000},"items":[]})");
  CHECK_FALSE(p->next(huge.view(0), "7", origin).has_more);
  answer full(R"({"pagination":{"pageCount":1000000000000},"items":[1,2]})");
  paging_guard guard(50);
  std::string token;
  uint64_t pages = 0;  // committed in this pass
  error_info stopped;
  for (; pages < 100; ++pages) {
    auto next = p->next(full.view(2), token, origin);
    REQUIRE(next.has_more);
    stopped = guard.check("items", pages, next.has_more, next.token);
    if (!stopped.ok()) break;
    token = next.token;
  }
  CHECK(stopped.message.find("max_pages_per_pass") != std::string::npos);
  CHECK(pages == 49);
  // A token that is not ours (a foreign state) starts from the first page.
  CHECK(plain->next(answer("[1,2]").view(2), "x", origin).token == "2");
}

TEST_CASE("next URL: relative or absolute on the configured origin; another host is refused") {
  auto p = next_url_paging("/@odata.nextLink");
  CHECK(p->token_is_url());
  auto n = p->next(answer(R"({"value":[1],"@odata.nextLink":"/v1/items?$skiptoken=2"})").view(1),
                   "", origin);
  CHECK(n.has_more);
  CHECK(resolve_next_url(origin.base_url, n.token) ==
        "https://api.example.com/v1/items?$skiptoken=2");
  n = p->next(
      answer(R"({"value":[1],"@odata.nextLink":"https://api.example.com/v1/items?p=3"})").view(1),
      "", origin);
  CHECK(n.has_more);
  CHECK(n.error.ok());
  for (auto hostile :
       {"https://evil.example.net/steal", "http://api.example.com/v1/items?p=3",
        "https://api.example.com:8443/v1/items", "file:///etc/passwd", "//evil.example.net/x"}) {
    INFO(hostile);
    auto bad = p->next(
        answer(std::string(R"({"value":[1],"@odata.nextLink":")") + hostile + "\"}").view(1), "",
        origin);
    CHECK_FALSE(bad.has_more);
    CHECK(bad.error.category == error_category::config);
    CHECK(bad.error.permanent);
    CHECK(bad.error.message.find("refused so that the credentials go nowhere else") !=
          std::string::npos);
  }
  CHECK_FALSE(p->next(answer(R"({"value":[1]})").view(1), "", origin).has_more);
}

TEST_CASE("Link header: rel=next followed on the same origin only") {
  auto p = link_header_paging();
  auto n = p->next(answer("[1]", {{"Link",
                                   "<https://api.example.com/v1/items?page=2>; "
                                   "rel=\"next\", <https://api.example.com/v1/items?"
                                   "page=9>; rel=\"last\""}})
                       .view(1),
                   "", origin);
  CHECK(n.has_more);
  CHECK(n.token == "https://api.example.com/v1/items?page=2");
  auto bad = p->next(answer("[1]", {{"Link", "<https://evil.example.net/>; rel=\"next\""}}).view(1),
                     "", origin);
  CHECK(bad.error.category == error_category::config);
  CHECK_FALSE(
      p->next(answer("[1]", {{"Link", "<https://api.example.com/x>; rel=\"prev\""}}).view(1), "",
              origin)
          .has_more);
}

TEST_CASE("offset and limit: $skip from 0, STARTPOSITION from 1, ends short or at the total") {
  auto skip = offset_paging("$skip", 0, 2, "/@odata.count");
  CHECK(url_after(*skip, "") == "https://api.example.com/v1/items?limit=2&$skip=0");
  CHECK(url_after(*skip, "4") == "https://api.example.com/v1/items?limit=2&$skip=4");
  auto n = skip->next(answer(R"({"value":[1,2]})").view(2), "", origin);
  CHECK(n.has_more);
  CHECK(n.token == "2");
  CHECK_FALSE(skip->next(answer(R"({"value":[1]})").view(1), "2", origin).has_more);
  // The total says the last full page is the last.
  CHECK_FALSE(
      skip->next(answer(R"({"value":[1,2],"@odata.count":4})").view(2), "2", origin).has_more);
  CHECK(skip->next(answer(R"({"value":[1,2],"@odata.count":5})").view(2), "2", origin).has_more);
  auto qb = offset_paging("STARTPOSITION", 1, 2, "");
  n = qb->next(answer("[1,2]").view(2), "", origin);
  CHECK(n.token == "3");
  CHECK(qb->next(answer("[1,2]").view(2), "3", origin).token == "5");
  CHECK_FALSE(qb->next(answer("[]").view(0), "5", origin).has_more);
  // A total of 10^12 does not keep empty pages coming.
  CHECK_FALSE(
      skip->next(answer(R"({"value":[],"@odata.count":1000000000000})").view(0), "2", origin)
          .has_more);
}

TEST_CASE("starting_after: the last record's id while has_more is true") {
  auto p = starting_after_paging("starting_after", "/has_more");
  CHECK(url_after(*p, "") == "https://api.example.com/v1/items?limit=2");
  CHECK(url_after(*p, "cus_9") == "https://api.example.com/v1/items?limit=2&starting_after=cus_9");
  answer more(R"({"object":"list","has_more":true,"data":[{"id":"cus_1"},{"id":"cus_2"}]})");
  auto n = p->next(more.view(2, "cus_2"), "", origin);
  CHECK(n.has_more);
  CHECK(n.token == "cus_2");
  CHECK_FALSE(p->next(answer(R"({"has_more":false,"data":[{"id":"x"}]})").view(1, "x"), "", origin)
                  .has_more);
  // has_more with nothing to start after would ask for the first page again: stop.
  CHECK_FALSE(p->next(answer(R"({"has_more":true,"data":[]})").view(0), "cus_2", origin).has_more);
  // A repeated last id (an upstream that ignores starting_after) is caught by the guard.
  paging_guard guard;
  CHECK(guard.check("customers", 0, true, "cus_2").ok());
  CHECK_FALSE(
      guard.check("customers", 1, true, p->next(more.view(2, "cus_2"), "cus_2", origin).token)
          .ok());
}

TEST_CASE("no paging: one request, one page") {
  auto p = no_paging();
  CHECK(url_after(*p, "") == "https://api.example.com/v1/items?limit=2");
  CHECK_FALSE(p->next(answer(R"({"data":[1,2]})").view(2), "", origin).has_more);
}
