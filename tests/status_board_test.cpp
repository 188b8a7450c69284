#include "core/status_board.hpp"

#include <catch2/catch.hpp>

using ledgersync::status_board;
using nlohmann::json;

namespace {

json doc(const std::string& name, const std::string& status, const std::string& now) {
  return json{{"name", name}, {"status", status}, {"now", now}, {"progress", {{"percent", 10}}}};
}

}  // namespace

TEST_CASE("the status board hands out a change once, and a re-reading that moved only now never",
          "[status_board]") {
  status_board b;
  CHECK(b.take("acme", doc("acme", "active", "12:00:00")));
  CHECK(b.take("beta", doc("beta", "pending", "12:00:00")));
  auto batch = json::parse(b.take_changes());
  CHECK(batch ==
        json{{"snapshot", false},
             {"changed", {doc("acme", "active", "12:00:00"), doc("beta", "pending", "12:00:00")}},
             {"removed", json::array()}});
  CHECK(!b.has_changes());

  // Read again 30 s later: only "now" moved. Not a change, but the newer "now" is what a
  // snapshot shows.
  CHECK(!b.take("acme", doc("acme", "active", "12:00:30")));
  CHECK(!b.has_changes());
  auto snap = json::parse(b.snapshot());
  CHECK(snap["snapshot"] == true);
  CHECK(snap["removed"] == json::array());
  CHECK(snap["changed"] ==
        json{doc("acme", "active", "12:00:30"), doc("beta", "pending", "12:00:00")});

  // A change anywhere else in the document, nested too, is one.
  auto moved = doc("acme", "active", "12:00:31");
  moved["progress"]["percent"] = 11;
  CHECK(b.take("acme", moved));
  CHECK(json::parse(b.take_changes())["changed"] == json{moved});
}

TEST_CASE("the status board hands out a removal, and a return after it as a change",
          "[status_board]") {
  status_board b;
  b.take("acme", doc("acme", "active", "1"));
  b.take("beta", doc("beta", "active", "1"));
  b.take("q\"uote", doc("q\"uote", "active", "1"));
  b.take_changes();
  CHECK(!b.drop("nope"));
  CHECK(b.drop("acme"));
  CHECK(!b.drop("acme"));
  CHECK(json::parse(b.take_changes()) ==
        json{{"snapshot", false}, {"changed", json::array()}, {"removed", {"acme"}}});

  // Gone and back before the batch: the batch has it changed, not removed.
  b.drop("beta");
  CHECK(b.take("beta", doc("beta", "active", "1")));
  auto batch = json::parse(b.take_changes());
  CHECK(batch["removed"] == json::array());
  CHECK(batch["changed"] == json{doc("beta", "active", "1")});

  // A full reading that no longer finds one: removed, its name escaped in the batch.
  CHECK(!b.drop_all_but({"beta", "q\"uote"}));
  CHECK(b.drop_all_but({"beta"}));
  CHECK(json::parse(b.take_changes())["removed"] == json{"q\"uote"});
  CHECK(b.size() == 1);
  CHECK(json::parse(b.snapshot())["changed"] == json{doc("beta", "active", "1")});
}

TEST_CASE("an empty status board's snapshot is an empty list", "[status_board]") {
  status_board b;
  CHECK(json::parse(b.snapshot()) ==
        json{{"snapshot", true}, {"changed", json::array()}, {"removed", json::array()}});
}
