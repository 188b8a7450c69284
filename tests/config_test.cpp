// Integration settings: JSON round trips and clear refusals.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {
integration_config valid() {
  integration_config c;
  c.name = "acme";
  c.base_url = "https://api.example.com";
  c.api_key = "sk_test_1234567890";
  c.streams = default_rest_streams();
  return c;
}
}  // namespace

TEST_CASE("settings survive JSON, and the key is shown masked") {
  auto c = valid();
  std::string err;
  auto back = config_from_json(to_json(c, true), err);
  REQUIRE(back);
  CHECK(back->api_key == c.api_key);
  CHECK(back->streams.size() == 3);
  CHECK(back->streams[1].required == c.streams[1].required);
  auto shown = to_json(c, false);
  CHECK_FALSE(shown.contains("api_key"));
  CHECK(shown["api_key_hint"] == "…7890");
  CHECK(validate(c).empty());
}

TEST_CASE("every bad setting is refused with a message naming it") {
  std::vector<std::pair<std::function<void(integration_config&)>, std::string>> cases{
      {[](auto& c) { c.name = "bad name"; }, "name"},
      {[](auto& c) { c.base_url = "not a url"; }, "base URL"},
      {[](auto& c) { c.base_url = "ftp://x"; }, "http"},
      {[](auto& c) { c.connector = "soap"; }, "unknown connector"},
      {[](auto& c) { c.schedule = "daily 25:00"; }, "schedule"},
      {[](auto& c) { c.streams.clear(); }, "no streams"},
      {[](auto& c) { c.streams[1].name = c.streams[0].name; }, "twice"},
      {[](auto& c) { c.streams[0].page_size = 0; }, "page size"},
      {[](auto& c) { c.manual_burst = 0; }, "manual_burst"},
      {[](auto& c) { c.headers.emplace("Bad Header", "x"); }, "header"},
      {[](auto& c) { c.api_key = "a\nb"; }, "line break"},
      {[](auto& c) { c.streams[0].total_header = "X-Total: Count"; }, "total_header"},
      {[](auto& c) { c.streams[0].incremental_header = "If\r\nX"; }, "incremental header"},
  };
  for (auto& [mutate, word] : cases) {
    auto c = valid();
    mutate(c);
    auto msg = validate(c);
    INFO(word);
    CHECK(msg.find(word) != std::string::npos);
  }
}

TEST_CASE("a streams file with a typo or a wrong type is an error, not ignored") {
  std::string err;
  CHECK_FALSE(streams_from_json(json::parse(R"([{"name":"a","path":"/a","pagenation":{}}])"), err));
  CHECK(err.find("unknown key 'pagenation'") != std::string::npos);
  err.clear();
  CHECK_FALSE(
      streams_from_json(json::parse(R"([{"name":"a","path":"/a","required":"email"}])"), err));
  CHECK(err.find("'required' has the wrong type") != std::string::npos);
  err.clear();
  CHECK_FALSE(streams_from_json(json::parse(R"({"name":"a"})"), err));
  err.clear();
  CHECK_FALSE(streams_from_json(
      json::parse(R"([{"name":"a","path":"/a","pagination":{"style":"magic"}}])"), err));
  CHECK(err.find("unknown style") != std::string::npos);
  err.clear();
  auto ok = streams_from_json(json::parse(R"({"streams":[{"name":"Invoices","path":"/Invoices",
      "records":"Invoices","id":"InvoiceID","required":["Contact.ContactID"],
      "pagination":{"style":"page","page_count":"pagination.pageCount"},
      "incremental":{"header":"If-Modified-Since"}}]})"),
                              err);
  REQUIRE(ok);
  CHECK((*ok)[0].records_pointer == "/Invoices");
  CHECK((*ok)[0].required[0] == "/Contact/ContactID");
  CHECK((*ok)[0].paging == pagination_style::page);
  CHECK((*ok)[0].page_count_pointer == "/pagination/pageCount");
}

TEST_CASE("offset and starting_after paging read from a streams file and survive JSON") {
  std::string err;
  auto ok = streams_from_json(json::parse(R"([
      {"name":"Orders","path":"/odata/Orders","records":"value",
       "pagination":{"style":"offset","param":"$skip"},"page_size":{"param":"$top","value":100}},
      {"name":"Lines","path":"/q","pagination":{"style":"offset","param":"STARTPOSITION","first":1}},
      {"name":"customers","path":"/v1/customers",
       "pagination":{"style":"starting_after"}},
      {"name":"charges","path":"/v1/charges",
       "pagination":{"style":"starting_after","param":"after","field":"meta.more"}}])"),
                              err);
  REQUIRE(ok);
  auto& v = *ok;
  CHECK(v[0].paging == pagination_style::offset);
  CHECK(v[0].offset_param == "$skip");
  CHECK(v[0].first_offset == 0);
  CHECK(v[1].first_offset == 1);
  CHECK(v[2].paging == pagination_style::starting_after);
  CHECK(v[2].starting_after_param == "starting_after");
  CHECK(v[2].has_more_pointer == "/has_more");
  CHECK(v[3].starting_after_param == "after");
  CHECK(v[3].has_more_pointer == "/meta/more");
  for (auto& s : v) {
    auto back = stream_from_json(to_json(s), err);
    REQUIRE(back);
    CHECK(back->paging == s.paging);
    CHECK(back->offset_param == s.offset_param);
    CHECK(back->first_offset == s.first_offset);
    CHECK(back->starting_after_param == s.starting_after_param);
    CHECK(back->has_more_pointer == s.has_more_pointer);
  }
  CHECK_FALSE(streams_from_json(
      json::parse(R"([{"name":"a","path":"/a","pagination":{"style":"magic"}}])"), err));
  CHECK(err.find("(cursor, page, next_url, link, offset, starting_after, none)") !=
        std::string::npos);
  err.clear();
  CHECK_FALSE(streams_from_json(
      json::parse(R"([{"name":"a","path":"/a","pagination":{"style":"offset","first":1e12}}])"),
      err));
  CHECK_FALSE(err.empty());
}

