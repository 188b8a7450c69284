// The ecb_fx connector on the model's fixtures: requests, canonical fx_rate records, the
// newest-day state, If-Modified-Since and 304, the currencies filter and bad answers.
#include "connectors/ecb_fx_connector.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "tests/connector_fixtures.hpp"
#include "tests/model_fixtures.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

integration_config ecb_config(json settings = json::object(),
                              std::string base = "https://www.ecb.europa.eu/stats/eurofxref") {
  return kind_config("ecb_fx", "fx", std::move(base), std::move(settings), "");
}

std::string newest_of(const stream_cursor& c) {
  return json::parse(c.state).value("newest", "");
}

}  // namespace

TEST_CASE("ecb_fx is registered: label, settings, one fx_rates stream, no key needed", "[ecb_fx]") {
  auto* k = find_connector_kind("ecb_fx");
  REQUIRE(k);
  CHECK(k->label == "ECB euro reference rates");
  REQUIRE(k->setting("history"));
  CHECK(k->setting("history")->default_value == "daily");
  REQUIRE(k->setting("currencies"));
  CHECK_FALSE(k->setting("currencies")->required);
  auto streams = k->default_streams();
  REQUIRE(streams.size() == 1);
  CHECK(streams[0].name == "fx_rates");
  CHECK(streams[0].entity == "fx_rate");
  auto c = ecb_config();
  CHECK(c.api_key.empty());
  CHECK(validate(c) == "");
}

TEST_CASE("ecb_fx settings: a bad history or currency is refused, naming it", "[ecb_fx]") {
  auto& k = *find_connector_kind("ecb_fx");
  CHECK(validate_settings(k, json{{"history", "weekly"}}) ==
        "settings.history must be one of daily, 90d, got \"weekly\"");
  CHECK(validate_settings(k, json{{"currencies", {"USD", "XYZ"}}}) ==
        "settings.currencies: \"XYZ\" is not an ISO 4217 currency code");
  CHECK(validate_settings(k, json{{"currencies", {"USD", 3}}}).find("as strings") !=
        std::string::npos);
  CHECK(validate_settings(k, json{{"currencies", "USD"}}) ==
        "settings.currencies must be a JSON array, got \"USD\"");
  CHECK(validate_settings(k, json{{"history", "90d"}, {"currencies", {"USD", "GBP"}}}) == "");
}

TEST_CASE("ecb_fx: the first pass reads the daily file into canonical fx_rate records",
          "[ecb_fx]") {
  auto c = ecb_config();
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto req = conn->page_request(s, cur);
  CHECK(req.url == "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml");
  CHECK(req.allowed_origin == "https://www.ecb.europa.eu:443");
  CHECK_FALSE(req.allow_file);
  CHECK(header_of(req, "If-Modified-Since") == "");
  CHECK(header_of(req, "Authorization") == "");
  auto page = conn->parse_page(s, cur, answer(200, read_fixture("ecb/eurofxref-daily.xml")));
  REQUIRE(page.error.ok());
  CHECK_FALSE(page.has_more);
  CHECK(page.invalid.empty());
  REQUIRE(page.records.size() == 30);
  auto& usd = page.records[0];
  CHECK(usd.stream == "fx_rates");
  CHECK(usd.id == "ecb:2026-11-24:EUR:USD");
  CHECK(usd.updated_at == "2026-11-24T00:00:00Z");
  CHECK_FALSE(usd.deleted);
  auto body = json::parse(usd.body);
  CHECK(body["entity"] == "fx_rate");
  CHECK(body["id"] == "ecb:2026-11-24:EUR:USD");
  CHECK(body["fields"] == json{{"id", "ecb:2026-11-24:EUR:USD"},
                               {"base", "EUR"},
                               {"quote", "USD"},
                               {"rate", "1.0532"},
                               {"date", "2026-11-24"},
                               {"source", "ecb"}});
  CHECK(body["raw"].get<std::string>().find("USD") != std::string::npos);
  auto after = cursor_after(*conn, s, cur, page);
  CHECK_FALSE(after.in_pass);
  CHECK(newest_of(after) == "2026-11-24");
}

