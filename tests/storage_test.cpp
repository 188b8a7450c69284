// LMDB storage: atomic batches, dedupe by content hash, the change feed, map growth, removal,
// retention of the sync log and run history.
#include <lmdb.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/time_util.hpp"
#include "storage/feed_reader.hpp"
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
// Makes the database at `path` look as an older version left it: these meta keys, which that
// version did not write, are deleted with raw LMDB (the storage is closed meanwhile).
void forget_meta(const std::string& path, const std::vector<std::string>& keys) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 16);
  REQUIRE(mdb_env_open(env, path.c_str(), 0, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi meta;
  REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
  for (auto k : keys) {
    MDB_val key{k.size(), k.data()};
    CHECK(mdb_del(txn, meta, &key, nullptr) == 0);
  }
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
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

TEST_CASE("the writer takes the content hash a record carries instead of hashing its body") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  batch_result r;
  auto hashed = page("a", 0, 2);
  for (auto& w : hashed.records) w.hash_body();
  REQUIRE(s->apply(hashed, r).ok());
  CHECK(r.inserted == 2);
  REQUIRE(s->apply(page("a", 0, 2), r).ok());  // hashed by the writer: the same hashes
  CHECK(r.unchanged == 2);
  // A hash that is not the body's (which no connector sends) shows the writer did not hash the
  // body again: the same body then counts as changed.
  auto odd = page("a", 0, 1);
  odd.records[0].hash = 42;
  REQUIRE(s->apply(odd, r).ok());
  CHECK(r.updated == 1);
  CHECK(s->last_change_seq() == 3);
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
  write_batch only_doc;  // an integration with no records yet
  only_doc.integration = "b";
  only_doc.integration_doc = "{}";
  REQUIRE(s->apply(only_doc, r).ok());
  CHECK(s->integration_names() == std::vector<std::string>{"a", "b"});
  write_batch rm;
  rm.integration = "a";
  rm.remove_integration = true;
  REQUIRE(s->apply(rm, r).ok());
  CHECK_FALSE(s->integration_doc("a"));
  CHECK(s->integration_names() == std::vector<std::string>{"b"});
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

namespace {
// `n` sync-log events of `integ`, numbered from `first`, each at `at`.
write_batch events(const std::string& integ, int first, int n, const std::string& at) {
  write_batch b;
  b.integration = integ;
  for (int i = first; i < first + n; ++i)
    b.log_events.push_back(nlohmann::json{{"at", at}, {"n", i}}.dump());
  return b;
}
write_batch run_doc(const std::string& integ, uint64_t id, const std::string& finished) {
  write_batch b;
  b.integration = integ;
  b.run_id = id;
  nlohmann::json patch{{"status", finished.empty() ? "running" : "ok"}};
  if (!finished.empty()) patch["finished"] = finished;
  b.run_patch = patch.dump();
  return b;
}
}  // namespace

TEST_CASE("pruning keeps the newest N events and runs, oldest first, a bounded number a time") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  batch_result r;
  for (int i = 0; i < 12; ++i)
    REQUIRE(s->apply(events("a", i * 100, 100, "2026-11-20T00:00:00.000Z"), r).ok());
  for (uint64_t id = 1; id <= 20; ++id) {
    REQUIRE(s->apply(run_doc("a", id, ""), r).ok());
    REQUIRE(s->apply(run_doc("a", id, "2026-11-20T00:00:00.000Z"), r).ok());  // same run again
  }
  REQUIRE(s->apply(events("ab", 0, 5, "2026-11-20T00:00:00.000Z"), r).ok());
  CHECK(s->history("a").events == 1200);
  CHECK(s->history("a").runs == 20);

  retention_limits keep{0, 100, 5};
  prune_result p;
  REQUIRE(s->prune("a", keep, 500, p).ok());
  CHECK(p.events == 500);
  CHECK(p.more);
  CHECK(s->history("a").events == 700);
  CHECK(nlohmann::json::parse(s->logs("a", 1000).front())["n"] == 500);  // the oldest went
  REQUIRE(s->prune("a", keep, 500, p).ok());
  CHECK(p.more);
  REQUIRE(s->prune("a", keep, 500, p).ok());
  CHECK(p.events == 100);
  CHECK(p.runs == 15);
  CHECK_FALSE(p.more);
  auto h = s->history("a");
  CHECK(h.events == 100);
  CHECK(h.runs == 5);
  CHECK(h.oldest_event_at == "2026-11-20T00:00:00.000Z");
  auto logs = s->logs("a", 1000);
  REQUIRE(logs.size() == 100);
  CHECK(nlohmann::json::parse(logs.front())["n"] == 1100);
  auto runs = s->runs("a", 100);
  REQUIRE(runs.size() == 5);
  CHECK_FALSE(s->run("a", 15));
  CHECK(s->run("a", 16));
  CHECK(s->history("ab").events == 5);  // a name sharing the prefix is untouched
  REQUIRE(s->prune("a", keep, 500, p).ok());
  CHECK(p.events + p.runs == 0);
}

TEST_CASE("pruning by age deletes what is older than the cutoff, never a run still running") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  batch_result r;
  REQUIRE(s->apply(events("a", 0, 10, "2026-10-01T00:00:00.000Z"), r).ok());
  REQUIRE(s->apply(events("a", 10, 1, "not a time"), r).ok());
  REQUIRE(s->apply(events("a", 11, 10, "2026-11-20T00:00:00.000Z"), r).ok());
  REQUIRE(s->apply(run_doc("a", 1, "2026-10-01T00:00:00.000Z"), r).ok());
  REQUIRE(s->apply(run_doc("a", 2, ""), r).ok());  // left running
  REQUIRE(s->apply(run_doc("a", 3, "2026-10-01T00:00:00.000Z"), r).ok());
  auto cutoff = to_ms(*parse_iso("2026-10-24T00:00:00Z"));
  prune_result p;
  REQUIRE(s->prune("a", {cutoff, 10000, 1000}, 500, p).ok());
  CHECK(p.events == 10);  // stops at the first event it cannot date
  CHECK(p.runs == 1);     // stops at the running run
  CHECK_FALSE(p.more);
  CHECK(s->run("a", 2));
  CHECK(s->run("a", 3));
  auto h = s->history("a");
  CHECK(h.events == 11);
  CHECK(h.runs == 2);
  CHECK(h.oldest_event_at == "not a time");
}

