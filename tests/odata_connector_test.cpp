// The odata connector on canned pages shaped like the sandbox's and Business Central's: paging
// by @odata.nextLink to the end, the incremental $filter's exact text, a next link to another
// host refused, @odata.count as the total, set-aside records and refused settings.
#include "connectors/odata_connector.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/config_change.hpp"
#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "sandbox/vendor_odata.hpp"
#include "tests/connector_fixtures.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

json customers_set() {
  return {{"name", "Customers"},
          {"entity", "customer"},
          {"modified_field", "Modified"},
          {"id_field", "No"},
          {"field_map",
           {{"fields", {{"name", "Name"}, {"email", "Email"}, {"currency", "CurrencyCode"}}},
            {"deleted", "IsDeleted"}}}};
}

json odata_settings() {
  return {{"entity_sets", json::array({customers_set()})}, {"max_page_size", 2}};
}

integration_config odata_config(json settings = odata_settings()) {
  integration_config c;
  c.name = "erp";
  c.connector = "odata";
  c.base_url = "https://erp.example/odata/";
  c.api_key = "tok";
  c.settings = settings;
  c.streams = find_connector_kind("odata")->streams_from_settings(settings);
  return c;
}

json customer(int n, const std::string& modified, bool named = true) {
  json j = {{"No", "C" + std::to_string(n)},
            {"Email", "ap" + std::to_string(n) + "@example.com"},
            {"CurrencyCode", "EUR"},
            {"IsDeleted", false},
            {"Modified", modified}};
  if (named) j["Name"] = "Kunde " + std::to_string(n);
  return j;
}

http_response page(const std::vector<json>& items, const std::string& next = "",
                   int64_t count = -1) {
  json body = {{"@odata.context", "$metadata#Customers"}, {"value", items}};
  if (!next.empty()) body["@odata.nextLink"] = next;
  if (count >= 0) body["@odata.count"] = count;
  http_response r;
  r.status = 200;
  r.body = body.dump();
  return r;
}

// Runs one page through the connector as the engine does, returning the cursor after it.
stream_cursor step(connector& conn, const stream_config& s, const stream_cursor& c,
                   const http_response& r, page_result* out = nullptr) {
  auto p = conn.parse_page(s, c, r);
  REQUIRE(p.error.ok());
  auto next = cursor_after(conn, s, c, p);
  if (out) *out = std::move(p);
  return next;
}

}  // namespace

TEST_CASE("odata is registered; its streams are the configured entity sets", "[odata]") {
  auto* k = find_connector_kind("odata");
  REQUIRE(k);
  CHECK(k->label == "OData v4 service");
  CHECK(k->setting("entity_sets")->required);
  CHECK(k->setting("max_page_size")->default_value == 500);
  auto cfg = odata_config();
  REQUIRE(cfg.streams.size() == 1);
  CHECK(cfg.streams[0].name == "Customers");
  CHECK(cfg.streams[0].entity == "customer");
  CHECK(validate(cfg) == "");
}