TEST_CASE(
    "ecb_fx: a later pass asks If-Modified-Since; 304 is an empty page, old days are "
    "not written again",
    "[ecb_fx]") {
  auto c = ecb_config();
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  stream_cursor done;
  done.state = R"({"newest":"2026-11-24"})";
  auto cur = cursor_for_pass(*conn, s, done, false, "");
  auto req = conn->page_request(s, cur);
  // Modified after the next day began: only a file with a newer day can be.
  CHECK(header_of(req, "If-Modified-Since") == "Wed, 25 Nov 2026 00:00:00 GMT");

  auto not_modified = conn->parse_page(s, cur, answer(304, ""));
  CHECK(not_modified.error.ok());
  CHECK(not_modified.records.empty());
  CHECK_FALSE(not_modified.has_more);
  CHECK(newest_of(cursor_after(*conn, s, cur, not_modified)) == "2026-11-24");

  auto same = conn->parse_page(s, cur, answer(200, read_fixture("ecb/eurofxref-daily.xml")));
  REQUIRE(same.error.ok());
  CHECK(same.records.empty());
  CHECK(newest_of(cursor_after(*conn, s, cur, same)) == "2026-11-24");

  // A 304 to a request that was not conditional is no answer to take as "nothing new".
  auto first = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  CHECK_FALSE(conn->parse_page(s, first, answer(304, "")).error.ok());
}

TEST_CASE("ecb_fx: the 90-day file imports only the days after the newest one", "[ecb_fx]") {
  auto c = ecb_config(json{{"history", "90d"}});
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  stream_cursor done;
  done.state = R"({"newest":"2026-11-20"})";
  auto cur = cursor_for_pass(*conn, s, done, false, "");
  CHECK(conn->page_request(s, cur).url ==
        "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml");
  auto hist = answer(200, read_fixture("ecb/eurofxref-hist-90d.xml"));
  auto page = conn->parse_page(s, cur, hist);
  REQUIRE(page.error.ok());
  REQUIRE(page.records.size() == 6);
  for (auto& r : page.records) CHECK(r.id.substr(0, 14) != "ecb:2026-11-20");
  CHECK(newest_of(cursor_after(*conn, s, cur, page)) == "2026-11-24");

  // A full pass ignores the newest day: everything the file holds.
  auto full = cursor_for_pass(*conn, s, done, true, "p1");
  CHECK(header_of(conn->page_request(s, full), "If-Modified-Since") == "");
  CHECK(conn->parse_page(s, full, hist).records.size() == 9);
}

TEST_CASE("ecb_fx: the currencies setting keeps only the listed currencies", "[ecb_fx]") {
  auto c = ecb_config(json{{"currencies", {"GBP", "USD"}}});
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto page = conn->parse_page(s, cur, answer(200, read_fixture("ecb/eurofxref-daily.xml")));
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].id == "ecb:2026-11-24:EUR:USD");
  CHECK(page.records[1].id == "ecb:2026-11-24:EUR:GBP");
}

TEST_CASE(
    "ecb_fx: an HTTP error or a malformed file is an error naming the stream, nothing "
    "written",
    "[ecb_fx]") {
  auto c = ecb_config();
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  auto cur = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto down = conn->parse_page(s, cur, answer(503, "busy"));
  CHECK(down.error.category == error_category::upstream);
  auto junk = conn->parse_page(s, cur, answer(200, "<html>not rates</html>"));
  REQUIRE_FALSE(junk.error.ok());
  CHECK(junk.error.message.find("stream fx_rates: ECB rates:") == 0);
  CHECK(junk.records.empty());
  auto bad = read_fixture("ecb/eurofxref-daily.xml");
  bad.replace(bad.find("1.0532"), 6, "-1.053");
  auto neg = conn->parse_page(s, cur, answer(200, bad));
  CHECK(neg.error.message.find("USD rate must be positive") != std::string::npos);
}

TEST_CASE("ecb_fx: a file:// base URL reads a local folder, and the probe asks for the file",
          "[ecb_fx]") {
  auto c = ecb_config(json::object(), "file:///srv/rates/");
  auto conn = make_connector(c);
  auto& s = c.streams[0];
  auto req = conn->page_request(s, stream_cursor{});
  CHECK(req.url == "file:///srv/rates/eurofxref-daily.xml");
  CHECK(req.allow_file);
  auto probe = conn->probe_request(s);
  CHECK(probe.url == req.url);
  CHECK(probe.timeout_ms <= 15000);
}