TEST_CASE("history counts follow removal and reopening; an older database is counted once") {
  temp_dir d;
  std::string err;
  {
    auto s = open_lmdb_storage(d.path, err);
    batch_result r;
    REQUIRE(s->apply(events("a", 0, 7, "2026-11-20T00:00:00.000Z"), r).ok());
    REQUIRE(s->apply(run_doc("a", 1, ""), r).ok());
    REQUIRE(s->apply(events("gone", 0, 3, "2026-11-20T00:00:00.000Z"), r).ok());
    write_batch rm;
    rm.integration = "gone";
    rm.remove_integration = true;
    REQUIRE(s->apply(rm, r).ok());
    CHECK(s->history("gone").events == 0);
  }
  {
    auto s = open_lmdb_storage(d.path, err);
    CHECK(s->history("a").events == 7);
    CHECK(s->history("a").runs == 1);
  }
  // As a database written before the counts existed: no counts, no marker.
  forget_meta(d.path, {std::string("history.counted"), std::string("history.events\0a", 16),
                       std::string("history.runs\0a", 14)});
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  CHECK(s->history("a").events == 7);
  CHECK(s->history("a").runs == 1);
}

TEST_CASE("the feed reads on from a sequence, one integration or all, with records, ISO times") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  batch_result r;
  auto a1 = page("a", 0, 5);
  a1.at_ms = to_ms(*parse_iso("2026-11-23T10:00:00Z"));
  REQUIRE(s->apply(a1, r).ok());
  REQUIRE(s->apply(page("b", 0, 5), r).ok());
  REQUIRE(s->apply(page("a", 5, 10), r).ok());

  auto all = read_feed(*s, {});
  CHECK(all.changes.size() == 15);
  CHECK(all.caught_up);
  CHECK(all.next_since == 15);
  auto& first = all.changes[0];
  CHECK(first["at"] == "2026-11-23T10:00:00.000Z");
  CHECK_FALSE(first.contains("at_ms"));
  CHECK_FALSE(first.contains("record"));

  feed_query q;
  q.integration = "a";
  auto only_a = read_feed(*s, q);
  REQUIRE(only_a.changes.size() == 10);
  CHECK(only_a.changes[5]["seq"] == 11);
  CHECK(only_a.caught_up);
  q.limit = 3;
  auto three = read_feed(*s, q);
  CHECK(three.changes.size() == 3);
  CHECK(three.next_since == 3);
  CHECK_FALSE(three.caught_up);
  q = {};
  q.integration = "b";
  q.max_scan = 4;  // a bounded read that found nothing yet says where to go on
  auto none = read_feed(*s, q);
  CHECK(none.changes.empty());
  CHECK(none.next_since == 4);
  CHECK_FALSE(none.caught_up);
  q.since = 15;
  auto end = read_feed(*s, q);
  CHECK(end.changes.empty());
  CHECK(end.next_since == 15);
  CHECK(end.caught_up);

  write_batch del;
  del.integration = "a";
  del.records.push_back({"customers", "r000001", "", "", true});
  REQUIRE(s->apply(del, r).ok());
  q = {};
  q.integration = "a";
  q.with_records = true;
  q.limit = 3;
  auto with = read_feed(*s, q);
  REQUIRE(with.changes.size() == 3);
  CHECK(with.changes[0]["record"] == nlohmann::json{{"id", "r000000"}, {"v", 1}});
  CHECK(with.changes[1]["record"].is_null());  // deleted since
}