TEST_CASE("log retention: defaults, round trip, limits refused by name, read from a stored doc") {
  auto c = valid();
  CHECK(c.retention.days == 30);
  CHECK(c.retention.events == 10000);
  CHECK(c.retention.runs == 1000);
  c.retention = {7, 500, 20};
  std::string err;
  auto back = config_from_json(to_json(c, true), err);
  REQUIRE(back);
  CHECK(back->retention.days == 7);
  CHECK(back->retention.events == 500);
  CHECK(back->retention.runs == 20);
  auto stored = retention_of(to_json(c, false));
  CHECK(stored.days == 7);
  CHECK(stored.events == 500);
  CHECK(stored.runs == 20);
  CHECK(retention_of(json{{"name", "old"}}).events == 10000);  // saved before retention existed
  for (auto [f, key] :
       std::vector<std::pair<std::function<void(integration_config&)>, std::string>>{
           {[](auto& x) { x.retention.days = 0; }, "log_retention_days"},
           {[](auto& x) { x.retention.days = 4000; }, "log_retention_days"},
           {[](auto& x) { x.retention.events = 0; }, "log_retention_events"},
           {[](auto& x) { x.retention.runs = -1; }, "log_retention_runs"}}) {
    auto bad = valid();
    f(bad);
    CHECK(validate(bad).find(key) != std::string::npos);
  }
}

TEST_CASE("totals from a header and the watermark's format survive JSON and are checked") {
  std::string err;
  auto parse = [&](const char* text) {
    err.clear();
    return streams_from_json(json::parse(text), err);
  };
  auto ims = parse(R"([{"name":"a","path":"/a","total_header":"X-Total-Count",
                        "incremental":{"header":"If-Modified-Since"}}])");
  REQUIRE(ims);
  CHECK((*ims)[0].total_header == "X-Total-Count");
  // If-Modified-Since takes nothing but an HTTP-date, so that is its default.
  CHECK((*ims)[0].since_format == watermark_format::http_date);
  auto back = streams_from_json(json::array({to_json((*ims)[0])}), err);
  REQUIRE(back);
  CHECK((*back)[0].total_header == "X-Total-Count");
  CHECK((*back)[0].since_format == watermark_format::http_date);

  auto param = parse(R"([{"name":"a","path":"/a","incremental":{"param":"since"}}])");
  REQUIRE(param);
  CHECK((*param)[0].since_format == watermark_format::iso8601);
  CHECK(to_json((*param)[0])["incremental"]["format"] == "iso8601");
  auto chosen = parse(R"([{"name":"a","path":"/a",
                           "incremental":{"param":"since","format":"http_date"}}])");
  REQUIRE(chosen);
  CHECK((*chosen)[0].since_format == watermark_format::http_date);

  CHECK_FALSE(parse(R"([{"name":"a","path":"/a","incremental":{"format":"rfc822"}}])"));
  CHECK(err.find("unknown format 'rfc822'") != std::string::npos);
  CHECK_FALSE(parse(R"([{"name":"a","path":"/a","total_header":5}])"));
  CHECK(err.find("'total_header' has the wrong type") != std::string::npos);
}

TEST_CASE("a config stored before per-kind rates loses the old written default rate, once") {
  // The old code's document: both keys always, 20 and 20 unless the user set them.
  auto old = to_json(valid(), false);
  old["upstream_rate_per_s"] = 20.0;
  old["upstream_burst"] = 20;
  CHECK(drop_old_rate_defaults(old));
  CHECK_FALSE(old.contains("upstream_rate_per_s"));
  CHECK_FALSE(old.contains("upstream_burst"));
  std::string err;
  auto back = config_from_json(old, err);
  REQUIRE(back);
  CHECK_FALSE(back->upstream_rate_per_s);    // the kind's default rate applies
  CHECK_FALSE(drop_old_rate_defaults(old));  // idempotent
  // A rate the user set in the old code stays; its burst beside it was the old default.
  auto own = to_json(valid(), false);
  own["upstream_rate_per_s"] = 5.0;
  own["upstream_burst"] = 20;
  CHECK(drop_old_rate_defaults(own));
  CHECK(own["upstream_rate_per_s"] == 5.0);
  CHECK_FALSE(own.contains("upstream_burst"));
  // The newer code writes only what is set: a lone 20 is the user's.
  auto c = valid();
  c.upstream_rate_per_s = 20;
  auto lone = to_json(c, false);
  CHECK_FALSE(drop_old_rate_defaults(lone));
  CHECK(lone["upstream_rate_per_s"] == 20.0);
}
