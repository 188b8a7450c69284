// The sandbox's Stripe API, handlers called directly in virtual time: list shape and order,
// starting_after / ending_before, limit bounds, created[gte], events with types[] and
// customer.deleted, Stripe-Version echo, 401 and the 429 without Retry-After; every object maps
// through model/map_stripe.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "model/map_stripe.hpp"
#include "sandbox/vendor_stripe.hpp"

using namespace ledgersync::sandbox;
using nlohmann::json;

namespace {

struct stripe_world {
  int64_t now = 1'790'000'000'000;
  effect_log effects;
  stripe_api stripe{[] {
                      stripe_options o;
                      o.records = 30;
                      o.seed = 3;
                      return o;
                    }(),
                    [this] { return now; }, effects};

  vendor_response get(const std::string& target, const std::string& key = "sk_test_sandbox") {
    vendor_request r;
    REQUIRE(make_request("GET", target, r));
    if (!key.empty()) r.headers["authorization"] = "Bearer " + key;
    r.headers["stripe-version"] = "2024-06-20";
    return stripe.handle(r);
  }
  json list(const std::string& target) {
    auto r = get(target);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
};

}  // namespace

TEST_CASE("Stripe lists: newest first, starting_after paging to the end, limit bounds",
          "[sandbox][stripe]") {
  stripe_world w;
  auto first = w.list("/customers?limit=12");
  CHECK(first["object"] == "list");
  CHECK(first["url"] == "/v1/customers");
  CHECK(first["has_more"] == true);
  REQUIRE(first["data"].size() == 12);
  CHECK(first["data"][0]["created"].get<int64_t>() > first["data"][1]["created"].get<int64_t>());
  std::vector<std::string> ids;
  std::string after;
  for (bool more = true; more;) {
    auto page = w.list("/customers?limit=12" + (after.empty() ? "" : "&starting_after=" + after));
    for (const auto& c : page["data"]) ids.push_back(c["id"]);
    more = page["has_more"];
    after = ids.back();
  }
  CHECK(ids.size() == 30);
  auto before = w.list("/customers?limit=5&ending_before=" + ids[10]);
  CHECK(before["data"][0]["id"] == ids[5]);
  CHECK(before["has_more"] == true);
  CHECK(w.list("/charges")["data"].size() == 10);  // the default limit

  auto bad = w.get("/customers?limit=101");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["error"]["param"] == "limit");
  CHECK(w.get("/customers?limit=0").status == 400);
  auto missing = w.get("/customers?starting_after=cus_nope");
  CHECK(missing.status == 400);
  CHECK(json::parse(missing.body)["error"]["code"] == "resource_missing");
  CHECK(json::parse(w.get("/customers?updated_since=1").body)["error"]["param"] == "updated_since");
  CHECK(w.get("/refunds").status == 404);
}

TEST_CASE("Stripe created[gte] and the objects map through model/map_stripe", "[sandbox][stripe]") {
  stripe_world w;
  int64_t cut = w.now / 1000 - 60 - 600 * 4;  // the five newest
  CHECK(w.list("/invoices?limit=100&created[gte]=" + std::to_string(cut))["data"].size() == 5);
  for (const auto& coll : stripe_api::collections())
    for (const auto& rec : w.stripe.records(coll)) {
      auto m = ledgersync::model::map_stripe_object(rec);
      std::string why;
      for (const auto& p : m.problems) why += p.field + ": " + p.message + "; ";
      INFO(coll << " " << why);
      CHECK(m.problems.empty());
    }
}

TEST_CASE("Stripe events: *.created, updates, customer.deleted, types[] filter",
          "[sandbox][stripe]") {
  stripe_world w;
  w.now += 10'000;
  REQUIRE(w.stripe.control(vendor_collection::action::mutate, "charges", 2) == 2);
  REQUIRE(w.stripe.control(vendor_collection::action::remove, "customers", 1) == 1);
  CHECK(w.stripe.control(vendor_collection::action::remove, "charges", 1) == 0);
  auto recent = w.list("/events?created[gte]=" + std::to_string(w.now / 1000));
  REQUIRE(recent["data"].size() == 3);
  CHECK(recent["data"][0]["type"] == "customer.deleted");  // newest first
  CHECK(recent["data"][1]["type"] == "charge.updated");
  auto deleted = ledgersync::model::map_stripe_event(recent["data"][0].dump());
  CHECK(deleted.tombstone());
  CHECK(w.list("/customers?limit=100")["data"].size() == 29);
  auto created = w.list("/events?limit=100&types[]=customer.created&types[]=invoice.created");
  CHECK(created["data"].size() == 60);
  for (const auto& e : created["data"]) CHECK(e["type"].get<std::string>().ends_with(".created"));
  CHECK(w.list("/events?limit=100&type=charge.*")["data"].size() == 32);
  CHECK(w.get("/customers?types[]=x").status == 400);  // types[] is for events only
}

TEST_CASE("Stripe auth, version echo and 429 without Retry-After", "[sandbox][stripe]") {
  stripe_world w;
  auto ok = w.get("/customers");
  CHECK(ok.header("Stripe-Version") == "2024-06-20");
  CHECK(ok.header("Request-Id").rfind("req_", 0) == 0);
  auto no = w.get("/customers", "sk_test_wrong");
  CHECK(no.status == 401);
  CHECK(json::parse(no.body)["error"]["message"] == "Invalid API Key provided");
  CHECK(w.get("/customers", "").status == 401);

  REQUIRE(w.stripe.fault("rate_limit", 1));
  auto limited = w.get("/customers");
  CHECK(limited.status == 429);
  CHECK(json::parse(limited.body)["error"]["code"] == "rate_limit");
  CHECK(json::parse(limited.body)["error"]["type"] == "invalid_request_error");
  CHECK(limited.header("Retry-After").empty());
  CHECK_FALSE(w.stripe.fault("slow", 1));

  w.now = w.now - w.now % 1000 + 1000;  // a fresh second: 25 requests, then 429
  for (int i = 0; i < 25; ++i) REQUIRE(w.get("/customers").status == 200);
  CHECK(w.get("/customers").status == 429);
  w.now += 1000;
  CHECK(w.get("/customers").status == 200);
}
