// LMDB storage: atomic batches, dedupe by content hash, the change feed, map growth, removal.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "storage/secrets.hpp"
#include "tests/faulty_storage.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;

namespace {
write_batch page(const std::string& integ, int from, int to, const std::string& version = "1") {
  write_batch b;
  b.integration = integ;
  for (int i = from; i < to; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "r%06d", i);
    b.records.push_back({"customers", id, "2026-01-01T00:00:00Z",
                         std::string("{\"id\":\"") + id + "\",\"v\":" + version + "}", false});
  }
  b.cursors["customers"] = "{\"page_token\":\"" + std::to_string(to) + "\"}";
  return b;
}
}  // namespace

TEST_CASE("a page, its cursor and its change entries commit together; unchanged writes nothing") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  batch_result r;
  REQUIRE(s->apply(page("a", 0, 100), r).ok());
  CHECK(r.inserted == 100);
  CHECK(s->cursors("a")["customers"] == "{\"page_token\":\"100\"}");
  CHECK(s->last_change_seq() == 100);
  REQUIRE(s->apply(page("a", 0, 100), r).ok());  // the same page fetched twice
  CHECK(r.inserted == 0);
  CHECK(r.unchanged == 100);
  CHECK(s->last_change_seq() == 100);
  REQUIRE(s->apply(page("a", 50, 150, "2"), r).ok());
  CHECK(r.updated == 50);
  CHECK(r.inserted == 50);
  CHECK(s->last_change_seq() == 200);
  CHECK(s->record_counts("a")["customers"] == 150);
  auto rec = s->record("a", "customers", "r000060");
  REQUIRE(rec);
  CHECK(rec->body == "{\"id\":\"r000060\",\"v\":2}");
  auto ch = s->changes(195, 10);
  REQUIRE(ch.size() == 5);
  CHECK(ch.front().seq == 196);
  CHECK(nlohmann::json::parse(ch.front().doc)["integration"] == "a");
}

TEST_CASE("change entries stay valid JSON whatever the upstream's ids contain") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  write_batch b;
  b.integration = "a";
  const std::string odd = "q\"b\\s\x01\n\u00e9";  // simdjson has checked it is UTF-8
  b.records.push_back({"customers", odd, "2026-01-01T00:00:00Z", "{}", false});
  batch_result r;
  REQUIRE(s->apply(b, r).ok());
  auto ch = s->changes(0, 10);
  REQUIRE(ch.size() == 1);
  auto j = nlohmann::json::parse(ch[0].doc);
  CHECK(j["id"] == odd);
  CHECK(j["op"] == "upsert");
  CHECK(j["seq"] == 1);
}

TEST_CASE("a group that fails leaves nothing of any of its batches") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  auto good = page("a", 0, 10);
  auto bad = page("b", 0, 10);
  bad.records.push_back({"customers", std::string(600, 'x'), "", "{}", false});  // key too long
  std::vector<batch_result> rs;
  auto e = s->apply_group({&good, &bad}, rs);
  CHECK(e.category == error_category::storage);
  CHECK(s->records("a", "", "", "", 100).empty());
  CHECK(s->cursors("a").empty());
  CHECK(s->last_change_seq() == 0);
  // The writer is usable afterwards.
  batch_result r;
  CHECK(s->apply(good, r).ok());
}

TEST_CASE("the map grows when full instead of failing") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err, 1 << 20);  // 1 MiB: far too small
  REQUIRE(s);
  std::string body(1000, 'y');
  for (int p = 0; p < 20; ++p) {
    write_batch b;
    b.integration = "big";
    for (int i = 0; i < 500; ++i)
      b.records.push_back({"s", std::to_string(p * 1000 + i), "", body + std::to_string(i), false});
    batch_result r;
    REQUIRE(s->apply(b, r).ok());
  }
  CHECK(s->record_counts("big")["s"] == 10000);
}

TEST_CASE("records page in key order; logs and runs read newest-first where asked") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  write_batch b = page("a", 0, 5);
  for (int i = 0; i < 5; ++i) b.log_events.push_back("{\"n\":" + std::to_string(i) + "}");
  b.run_id = 3;
  b.run_patch = R"({"status":"running"})";
  batch_result r;
  REQUIRE(s->apply(b, r).ok());
  write_batch other = page("ab", 0, 2);  // a name that shares a prefix must not leak in
  other.log_events.push_back("{\"n\":99}");
  REQUIRE(s->apply(other, r).ok());
  auto recs = s->records("a", "customers", "customers", "r000001", 2);
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].id == "r000002");
  CHECK(s->records("a", "", "", "", 100).size() == 5);
  auto logs = s->logs("a", 3);
  REQUIRE(logs.size() == 3);
  CHECK(logs.back() == "{\"n\":4}");
  auto run = nlohmann::json::parse(*s->run("a", 3));
  CHECK(run["inserted"] == 5);
  CHECK(run["status"] == "running");
}

TEST_CASE("removing an integration deletes its data and tells the change feed") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  batch_result r;
  auto b = page("a", 0, 3);
  b.integration_doc = "{}";
  REQUIRE(s->apply(b, r).ok());
  REQUIRE(s->apply(page("keep", 0, 2), r).ok());
  write_batch rm;
  rm.integration = "a";
  rm.remove_integration = true;
  REQUIRE(s->apply(rm, r).ok());
  CHECK_FALSE(s->integration_doc("a"));
  CHECK(s->records("a", "", "", "", 10).empty());
  CHECK(s->cursors("a").empty());
  CHECK(s->records("keep", "", "", "", 10).size() == 2);
  auto ch = s->changes(5, 10);
  REQUIRE(ch.size() == 3);
  CHECK(nlohmann::json::parse(ch[0].doc)["op"] == "delete");
}

TEST_CASE("data survives reopening") {
  temp_dir d;
  std::string err;
  {
    auto s = open_lmdb_storage(d.path, err);
    batch_result r;
    REQUIRE(s->apply(page("a", 0, 7), r).ok());
  }
  auto s = open_lmdb_storage(d.path, err);
  CHECK(s->record_counts("a")["customers"] == 7);
  CHECK(s->last_change_seq() == 7);
}

TEST_CASE("the fault-injecting wrapper fails like a full disk") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  faulty_storage f(*s);
  f.fail_next = 1;
  batch_result r;
  auto e = f.apply(page("a", 0, 3), r);
  CHECK(e.category == error_category::storage);
  CHECK(s->records("a", "", "", "", 10).empty());
  CHECK(f.apply(page("a", 0, 3), r).ok());
}

TEST_CASE("sealed keys open only with the same master key") {
  temp_dir d;
  std::string err;
  auto box = secret_box::open(d.path, err);
  REQUIRE(box);
  auto sealed = box->seal("sk_live_abcdef");
  CHECK(sealed.find("abcdef") == std::string::npos);
  CHECK(*box->unseal(sealed) == "sk_live_abcdef");
  auto again = secret_box::open(d.path, err);
  CHECK(*again->unseal(sealed) == "sk_live_abcdef");
  CHECK_FALSE(secret_box::with_key("other").unseal(sealed));
  CHECK_FALSE(box->unseal("not base64!"));
}