TEST_CASE(
    "each feed entry carries its record's entity: as written, from a tombstone's body, or "
    "its stream's") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  // A statements stream holds entries and balances; the stored config names its entity.
  write_batch cfg;
  cfg.integration = "bank";
  cfg.integration_doc = R"({"config":{"streams":[{"name":"statements",)"
                        R"("entity":"bank_transaction"},{"name":"raw"}]}})";
  batch_result r;
  REQUIRE(s->apply(cfg, r).ok());
  write_batch b;
  b.integration = "bank";
  b.records.push_back({"statements", "e1", "", R"({"deleted":false,"entity":"bank_transaction"})",
                       false, "bank_transaction"});
  b.records.push_back({"statements", "b1", "",
                       R"({"deleted":false,"entity":"balance","fields":{}})", false, "balance"});
  b.records.push_back({"statements", "old", "", R"({"v":1})", false});  // written before entities
  b.records.push_back({"raw", "x", "", R"({"v":1})", false});
  REQUIRE(s->apply(b, r).ok());
  write_batch del;  // the connector names no entity for these deletes: the stored bodies do
  del.integration = "bank";
  del.records.push_back({"statements", "b1", "", "", true});
  del.records.push_back({"statements", "old", "", "", true});
  REQUIRE(s->apply(del, r).ok());
  auto feed = read_feed(*s, {});
  REQUIRE(feed.changes.size() == 6);
  CHECK(feed.changes[0]["entity"] == "bank_transaction");
  CHECK(feed.changes[1]["entity"] == "balance");
  CHECK(feed.changes[2]["entity"] == "bank_transaction");  // the stream's
  CHECK_FALSE(feed.changes[3].contains("entity"));         // a stream with none
  CHECK(feed.changes[4]["op"] == "delete");
  CHECK(feed.changes[4]["entity"] == "balance");
  CHECK(feed.changes[5]["entity"] == "bank_transaction");
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

TEST_CASE("opening a database from before per-kind rates drops the old written default rate once") {
  temp_dir d;
  std::string err;
  auto doc = [](nlohmann::json config) {
    return nlohmann::json{{"config", config}, {"status", nlohmann::json::object()}}.dump();
  };
  auto put = [&](storage& s, const std::string& name, nlohmann::json config) {
    write_batch b;
    b.integration = name;
    b.integration_doc = doc(config);
    batch_result r;
    REQUIRE(s.apply(b, r).ok());
  };
  auto config_of = [&](storage& s, const std::string& name) {
    return nlohmann::json::parse(*s.integration_doc(name))["config"];
  };
  {
    auto s = open_lmdb_storage(d.path, err);
    REQUIRE(s);
    // The old code's shape: both always written, 20 and 20 unless set.
    put(*s, "old", {{"name", "old"}, {"upstream_rate_per_s", 20.0}, {"upstream_burst", 20}});
    put(*s, "old-own", {{"name", "old-own"}, {"upstream_rate_per_s", 5.0}, {"upstream_burst", 20}});
    // Newer code writes them only when set: a lone 20 is the user's.
    put(*s, "new-own", {{"name", "new-own"}, {"upstream_rate_per_s", 20.0}});
  }
  // As a database written before the format marker: no "format" in meta.
  forget_meta(d.path, {"format"});
  {
    auto s = open_lmdb_storage(d.path, err);
    REQUIRE(s);
    auto old = config_of(*s, "old");
    CHECK_FALSE(old.contains("upstream_rate_per_s"));
    CHECK_FALSE(old.contains("upstream_burst"));
    CHECK(old["name"] == "old");
    auto own = config_of(*s, "old-own");
    CHECK(own["upstream_rate_per_s"] == 5.0);
    CHECK_FALSE(own.contains("upstream_burst"));
    CHECK(config_of(*s, "new-own")["upstream_rate_per_s"] == 20.0);
    // After the migration a user's explicit 20 and 20 are theirs.
    put(*s, "old", {{"name", "old"}, {"upstream_rate_per_s", 20.0}, {"upstream_burst", 20}});
  }
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  CHECK(config_of(*s, "old")["upstream_rate_per_s"] == 20.0);
  CHECK(config_of(*s, "old")["upstream_burst"] == 20);
}