TEST_CASE("odata's streams follow a change of entity_sets: new read in full, kept keep on",
          "[odata]") {
  auto* k = find_connector_kind("odata");
  // Sets of another name read the same shape of entity here.
  auto invoices = customers_set(), payments = customers_set();
  invoices["name"] = "Invoices";
  payments["name"] = "Payments";
  payments["entity"] = "gl_account";
  payments["field_map"] = {{"fields", {{"name", "Name"}, {"class", "Class"}}}};
  auto before = k->streams_from_settings(
      {{"entity_sets", json::array({customers_set(), invoices})}, {"max_page_size", 2}});
  // Customers stays as it was (a new field map and page size read the same set), Invoices
  // goes, Payments comes.
  auto customers = customers_set();
  customers["field_map"]["fields"]["name"] = "DisplayName";
  auto after = k->streams_from_settings(
      {{"entity_sets", json::array({customers, payments})}, {"max_page_size", 50}});
  REQUIRE(after.size() == 2);
  CHECK(after[1].name == "Payments");
  CHECK(after[1].entity == "gl_account");
  auto moved = compare_streams(before, after);
  CHECK(moved.kept == std::vector<std::string>{"Customers"});
  CHECK(moved.added == std::vector<std::string>{"Payments"});
  CHECK(moved.removed == std::vector<std::string>{"Invoices"});
  CHECK(moved.restarted.empty());
  CHECK(moved.dropped_cursors() == std::vector<std::string>{"Invoices"});
  CHECK(moved.moves());
  // Another modified field: the stored watermark belongs to the old one, so it restarts.
  customers["modified_field"] = "LastChanged";
  auto other = k->streams_from_settings({{"entity_sets", json::array({customers, payments})}});
  auto again = compare_streams(after, other);
  CHECK(again.restarted == std::vector<std::string>{"Customers"});
  CHECK(again.kept == std::vector<std::string>{"Payments"});
  CHECK(again.dropped_cursors() == std::vector<std::string>{"Customers"});
  CHECK_FALSE(compare_streams(other, other).moves());
  CHECK(to_json(again)["restarted"] == json::array({"Customers"}));
}

TEST_CASE("odata pages by nextLink to the end, with count as the total", "[odata]") {
  auto cfg = odata_config();
  auto conn = make_connector(cfg);
  auto& s = cfg.streams[0];
  auto c = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto first = conn->page_request(s, c);
  CHECK(first.url == "https://erp.example/odata/Customers?$orderby=Modified%20asc&$count=true");
  CHECK(header_of(first, "Prefer") == "odata.maxpagesize=2");
  CHECK(header_of(first, "Authorization") == "Bearer tok");
  CHECK(header_of(first, "OData-MaxVersion") == "4.0");
  CHECK(first.allowed_origin == "https://erp.example:443");

  page_result p;
  c = step(*conn, s, c,
           page({customer(1, "2026-11-20T08:00:00Z"), customer(2, "2026-11-21T08:00:00Z")},
                "Customers?$skiptoken=2&$count=true", 3),
           &p);
  CHECK(p.total == 3);
  CHECK(p.has_more);
  REQUIRE(p.records.size() == 2);
  CHECK(p.records[0].id == "C1");
  CHECK(p.records[0].updated_at == "2026-11-20T08:00:00Z");
  auto body = json::parse(p.records[0].body);
  CHECK(body["entity"] == "customer");
  CHECK(body["fields"]["name"] == "Kunde 1");
  CHECK(c.in_pass);

  // The relative link resolves against the entity set's URL.
  auto second = conn->page_request(s, c);
  CHECK(second.url == "https://erp.example/odata/Customers?$skiptoken=2&$count=true");
  CHECK(header_of(second, "Prefer") == "odata.maxpagesize=2");
  // OData 4.01 drops the prefix: @count works as well.
  http_response last = page({customer(3, "2026-11-22T08:00:00+01:00")});
  auto j = json::parse(last.body);
  j["@count"] = 3;
  last.body = j.dump();
  c = step(*conn, s, c, last, &p);
  CHECK(p.total == 3);
  CHECK_FALSE(p.has_more);
  CHECK_FALSE(c.in_pass);
  CHECK(conn->page_token(c.state) == "");
  // The newest modified value as the service wrote it.
  CHECK(json::parse(c.state)["newest"] == "2026-11-22T08:00:00+01:00");
}

