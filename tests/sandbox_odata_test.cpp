// The sandbox's OData v4 service, handlers called directly: server paging by relative
// @odata.nextLink, Prefer odata.maxpagesize confirmed by Preference-Applied, $count, $filter on
// Modified, and the records through model/map_odata with a field map.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "model/map_odata.hpp"
#include "sandbox/vendor_odata.hpp"

using namespace ledgersync::sandbox;
using nlohmann::json;

namespace {

struct odata_world {
  int64_t now = 1'790'000'000'000;
  oauth_server auth{oauth_options::defaults(), [this] { return now; }};
  odata_api odata{odata_options{}, auth, [this] { return now; }};

  vendor_response get(const std::string& target, const std::string& prefer = "") {
    vendor_request r;
    REQUIRE(make_request("GET", target, r));
    r.headers["authorization"] = "Bearer sk_test_sandbox";
    if (!prefer.empty()) r.headers["prefer"] = prefer;
    return odata.handle(r);
  }
};

}  // namespace

TEST_CASE("OData paging by relative nextLink with odata.maxpagesize and $count",
          "[sandbox][odata]") {
  odata_world w;
  std::string next = "/Invoices?$count=true";
  size_t seen = 0, pages = 0;
  while (!next.empty()) {
    auto r = w.get(next, "odata.maxpagesize=40");
    INFO(r.body.substr(0, 300));
    REQUIRE(r.status == 200);
    CHECK(r.header("Preference-Applied") == "odata.maxpagesize=40");
    auto j = json::parse(r.body);
    CHECK(j["@odata.count"] == 100);
    seen += j["value"].size();
    ++pages;
    next = j.contains("@odata.nextLink") ? "/" + j["@odata.nextLink"].get<std::string>() : "";
  }
  CHECK(seen == 100);
  CHECK(pages == 3);
  CHECK(json::parse(w.get("/Invoices").body)["value"].size() == 100);  // the default page
  CHECK(json::parse(w.get("/Customers?$top=5&$skip=10").body)["value"].size() == 5);
  CHECK(w.get("/Orders").status == 404);
  vendor_request anon;
  REQUIRE(make_request("GET", "/Invoices", anon));
  auto denied = w.odata.handle(anon);
  CHECK(denied.status == 401);
  CHECK(json::parse(denied.body)["error"]["code"] == "Unauthorized");
}

TEST_CASE("OData $filter on Modified sees changes and deletions", "[sandbox][odata]") {
  odata_world w;
  w.now += 120'000;
  REQUIRE(w.odata.control(vendor_collection::action::mutate, "Customers", 2) == 2);
  REQUIRE(w.odata.control(vendor_collection::action::remove, "Customers", 1) == 1);
  auto j = json::parse(w.get("/Customers?$filter=Modified%20gt%202026-09-21T14:13:00Z").body);
  REQUIRE(j["value"].size() == 3);
  CHECK(j["value"][2]["IsDeleted"] == true);
  auto bad = w.get("/Customers?$filter=Name%20eq%20'x'");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["error"]["code"] == "BadRequest");
}

TEST_CASE("every sandbox OData invoice maps through a field map", "[sandbox][odata]") {
  odata_world w;
  auto map = ledgersync::model::odata_field_map::from_json(json::parse(R"({
    "entity": "invoice", "deleted": "IsDeleted",
    "fields": {"id": "No", "customer_id": "/Customer/No", "number": "No",
               "currency": "CurrencyCode", "total": "AmountIncludingVAT",
               "amount_due": "RemainingAmount", "issue_date": "DocumentDate",
               "due_date": "DueDate", "status": "Status", "updated_at": "Modified"}})"));
  INFO(map.error);
  REQUIRE(map.ok());
  for (const auto& rec : w.odata.records("Invoices")) {
    auto m = ledgersync::model::map_odata(rec, *map);
    std::string why;
    for (const auto& p : m.problems) why += p.field + ": " + p.message + "; ";
    INFO(why);
    CHECK(m.problems.empty());
  }
}