TEST_CASE("the outbox: new items get the next seq, the index names the newest, counts follow") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  write_batch b;
  b.integration = "a";
  b.outbox = {{0, "customer", "C-1", "pending", R"({"v":1})"},
              {0, "customer", "C-2", "pending", R"({"v":2})"}};
  batch_result r;
  REQUIRE(s->apply(b, r).ok());
  REQUIRE(r.outbox_seqs == std::vector<uint64_t>{1, 2});
  CHECK(s->outbox_counts("a") == std::map<std::string, uint64_t>{{"pending", 2}});
  // C-1 is sent and succeeds; a second push of it is a new item, the newest for C-1.
  b.outbox = {{1, "customer", "C-1", "succeeded", R"({"v":3})"},
              {0, "customer", "C-1", "pending", R"({"v":4})"}};
  REQUIRE(s->apply(b, r).ok());
  CHECK(r.outbox_seqs == std::vector<uint64_t>{1, 3});
  CHECK(s->outbox_latest("a", "customer", "C-1")->seq == 3);
  CHECK(s->outbox_latest("a", "customer", "C-1")->doc == R"({"v":4})");
  CHECK_FALSE(s->outbox_latest("a", "invoice", "C-1"));
  CHECK(s->outbox_counts("a") == std::map<std::string, uint64_t>{{"pending", 2}, {"succeeded", 1}});
  // Rewriting an older item leaves the index on the newest.
  b.outbox = {{1, "customer", "C-1", "succeeded", R"({"v":5})"}};
  REQUIRE(s->apply(b, r).ok());
  CHECK(s->outbox_latest("a", "customer", "C-1")->seq == 3);
  CHECK(s->outbox("a", 0, 10).size() == 3);
  CHECK(s->outbox("a", 1, 10).front().seq == 2);
  CHECK(s->outbox("a", 0, 10, "succeeded").size() == 1);
  CHECK(s->outbox_item("a", 2)->doc == R"({"v":2})");
  // Another integration's outbox is its own, with sequence numbers from the same counter.
  write_batch other;
  other.integration = "ab";
  other.outbox = {{0, "customer", "C-1", "pending", "{}"}};
  REQUIRE(s->apply(other, r).ok());
  CHECK(r.outbox_seqs == std::vector<uint64_t>{4});
  CHECK(s->outbox("a", 0, 10).size() == 3);
  // Removing the integration removes its outbox, and only its.
  write_batch rm;
  rm.integration = "a";
  rm.remove_integration = true;
  REQUIRE(s->apply(rm, r).ok());
  CHECK(s->outbox("a", 0, 10).empty());
  CHECK(s->outbox_counts("a").empty());
  CHECK_FALSE(s->outbox_latest("a", "customer", "C-1"));
  CHECK(s->outbox("ab", 0, 10).size() == 1);
}

TEST_CASE("an outbox write commits with its batch, or not at all") {
  temp_dir d;
  std::string err;
  auto s = open_lmdb_storage(d.path, err);
  REQUIRE(s);
  auto bad = page("a", 0, 1);
  bad.records.push_back({"customers", std::string(600, 'x'), "", "{}", false});  // key too long
  bad.outbox = {{0, "customer", "C-1", "pending", "{}"}};
  batch_result r;
  CHECK_FALSE(s->apply(bad, r).ok());
  CHECK(s->outbox("a", 0, 10).empty());
  CHECK(s->outbox_counts("a").empty());
  write_batch good;
  good.integration = "a";
  good.outbox = {{0, "customer", "C-1", "pending", "{}"}};
  REQUIRE(s->apply(good, r).ok());
  CHECK(r.outbox_seqs == std::vector<uint64_t>{1});  // the failed batch took no number
}
