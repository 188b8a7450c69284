// The sandbox's Xero API, handlers called directly in virtual time: sign-in and tenant checks,
// paging, If-Modified-Since, the per-tenant minute limit and the day-limit switch, and every
// record mapping cleanly through model/map_xero.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "model/map_xero.hpp"
#include "sandbox/vendor_xero.hpp"

using namespace ledgersync::sandbox;
using nlohmann::json;

namespace {

struct xero_world {
  int64_t now = 1'790'000'000'000;  // 2026-09-21T…
  oauth_server auth{oauth_options::defaults(), [this] { return now; }};
  xero_api xero{[] {
                  xero_options o;
                  o.records = 40;
                  o.seed = 7;
                  return o;
                }(),
                auth, [this] { return now; }};
  std::string token;

  xero_world() {
    vendor_request r;
    r.method = "POST";
    r.path = "/oauth/token";
    r.body =
        "grant_type=client_credentials&client_id=xero-sandbox&client_secret=xero-sandbox-secret";
    token = json::parse(auth.handle(r).body)["access_token"];
  }
  vendor_response get(const std::string& target, const std::string& since = "") {
    vendor_request r;
    REQUIRE(make_request("GET", target, r));
    r.headers["authorization"] = "Bearer " + token;
    r.headers["xero-tenant-id"] = xero.tenant_id();
    if (!since.empty()) r.headers["if-modified-since"] = since;
    return xero.handle(r);
  }
};

std::string problems_text(const ledgersync::model::mapped& m) {
  std::string s = m.record.id + ":";
  for (const auto& p : m.problems) s += " " + p.field + ": " + p.message;
  return s;
}

ledgersync::model::mapped map(const std::string& coll, const std::string& rec) {
  using namespace ledgersync::model;
  if (coll == "Invoices") return map_xero_invoice(rec);
  if (coll == "Contacts") return map_xero_contact(rec);
  if (coll == "Payments") return map_xero_payment(rec);
  if (coll == "BankTransactions") return map_xero_bank_transaction(rec);
  return map_xero_account(rec);
}

}  // namespace

TEST_CASE("every sandbox Xero record maps with no problems but the ones made invalid",
          "[sandbox][xero]") {
  xero_world w;
  size_t tombstones = 0;
  for (const auto& coll : xero_api::collections()) {
    for (const auto& rec : w.xero.records(coll)) {
      auto m = map(coll, rec);
      INFO(coll << " " << problems_text(m));
      CHECK(m.problems.empty());
      tombstones += m.tombstone();
    }
  }
  CHECK(tombstones > 0);  // VOIDED and DELETED documents are among them
  REQUIRE(w.xero.control(vendor_collection::action::invalid, "Invoices", 2) == 2);
  REQUIRE(w.xero.control(vendor_collection::action::invalid, "Contacts", 1) == 1);
  size_t bad = 0;
  for (const auto& coll : xero_api::collections())
    for (const auto& rec : w.xero.records(coll)) bad += !map(coll, rec).problems.empty();
  CHECK(bad == 3);
  CHECK(w.xero.control(vendor_collection::action::repair, "Invoices", 5) == 2);
}

TEST_CASE("Xero paging: page and pageSize, pagination, Accounts unpaged", "[sandbox][xero]") {
  xero_world w;
  auto j = json::parse(w.get("/Invoices?page=2&pageSize=15").body);
  CHECK(j["Status"] == "OK");
  CHECK(j["pagination"] ==
        json{{"page", 2}, {"pageSize", 15}, {"pageCount", 3}, {"itemCount", 40}});
  CHECK(j["Invoices"].size() == 15);
  CHECK(json::parse(w.get("/Invoices?page=3&pageSize=15").body)["Invoices"].size() == 10);
  CHECK(json::parse(w.get("/Invoices?page=4&pageSize=15").body)["Invoices"].empty());
  CHECK(json::parse(w.get("/Payments").body)["pagination"]["pageSize"] == 100);
  auto acc = json::parse(w.get("/Accounts").body);
  CHECK_FALSE(acc.contains("pagination"));
  CHECK(acc["Accounts"].size() == 12);
  // Archived contacts only on request.
  auto active = json::parse(w.get("/Contacts").body)["pagination"]["itemCount"].get<int>();
  auto all = json::parse(w.get("/Contacts?includeArchived=true").body)["pagination"]["itemCount"];
  CHECK(active == 39);
  CHECK(all == 40);
  CHECK(w.get("/Invoices?page=0").status == 400);
  CHECK(w.get("/Invoices?pageSize=1001").status == 400);
  CHECK(w.get("/Quotes").status == 404);
  // The connection test's call names the organisation the tenant id stands for.
  auto org = json::parse(w.get("/Organisation").body)["Organisations"][0];
  CHECK(org["OrganisationID"] == w.xero.tenant_id());
  CHECK(org["BaseCurrency"] == "GBP");
}