TEST_CASE("odata's incremental pass filters by the modified field, literal exact", "[odata]") {
  auto cfg = odata_config();
  auto conn = make_connector(cfg);
  auto& s = cfg.streams[0];
  stream_cursor done;
  done.state = json{{"newest", "2026-11-25T10:00:00.250+01:00"}}.dump();
  auto c = cursor_for_pass(*conn, s, done, false, "");
  CHECK(conn->page_request(s, c).url ==
        "https://erp.example/odata/Customers?$filter=Modified%20gt%202026-11-25T09:00:00.25Z"
        "&$orderby=Modified%20asc&$count=true");
  // A full pass reads everything.
  auto full = cursor_for_pass(*conn, s, done, true, "run-1");
  CHECK(conn->page_request(s, full).url.find("$filter") == std::string::npos);
  // An empty incremental pass keeps the watermark.
  c = step(*conn, s, c, page({}));
  CHECK(json::parse(c.state)["newest"] == "2026-11-25T10:00:00.250+01:00");

  CHECK(odata_literal("2026-11-25T10:00:00Z") == "2026-11-25T10:00:00Z");
  CHECK(odata_literal("2026-11-25T10:00:00-02:30") == "2026-11-25T12:30:00Z");
  CHECK(odata_literal("2026-11-25") == "2026-11-25");
  CHECK(odata_literal("1234567") == "1234567");
  CHECK(odata_literal("O'Brien+1") == "'O''Brien+1'");
}

TEST_CASE("odata refuses a nextLink to another host", "[odata]") {
  auto cfg = odata_config();
  auto conn = make_connector(cfg);
  auto& s = cfg.streams[0];
  auto c = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  for (auto link : {"https://evil.example/odata/Customers?$skiptoken=2",
                    "http://erp.example/odata/Customers?$skiptoken=2", "file:///etc/passwd"}) {
    auto p = conn->parse_page(s, c, page({customer(1, "2026-11-20T08:00:00Z")}, link));
    INFO(link);
    CHECK_FALSE(p.error.ok());
    CHECK(p.error.permanent);
    CHECK(p.error.message.find("refused so that the credentials go nowhere else") !=
          std::string::npos);
    CHECK(p.records.empty());
  }
}

TEST_CASE("odata sets aside a record lacking a mapped field, and tombstones", "[odata]") {
  auto cfg = odata_config();
  auto conn = make_connector(cfg);
  auto& s = cfg.streams[0];
  auto c = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto gone = customer(3, "2026-11-22T08:00:00Z");
  gone["IsDeleted"] = true;
  auto p = conn->parse_page(s, c,
                            page({customer(1, "2026-11-20T08:00:00Z"),
                                  customer(2, "2026-11-21T08:00:00Z", false), gone}));
  REQUIRE(p.error.ok());
  REQUIRE(p.invalid.size() == 1);
  CHECK(p.invalid[0].id == "C2");
  CHECK(p.invalid[0].missing == std::vector<std::string>{"name"});
  CHECK(json::parse(p.invalid[0].body)["No"] == "C2");
  REQUIRE(p.records.size() == 2);
  CHECK(p.records[1].id == "C3");
  CHECK(p.records[1].deleted);

  http_response v2;
  v2.status = 200;
  v2.body = R"({"d":{"results":[]}})";
  auto bad = conn->parse_page(s, c, v2);
  CHECK(bad.error.message ==
        "stream Customers: the answer is not an OData collection (no \"value\" array of "
        "entities)");
  http_response denied;
  denied.status = 401;
  denied.body = R"({"error":{"code":"Unauthorized","message":"nope"}})";
  CHECK(conn->parse_page(s, c, denied).error.category == error_category::auth);
}

TEST_CASE("odata probes the service document", "[odata]") {
  auto cfg = odata_config();
  auto conn = make_connector(cfg);
  auto r = conn->probe_request(cfg.streams[0]);
  CHECK(r.url == "https://erp.example/odata/");
  CHECK(header_of(r, "Authorization") == "Bearer tok");
}

