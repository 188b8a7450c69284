// The sandbox's QuickBooks Online API, handlers called directly in virtual time: the query
// language's paging and LastUpdatedTime filter, CDC with deletions, Fault bodies (auth, realm,
// parse errors, 3001 throttling, a Fault inside a 200), and every record mapping through
// model/map_quickbooks.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "model/map_quickbooks.hpp"
#include "sandbox/vendor_quickbooks.hpp"

using namespace ledgersync::sandbox;
using nlohmann::json;

namespace {

struct qbo_world {
  int64_t now = 1'790'000'000'000;
  oauth_server auth{oauth_options::defaults(), [this] { return now; }};
  effect_log effects;
  quickbooks_api qbo{[] {
                       quickbooks_options o;
                       o.records = 30;
                       return o;
                     }(),
                     auth, [this] { return now; }, effects};
  std::string token;

  qbo_world() {
    vendor_request r;
    r.method = "POST";
    r.path = "/oauth/token";
    r.body =
        "grant_type=client_credentials&client_id=quickbooks-sandbox"
        "&client_secret=quickbooks-sandbox-secret";
    token = json::parse(auth.handle(r).body)["access_token"];
  }
  vendor_response get(const std::string& op, const std::string& query) {
    vendor_request r;
    r.path = "/" + qbo.realm() + "/" + op;
    r.query = parse_form(query);
    r.headers["authorization"] = "Bearer " + token;
    return qbo.handle(r);
  }
  json query(const std::string& q) {
    auto r = get("query", "query=" + q + "&minorversion=75");
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
};

}  // namespace

TEST_CASE("QuickBooks query: STARTPOSITION/MAXRESULTS paging, COUNT, LastUpdatedTime",
          "[sandbox][quickbooks]") {
  qbo_world w;
  auto page = w.query("SELECT * FROM Invoice STARTPOSITION 21 MAXRESULTS 20");
  CHECK(page["QueryResponse"]["Invoice"].size() == 10);
  CHECK(page["QueryResponse"]["startPosition"] == 21);
  CHECK(page["QueryResponse"]["maxResults"] == 10);
  CHECK(w.query("SELECT * FROM Invoice STARTPOSITION 31")["QueryResponse"].empty());
  CHECK(w.query("select count(*) from Customer")["QueryResponse"]["totalCount"] == 30);
  CHECK(w.query("SELECT * FROM Payment")["QueryResponse"]["Payment"].size() == 30);

  w.now += 120'000;
  REQUIRE(w.qbo.control(vendor_collection::action::mutate, "Invoice", 2) == 2);
  // 2026-09-21T14:14:00Z in the company's zone.
  auto changed = w.query(
      "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > "
      "'2026-09-21T07:14:00-07:00'");
  CHECK(changed["QueryResponse"]["Invoice"].size() == 2);
  auto bad = w.get("query", "query=SELECT Id FROM Invoice");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["Fault"]["type"] == "ValidationFault");
  CHECK(w.get("query", "query=SELECT * FROM Invoice MAXRESULTS 1001").status == 400);
}

TEST_CASE("QuickBooks CDC reports deletions", "[sandbox][quickbooks]") {
  qbo_world w;
  w.now += 120'000;
  REQUIRE(w.qbo.control(vendor_collection::action::remove, "Invoice", 1) == 1);
  REQUIRE(w.qbo.control(vendor_collection::action::mutate, "Customer", 1) == 1);
  auto r = w.get("cdc", "entities=Invoice,Customer&changedSince=2026-09-21T14:14:00Z");
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body)["CDCResponse"][0]["QueryResponse"];
  REQUIRE(j[0]["Invoice"].size() == 1);
  CHECK(j[0]["Invoice"][0]["status"] == "Deleted");
  CHECK(ledgersync::model::map_quickbooks_invoice(j[0]["Invoice"][0].dump()).tombstone());
  CHECK(j[1]["Customer"].size() == 1);
  CHECK(w.query("SELECT COUNT(*) FROM Invoice")["QueryResponse"]["totalCount"] == 29);
  CHECK(w.get("cdc", "entities=Invoice&changedSince=2026-01-01T00:00:00Z").status == 400);
}

TEST_CASE("QuickBooks faults: 401, another realm, 3001 throttling, a Fault inside a 200",
          "[sandbox][quickbooks]") {
  qbo_world w;
  vendor_request r;
  r.path = "/" + w.qbo.realm() + "/query";
  auto none = w.qbo.handle(r);
  CHECK(none.status == 401);
  CHECK(json::parse(none.body)["fault"]["error"][0]["code"] == "3200");
  r.headers["authorization"] = "Bearer " + w.token;
  r.path = "/123/query";
  CHECK(w.qbo.handle(r).status == 403);

  REQUIRE(w.qbo.fault("fault_in_200", 1));
  auto in200 = w.get("query", "query=SELECT * FROM Invoice");
  CHECK(in200.status == 200);
  CHECK(json::parse(in200.body)["Fault"]["Error"][0]["code"] == "10000");

  w.now = w.now - w.now % 60'000 + 60'000;  // a fresh minute
  for (int i = 0; i < 500; ++i)
    REQUIRE(w.get("query", "query=SELECT COUNT(*) FROM Invoice").status == 200);
  auto limited = w.get("query", "query=SELECT * FROM Invoice");
  CHECK(limited.status == 429);
  CHECK(json::parse(limited.body)["Fault"]["Error"][0]["code"] == "3001");
  w.now += 60'000;
  CHECK(w.get("query", "query=SELECT * FROM Invoice").status == 200);
}

TEST_CASE("every sandbox QuickBooks record maps with no problems", "[sandbox][quickbooks]") {
  qbo_world w;
  using namespace ledgersync::model;
  for (const auto& e : quickbooks_api::entities()) {
    if (e == "Account") continue;  // mapped by the connector (quickbooks_connector_test.cpp)
    for (const auto& rec : w.qbo.records(e)) {
      auto m = e == "Customer"  ? map_quickbooks_customer(rec)
               : e == "Invoice" ? map_quickbooks_invoice(rec)
                                : map_quickbooks_payment(rec);
      std::string why;
      for (const auto& p : m.problems) why += p.field + ": " + p.message + "; ";
      INFO(e << " " << why);
      CHECK(m.problems.empty());
    }
  }
}