TEST_CASE("Xero If-Modified-Since returns only what changed, with /Date()/ stamps",
          "[sandbox][xero]") {
  xero_world w;
  w.now += 1'200'000;  // 20 minutes: the records before are at most 14:12:20
  REQUIRE(w.xero.control(vendor_collection::action::mutate, "Invoices", 3) == 3);
  auto page = w.get("/Invoices", "2026-09-21T14:20:00");
  INFO(page.body.substr(0, 600));
  auto j = json::parse(page.body);
  REQUIRE(j["Invoices"].size() == 3);
  CHECK(j["Invoices"][0]["UpdatedDateUTC"] == "/Date(1790001200000+0000)/");
  CHECK(json::parse(w.get("/Invoices", "2026-09-21T14:33:21").body)["Invoices"].empty());
  CHECK(json::parse(w.get("/Invoices", "2026-09-21T14:33:20").body)["Invoices"].size() == 3);
  auto bad = w.get("/Invoices", "yesterday");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["Type"] == "ValidationException");
}

TEST_CASE("Xero sign-in and tenant: 401 body, expired token, 400 and 403", "[sandbox][xero]") {
  xero_world w;
  vendor_request r;
  REQUIRE(make_request("GET", "/Invoices", r));
  r.headers["xero-tenant-id"] = w.xero.tenant_id();
  auto none = w.xero.handle(r);
  CHECK(none.status == 401);
  auto j = json::parse(none.body);
  CHECK(j["Title"] == "Unauthorized");
  CHECK(j["Status"] == 401);
  CHECK(j["Detail"] == "AuthenticationUnsuccessful");
  CHECK(none.header("X-MinLimit-Remaining") == "60");

  w.now += 1800'000;  // the 30-minute access token has expired
  CHECK(w.get("/Invoices").status == 401);
  w.now -= 1800'000;
  r.headers["authorization"] = "Bearer " + w.token;
  r.headers.erase("xero-tenant-id");
  CHECK(w.xero.handle(r).status == 400);
  r.headers["xero-tenant-id"] = "00000000-0000-0000-0000-000000000000";
  auto other = w.xero.handle(r);
  CHECK(other.status == 403);
  CHECK(json::parse(other.body)["Detail"] == "AuthorizationUnsuccessful");
}

TEST_CASE("Xero limits: remaining headers, 60 per minute, the day-limit switch",
          "[sandbox][xero]") {
  xero_world w;
  w.now = w.now - w.now % 60'000 + 10'000;  // ten seconds into a minute
  for (int i = 0; i < 60; ++i) {
    auto r = w.get("/Accounts");
    REQUIRE(r.status == 200);
    CHECK(r.header("X-MinLimit-Remaining") == std::to_string(59 - i));
  }
  auto over = w.get("/Accounts");
  CHECK(over.status == 429);
  CHECK(over.header("X-Rate-Limit-Problem") == "minute");
  CHECK(over.header("Retry-After") == "50");
  CHECK(over.header("X-DayLimit-Remaining") == "4940");
  CHECK(over.header("X-AppMinLimit-Remaining") == "9940");
  w.now += 50'000;
  CHECK(w.get("/Accounts").status == 200);

  w.xero.fault_day_limit(1);
  auto day = w.get("/Accounts");
  CHECK(day.status == 429);
  CHECK(day.header("X-Rate-Limit-Problem") == "day");
  CHECK(std::stol(day.header("Retry-After")) > 3600);
  CHECK(w.get("/Accounts").status == 200);

  // The day_remaining switch: two of the day's calls left, counted down, then the day's 429.
  w.xero.spend_day_limit(2);
  CHECK(w.get("/Accounts").header("X-DayLimit-Remaining") == "1");
  CHECK(w.get("/Accounts").header("X-DayLimit-Remaining") == "0");
  auto spent = w.get("/Accounts");
  CHECK(spent.status == 429);
  CHECK(spent.header("X-Rate-Limit-Problem") == "day");
}