TEST_CASE("odata refuses bad settings, naming the setting", "[odata]") {
  auto* k = find_connector_kind("odata");
  auto refused = [&](json settings) { return validate_settings(*k, settings); };
  CHECK(refused(json::object()).rfind("settings.entity_sets is required for odata", 0) == 0);
  CHECK(refused({{"entity_sets", json::array()}}) ==
        "settings.entity_sets must list at least one entity set");
  auto set = customers_set();
  set.erase("modified_field");
  CHECK(refused({{"entity_sets", {set}}})
            .rfind("settings.entity_sets[0].modified_field is required", 0) == 0);
  set = customers_set();
  set["modified_field"] = "Modified gt 1 or true";
  CHECK(
      refused({{"entity_sets", {set}}})
          .rfind(
              "settings.entity_sets[0].modified_field: \"Modified gt 1 or true\" is not a property "
              "name",
              0) == 0);
  set = customers_set();
  set["name"] = "Cust omers";
  CHECK(refused({{"entity_sets", {set}}}).rfind("settings.entity_sets[0].name:", 0) == 0);
  set = customers_set();
  set["entity"] = "contract";
  CHECK(refused({{"entity_sets", {set}}}) ==
        "settings.entity_sets[0].entity: \"contract\" is not a canonical entity");
  set = customers_set();
  set["field_map"]["fields"].erase("name");
  CHECK(refused({{"entity_sets", {set}}}) ==
        "settings.entity_sets[0].field_map.fields.name: is required for customer and not mapped");
  set = customers_set();
  set["colour"] = "red";
  CHECK(refused({{"entity_sets", {set}}})
            .rfind("settings.entity_sets[0].colour is not a setting of an entity set", 0) == 0);
  CHECK(refused({{"entity_sets", {customers_set(), customers_set()}}}) ==
        "settings.entity_sets[1].name: \"Customers\" is listed twice");
  CHECK(refused({{"entity_sets", {customers_set()}}, {"max_page_size", 0}}) ==
        "settings.max_page_size must be an integer from 1 to 10000, got 0");
  CHECK(refused(odata_settings()) == "");
}

// Through the sandbox's OData service (handlers called directly): every page, then an
// incremental pass that sees only what changed; the probe reads the service document.
TEST_CASE("odata reads the sandbox's service to the end, then only changes", "[odata]") {
  using namespace ledgersync::sandbox;
  int64_t now = 1'790'000'000'000;
  oauth_server auth{oauth_options::defaults(), [&] { return now; }};
  odata_options o;
  o.records = 25;
  odata_api api{o, auth, [&] { return now; }};
  auto cfg = odata_config();
  cfg.base_url = "http://127.0.0.1:9/odata";
  cfg.api_key = "sk_test_sandbox";
  auto conn = make_connector(cfg);
  auto& s = cfg.streams[0];
  auto serve = [&](const http_request& req) {
    vendor_request vr;
    auto target = req.url.substr(std::string("http://127.0.0.1:9/odata").size());
    REQUIRE(make_request("GET", target, vr));
    for (auto& [k, v] : req.headers) {
      std::string key = k;
      for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      vr.headers[key] = v;
    }
    auto out = api.handle(vr);
    http_response r;
    r.status = out.status;
    r.body = out.body;
    return r;
  };
  auto probe = serve(conn->probe_request(s));
  CHECK(probe.status == 200);
  CHECK(json::parse(probe.body)["value"][0]["name"] == "Customers");

  auto run = [&](int64_t total, stream_cursor c, size_t& records, int& pages) {
    c = cursor_for_pass(*conn, s, c, false, "");
    do {
      page_result p;
      c = step(*conn, s, c, serve(conn->page_request(s, c)), &p);
      records += p.records.size() + p.invalid.size();
      if (pages++ == 0) CHECK(p.total == total);
    } while (c.in_pass);
    return c;
  };
  size_t records = 0;
  int pages = 0;
  auto c = run(25, stream_cursor{}, records, pages);
  CHECK(records == 25);
  CHECK(pages == 13);  // two per page (max_page_size)
  now += 60'000;
  REQUIRE(api.control(vendor_collection::action::mutate, "Customers", 2) == 2);
  records = 0;
  pages = 0;
  run(2, c, records, pages);
  CHECK(records == 2);
  CHECK(pages == 1);
}
