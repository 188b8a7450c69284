// The vendor-neutral half of write-back (connectors/push.hpp): reading an application's items,
// checking their fields against the canonical model, and the stored item's round trip.
#include "connectors/push.hpp"

#include <catch2/catch.hpp>

using namespace ledgersync;
using nlohmann::json;

namespace {
bool has(const std::vector<std::string>& problems, const std::string& part) {
  for (auto& p : problems)
    if (p.find(part) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("push items: one per line, op defaults to upsert, every problem with its line") {
  auto in = parse_push_items("customer",
                             "{\"external_id\":\"C-1\",\"fields\":{\"name\":\"Ada\"}}\n"
                             "\n"
                             "{\"external_id\":\"C-2\",\"op\":\"update\",\"fields\":{\"id\":\"v-2\","
                             "\"email\":\"b@example.com\"}}\r\n");
  REQUIRE(in.problems.empty());
  REQUIRE(in.items.size() == 2);
  CHECK(in.items[0].op == push_op::upsert);
  CHECK(in.items[0].entity == "customer");
  CHECK(in.items[1].op == push_op::update);
  CHECK(in.items[1].vendor_id == "v-2");        // fields.id names the vendor's record
  CHECK_FALSE(in.items[1].fields.contains("id"));  // ...and is not a field to send

  auto bad = parse_push_items("customer",
                              "not json\n"
                              "{\"op\":\"create\",\"fields\":{\"name\":\"x\"}}\n"
                              "{\"external_id\":\"C-3\",\"op\":\"merge\",\"fields\":{}}\n"
                              "{\"external_id\":\"C-4\",\"fields\":{\"name\":\"x\",\"balance\":\"1.00\"}}\n"
                              "{\"external_id\":\"C-5\",\"fields\":{\"email\":\"x@y\"}}\n"
                              "{\"external_id\":\"C-6\",\"fields\":{\"name\":\"x\"},\"extra\":1}\n");
  CHECK(bad.items.empty());
  CHECK(has(bad.problems, "line 1: not JSON"));
  CHECK(has(bad.problems, "line 2: external_id: is missing"));
  CHECK(has(bad.problems, "line 3: op: must be create, update or upsert"));
  CHECK(has(bad.problems, "line 4: fields.balance: is the vendor's to compute"));
  CHECK(has(bad.problems, "line 5: fields.name: is missing"));
  CHECK(has(bad.problems, "line 6: extra: is not a field of a push item"));
  CHECK(has(parse_push_items("customer", "").problems, "the file is empty"));
  auto twice = parse_push_items("customer",
                                "{\"external_id\":\"C-1\",\"fields\":{\"name\":\"a\"}}\n"
                                "{\"external_id\":\"C-1\",\"fields\":{\"name\":\"b\"}}\n");
  CHECK(has(twice.problems, "appears twice"));
  auto ctl = parse_push_items("customer", "{\"external_id\":\"C\\u0001\",\"fields\":{}}");
  CHECK(has(ctl.problems, "control characters"));
}

TEST_CASE("push fields: canonical shapes, what a create needs, invoice lines") {
  auto invoice = json{{"customer_external_id", "C-1"},
                      {"currency", "GBP"},
                      {"issue_date", "2026-11-01"},
                      {"due_date", "2026-12-01"},
                      {"lines", {{{"description", "Membership"}, {"unit_price", "120.00"}}}}};
  CHECK(check_push_fields("invoice", push_op::create, invoice).empty());
  auto p = invoice;
  p["currency"] = "gbp";
  CHECK(has(check_push_fields("invoice", push_op::create, p), "currency"));
  p = invoice;
  p["lines"][0]["unit_price"] = 120.0;  // a JSON number would lose exactness
  CHECK(has(check_push_fields("invoice", push_op::create, p), "lines/0/unit_price: must be a decimal"));
  p = invoice;
  p["lines"] = json::array();
  CHECK(has(check_push_fields("invoice", push_op::create, p), "lines: must be a non-empty array"));
  p = invoice;
  p["status"] = "paid";
  CHECK(has(check_push_fields("invoice", push_op::create, p), "a pushed invoice is draft or open"));
  p = invoice;
  p.erase("customer_external_id");
  CHECK(has(check_push_fields("invoice", push_op::create, p),
            "customer_id or customer_external_id: is missing"));
  CHECK(check_push_fields("invoice", push_op::update, json{{"due_date", "2026-12-31"}}).empty());
  auto payment = json{{"invoice_external_id", "INV-1"},
                      {"amount", "120.00"},
                      {"currency", "GBP"},
                      {"date", "2026-11-20"},
                      {"account", "090"}};
  CHECK(check_push_fields("payment", push_op::create, payment).empty());
  payment["amount"] = "120.001";  // more decimals than pounds have
  CHECK(has(check_push_fields("payment", push_op::create, payment), "amount"));
  CHECK(has(check_push_fields("account", push_op::create, json::object()), "entity"));
  CHECK(has(check_push_fields("customer", push_op::create, json{{"name", "x"}, {"colour", "red"}}),
            "colour: is not a field of customer"));
}

TEST_CASE("a stored push item reads back as it was written") {
  push_item it;
  it.seq = 12;
  it.entity = "invoice";
  it.op = push_op::update;
  it.external_id = "INV-1";
  it.fields = {{"due_date", "2026-12-31"}};
  it.vendor_id = "v-9";
  it.base_version = "3";
  it.idempotency_key = "ls-00ff-2";
  it.status = push_status::failed;
  it.attempts = 2;
  it.revision = 2;
  it.errors = {{"due_date", "must be after the issue date"}};
  it.message = "refused";
  it.hint = "correct due_date";
  it.accepted_ms = 1;
  it.updated_ms = 2;
  it.by = "alice";
  auto back = push_item::from_json(it.to_json());
  REQUIRE(back);
  CHECK(back->to_json() == it.to_json());
  CHECK_FALSE(push_item::from_json(json{{"entity", "invoice"}, {"op", "merge"}, {"status", "failed"}}));
  CHECK_FALSE(push_item::from_json(json{{"entity", "invoice"}, {"op", "create"}, {"status", "x"}}));
  CHECK_FALSE(push_item::from_json(json{{"entity", 1}, {"op", "create"}, {"status", "pending"}}));
  CHECK(is_final(push_status::superseded));
  CHECK_FALSE(is_final(push_status::sending));
}

namespace {
push_item stored(uint64_t seq, push_status st, push_op op = push_op::create,
                 json fields = {{"name", "Ada"}}) {
  push_item it;
  it.seq = seq;
  it.entity = "customer";
  it.external_id = "C-1";
  it.op = op;
  it.status = st;
  it.fields = std::move(fields);
  it.idempotency_key = "ls-stored-1";
  if (st == push_status::succeeded) {
    it.vendor_id = "v-1";
    it.vendor_version = "7";
  }
  return it;
}
push_item incoming(push_op op, json fields) {
  push_item it;
  it.entity = "customer";
  it.external_id = "C-1";
  it.op = op;
  it.fields = std::move(fields);
  return it;
}
}  // namespace

TEST_CASE("placing a push against the newest item of its external_id") {
  SECTION("the first push is a new item; a first update needs the vendor's id") {
    auto p = place_push(std::nullopt, incoming(push_op::create, {{"name", "Ada"}}), false, 5);
    REQUIRE(p.write);
    CHECK(p.write->accepted_ms == 5);
    CHECK(place_push(std::nullopt, incoming(push_op::update, {{"name", "x"}}), false, 5)
              .problem.find("needs the vendor's id") != std::string::npos);
  }
  SECTION("a pending item not yet on its way is replaced in place, and stays a create") {
    auto p = place_push(stored(4, push_status::pending),
                        incoming(push_op::update, {{"name", "Ada L."}}), false, 9);
    REQUIRE(p.write);
    CHECK(p.write->seq == 4);
    CHECK(p.write->op == push_op::create);
    CHECK(p.write->idempotency_key == "ls-stored-1");
    CHECK(p.write->fields["name"] == "Ada L.");
  }
  SECTION("...but one a run is sending is left alone: the change is an item of its own") {
    auto p = place_push(stored(4, push_status::pending),
                        incoming(push_op::update, {{"name", "Ada L."}}), true, 9);
    REQUIRE(p.write);
    CHECK(p.write->seq == 0);
    CHECK(p.write->revision == 2);
  }
  SECTION("the same create again while the first is on its way is one effect") {
    auto p = place_push(stored(4, push_status::sending), incoming(push_op::create, {{"name", "Ada"}}),
                        false, 9);
    CHECK(p.unchanged);
    CHECK_FALSE(p.write);
    auto q = place_push(stored(4, push_status::sending), incoming(push_op::create, {{"name", "Bo"}}),
                        false, 9);
    REQUIRE(q.write);
    CHECK(q.write->op == push_op::upsert);  // changes the record once the create has landed
  }
  SECTION("after success: the same content is unchanged, a create is refused, an update "
          "inherits the id and our own last version as its base") {
    CHECK(place_push(stored(4, push_status::succeeded), incoming(push_op::upsert, {{"name", "Ada"}}),
                     false, 9)
              .unchanged);
    CHECK(place_push(stored(4, push_status::succeeded), incoming(push_op::create, {{"name", "Bo"}}),
                     false, 9)
              .problem.find("already created as v-1") != std::string::npos);
    auto p = place_push(stored(4, push_status::succeeded),
                        incoming(push_op::update, {{"name", "Bo"}}), false, 9);
    REQUIRE(p.write);
    CHECK(p.write->vendor_id == "v-1");
    CHECK(p.write->base_version == "7");
    CHECK(p.write->revision == 2);
  }
  SECTION("a failed or conflicting item pushed again is superseded") {
    for (auto st : {push_status::failed, push_status::conflict}) {
      auto p = place_push(stored(4, st), incoming(push_op::create, {{"name", "Ada"}}), false, 9);
      REQUIRE(p.write);
      REQUIRE(p.supersede);
      CHECK(p.supersede->seq == 4);
      CHECK(p.supersede->status == push_status::superseded);
    }
  }
}

TEST_CASE("idempotency keys: per item, short, never the same twice") {
  push_item it;
  it.entity = "customer";
  it.external_id = std::string(64, 'x');
  it.revision = 4000000000u;
  auto a = push_idempotency_key("acme", it, 1), b = push_idempotency_key("acme", it, 2);
  CHECK(a != b);
  CHECK(a.size() <= 30);
  CHECK(a.rfind("ls-", 0) == 0);
  CHECK(push_idempotency_key("acme", it, 1) == a);  // a function of its inputs
}

TEST_CASE("a push holds at most 10,000 items") {
  std::string many;
  for (int i = 0; i <= 10000; ++i)
    many += "{\"external_id\":\"C-" + std::to_string(i) + "\",\"fields\":{\"name\":\"x\"}}\n";
  CHECK(has(parse_push_items("customer", many).problems, "at most 10000 items at once"));
}
