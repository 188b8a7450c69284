// The sandbox's Sage v3.1 API, handlers called directly in virtual time: $next paging to the end
// (and the last page again past it), updated_or_created_since, deleted_since, X-Business, Sage's
// error arrays, and every record mapping through model/map_sage.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "model/map_sage.hpp"
#include "sandbox/vendor_sage.hpp"

using namespace ledgersync::sandbox;
using nlohmann::json;

namespace {

struct sage_world {
  int64_t now = 1'790'000'000'000;
  oauth_server auth{oauth_options::defaults(), [this] { return now; }};
  sage_api sage{[] {
                  sage_options o;
                  o.records = 45;
                  return o;
                }(),
                auth, [this] { return now; }};
  std::string token;

  sage_world() {
    vendor_request r;
    r.method = "POST";
    r.path = "/oauth/token";
    r.body =
        "grant_type=client_credentials&client_id=sage-sandbox&client_secret=sage-sandbox-secret";
    token = json::parse(auth.handle(r).body)["access_token"];
  }
  vendor_response get(const std::string& target) {
    vendor_request r;
    REQUIRE(make_request("GET", target, r));
    r.headers["authorization"] = "Bearer " + token;
    r.headers["x-business"] = sage.business_id();
    return sage.handle(r);
  }
  json list(const std::string& target) {
    auto r = get(target);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
};

}  // namespace

TEST_CASE("Sage paging follows $next to the end; past the end is the last page again",
          "[sandbox][sage]") {
  sage_world w;
  std::string next = "/sales_invoices?items_per_page=20&attributes=all";
  size_t seen = 0, pages = 0;
  while (!next.empty()) {
    auto page = w.list(next);
    CHECK(page["$total"] == 45);
    seen += page["$items"].size();
    ++pages;
    next = page["$next"].is_null() ? "" : page["$next"].get<std::string>();
  }
  CHECK(seen == 45);
  CHECK(pages == 3);
  auto past = w.list("/sales_invoices?page=9&items_per_page=20");
  CHECK(past["$page"] == 3);
  CHECK(past["$items"].size() == 5);
  CHECK(past["$items"][0].size() == 3);  // no attributes=all: id, displayed_as, $path
  CHECK(w.get("/sales_invoices?items_per_page=201").status == 422);
}

TEST_CASE("Sage incremental: updated_or_created_since and deleted_since", "[sandbox][sage]") {
  sage_world w;
  w.now += 180'000;  // within the 5-minute token; the records before are at most 14:12:20
  REQUIRE(w.sage.control(vendor_collection::action::mutate, "contacts", 2) == 2);
  REQUIRE(w.sage.control(vendor_collection::action::remove, "contacts", 1) == 1);
  auto changed = w.list("/contacts?updated_or_created_since=2026-09-21T14:15:00Z&attributes=all");
  CHECK(changed["$total"] == 2);
  auto gone = w.list("/contacts?deleted_since=2026-09-21T14:15:00Z");
  REQUIRE(gone["$total"] == 1);
  auto tomb = ledgersync::model::map_sage_deleted(gone["$items"][0].dump(), "customer");
  CHECK(tomb.tombstone());
  CHECK(w.list("/contacts")["$total"] == 44);
  auto bad = w.get("/contacts?updated_or_created_since=soon");
  CHECK(bad.status == 422);
  CHECK(json::parse(bad.body)[0]["$source"] == "updated_or_created_since");
}

TEST_CASE("Sage auth and X-Business errors are Sage's arrays", "[sandbox][sage]") {
  sage_world w;
  vendor_request r;
  REQUIRE(make_request("GET", "/contacts", r));
  auto none = w.sage.handle(r);
  CHECK(none.status == 401);
  CHECK(json::parse(none.body)[0]["$dataCode"] == "AuthorizationFailure");
  r.headers["authorization"] = "Bearer " + w.token;
  CHECK(w.sage.handle(r).status == 400);
  r.headers["x-business"] = "0123";
  CHECK(w.sage.handle(r).status == 404);
  w.now += 300'000;  // Sage's access tokens last five minutes
  CHECK(w.get("/contacts").status == 401);
}

TEST_CASE("every sandbox Sage record maps with no problems", "[sandbox][sage]") {
  sage_world w;
  using namespace ledgersync::model;
  auto check = [&](const std::string& coll, auto&& fn) {
    for (const auto& rec : w.sage.records(coll)) {
      auto m = fn(rec, sage_context{});
      std::string why;
      for (const auto& p : m.problems) why += p.field + ": " + p.message + "; ";
      INFO(coll << " " << why);
      CHECK(m.problems.empty());
    }
  };
  check("contacts", map_sage_contact);
  check("sales_invoices", map_sage_sales_invoice);
  check("contact_payments", map_sage_contact_payment);
  check("ledger_accounts", map_sage_ledger_account);
}
