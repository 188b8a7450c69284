#include "notify/status_events.hpp"

#include <catch2/catch.hpp>

using ledgersync::notify::status_events;
using nlohmann::json;

namespace {

json doc(const std::string& status, uint64_t run, const std::string& outcome, int set_aside = 0,
         bool running = false) {
  return json{{"name", "acme"},     {"status", status},        {"health", "healthy"},
              {"last_run_id", run}, {"last_outcome", outcome}, {"set_aside", set_aside},
              {"running", running}, {"last_sync", nullptr},    {"last_error", nullptr}};
}

std::vector<std::string> types(const std::vector<ledgersync::notify::status_event>& evs) {
  std::vector<std::string> out;
  for (auto& e : evs) out.push_back(e.type);
  return out;
}

}  // namespace

TEST_CASE("webhook events come from what the status documents say changed", "[notify]") {
  status_events w;
  // The first reading learns; a restart announces nothing.
  CHECK(w.next(json::array({doc("disconnected", 3, "failed")})).empty());
  CHECK(w.next(json::array({doc("disconnected", 3, "failed")})).empty());
  // A run under way ends nothing yet.
  CHECK(w.next(json::array({doc("disconnected", 4, "failed", 0, true)})).empty());
  auto evs = w.next(json::array({doc("active", 4, "ok")}));
  CHECK(types(evs) == std::vector<std::string>{"status_changed", "run_succeeded"});
  CHECK(evs[0].data["previous_status"] == "disconnected");
  CHECK(evs[0].data["status"] == "active");
  CHECK(evs[1].data["run_id"] == 4);
  evs = w.next(json::array({doc("error", 5, "error", 2)}));
  CHECK(types(evs) == std::vector<std::string>{"status_changed", "run_succeeded", "set_aside"});
  CHECK(evs[2].data["newly_set_aside"] == 2);
  evs = w.next(json::array({doc("disconnected", 6, "failed", 2)}));
  CHECK(types(evs) == std::vector<std::string>{"status_changed", "disconnected", "run_failed"});
  // A new integration starts from pending with no run; a removed one is forgotten.
  auto other = doc("pending", 0, "");
  other["name"] = "beta";
  CHECK(w.next(json::array({doc("disconnected", 6, "failed", 2), other})).empty());
  // One whose first reading already shows its first run over (a quick run): announced.
  auto quick = doc("active", 1, "ok");
  quick["name"] = "gamma";
  evs = w.next(json::array({doc("disconnected", 6, "failed", 2), quick}));
  CHECK(types(evs) == std::vector<std::string>{"status_changed", "run_succeeded"});
  CHECK(evs[0].data["previous_status"] == "pending");
  CHECK(w.next(json::array()).empty());
  CHECK(w.next("not an array").empty());
}

TEST_CASE("a pushed record the vendor refuses is a push_failed event; a correction is none",
          "[notify]") {
  status_events w;
  auto with_refused = [](uint64_t n) {
    auto d = doc("active", 1, "ok");
    d["pushes"] = {{"failed", n}, {"open", 0}};
    return d;
  };
  CHECK(w.next(json::array({with_refused(0)})).empty());
  auto evs = w.next(json::array({with_refused(2)}));
  REQUIRE(types(evs) == std::vector<std::string>{"push_failed"});
  CHECK(evs[0].data["newly_failed"] == 2);
  CHECK(evs[0].data["push_failed"] == 2);
  CHECK(w.next(json::array({with_refused(1)})).empty());  // one corrected and pushed again
  CHECK(types(w.next(json::array({with_refused(3)}))) == std::vector<std::string>{"push_failed"});
}

TEST_CASE("webhook events come the same from the status feed's batches of what changed",
          "[notify]") {
  status_events w;
  auto named = [](json d, const std::string& name) {
    d["name"] = name;
    return d;
  };
  auto batch = [](bool snapshot, json changed, json removed = json::array()) {
    return json{{"snapshot", snapshot}, {"changed", changed}, {"removed", removed}};
  };
  // The first batch (a snapshot) only learns; acme's run 4 is under way.
  CHECK(w.next_batch(
             batch(true, {doc("active", 4, "ok", 0, true), named(doc("active", 2, "ok"), "beta")}))
            .empty());
  // beta, not named in a batch, is unchanged: nothing about it.
  auto evs = w.next_batch(batch(false, {doc("error", 4, "error", 3)}));
  CHECK(types(evs) == std::vector<std::string>{"status_changed", "run_succeeded", "set_aside"});
  CHECK(evs[0].data["previous_status"] == "active");
  CHECK(evs[2].data["newly_set_aside"] == 3);
  CHECK(w.next_batch(batch(false, json::array())).empty());
  // Removed, then back: compared as a new integration (pending, no run).
  CHECK(w.next_batch(batch(false, json::array(), {"beta"})).empty());
  evs = w.next_batch(batch(false, {named(doc("active", 2, "ok"), "beta")}));
  CHECK(types(evs) == std::vector<std::string>{"status_changed", "run_succeeded"});
  CHECK(evs[0].data["previous_status"] == "pending");
  // A later snapshot is a full reading: acme, absent from it, is forgotten, and new again.
  CHECK(w.next_batch(batch(true, {named(doc("active", 2, "ok"), "beta")})).empty());
  evs = w.next_batch(batch(false, {doc("error", 4, "error", 3)}));
  CHECK(types(evs) == std::vector<std::string>{"status_changed", "run_succeeded", "set_aside"});
  CHECK(evs[0].data["previous_status"] == "pending");
  CHECK(w.next_batch("not an object").empty());
}
