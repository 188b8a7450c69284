// LMDB implementation of `storage`.
//
// Layout (named databases; keys joined with '\0', integers big-endian so they sort):
//   integrations  name                          -> integration JSON (config with sealed key +
//   status) records       integration\0stream\0id       -> [u64 hash][u16 len][updated_at][raw
//   body] cursors       integration\0stream           -> cursor JSON changes       u64 seq ->
//   change JSON        (appended: MDB_APPEND) sync_log      integration\0u64 seq          -> event
//   JSON runs          integration\0u64 run id       -> run JSON meta          "seq.changes" /
//   "seq.log"     -> u64;  "count\0integration\0stream" -> u64
//
// Invariants: the writer is the only thread that writes; every write is one transaction per
// group; map growth happens with no transaction open, guarded by `resize_`.
//
// History counts (retention): meta "history.events\0integration" and "history.runs\0integration"
// -> u64 hold how many sync-log events and runs an integration has, kept in the transaction that
// adds or deletes them, so "keep the newest N" needs no scan. A database from before them is
// counted once at open ("history.counted" marks it done).
//
// Format of the stored documents: meta "format" -> u64, the migrations done at open, in order.
// 0 (absent): written before per-kind default rates, each config carrying the old written
// default rate (upstream_rate_per_s 20, upstream_burst 20); 1: those dropped
// (drop_old_rate_defaults), so the connector kind's rate applies. Each step runs once, in the
// opening transaction; a value written after it is the user's and stays.
#include <lmdb.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>

#include "config/integration_config.hpp"
#include "core/status_model.hpp"
#include "core/time_util.hpp"
#include "storage/lmdb_outbox.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/storage.hpp"

namespace ledgersync {

uint64_t content_hash(const std::string& body) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : body) h = (h ^ c) * 1099511628211ull;
  return h;
}

namespace {

using namespace lmdb_detail;

// Appends `s` as a JSON string literal. Upstream ids are arbitrary text, so everything JSON
// forbids raw (quotes, backslashes, control characters) is escaped.
void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// The entity of a stored canonical record (model/entities.hpp writes its keys in order:
// {"deleted":…,"entity":"…",…}), read off its first bytes: a tombstone's change entry carries
// it without parsing the body. "" for a body of another shape (a rest stream's upstream record).
std::string canonical_entity(std::string_view body) {
  for (std::string_view head : {R"({"deleted":false,"entity":")", R"({"deleted":true,"entity":")"})
    if (body.substr(0, head.size()) == head) {
      auto rest = body.substr(head.size());
      auto end = rest.find('"');
      if (end == std::string_view::npos || end > 64) return "";
      auto name = rest.substr(0, end);
      if (name.find('\\') != std::string_view::npos) return "";
      return std::string(name);
    }
  return "";
}

class lmdb_storage final : public storage {
 public:
  lmdb_storage(const lmdb_storage&) = delete;
  lmdb_storage& operator=(const lmdb_storage&) = delete;
  lmdb_storage() = default;

  ~lmdb_storage() override {
    if (env_) mdb_env_close(env_);
  }

  std::string open(const std::string& dir, size_t map_bytes) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create " + dir + ": " + ec.message();
    try {
      check(mdb_env_create(&env_), "mdb_env_create");
      check(mdb_env_set_maxdbs(env_, 16), "mdb_env_set_maxdbs");
      check(mdb_env_set_maxreaders(env_, 256), "mdb_env_set_maxreaders");
      map_size_ = map_bytes;
      check(mdb_env_set_mapsize(env_, map_size_), "mdb_env_set_mapsize");
      check(mdb_env_open(env_, dir.c_str(), MDB_NOTLS, 0600), "mdb_env_open");
      int dead = 0;
      mdb_reader_check(env_, &dead);  // slots left by a crashed process
      MDB_envinfo info;
      mdb_env_info(env_, &info);
      map_size_ = std::max(map_size_, info.me_mapsize);
      txn_guard t;
      check(mdb_txn_begin(env_, nullptr, 0, &t.txn), "mdb_txn_begin");
      for (auto [dbi, name] : {std::pair{&integrations_, "integrations"},
                               {&records_, "records"},
                               {&cursors_, "cursors"},
                               {&changes_, "changes"},
                               {&log_, "sync_log"},
                               {&runs_, "runs"},
                               {&set_aside_, "set_aside"},
                               {&seen_, "seen"},
                               {&meta_, "meta"},
                               {&outbox_.items, "outbox"},
                               {&outbox_.index, "outbox_index"}})
        check(mdb_dbi_open(t.txn, name, MDB_CREATE, dbi), "mdb_dbi_open");
      outbox_.meta = meta_;
      if (get_u64(t.txn, "history.counted") == 0) count_history(t.txn);
      if (get_u64(t.txn, "format") < 1) {
        drop_rate_defaults(t.txn);
        put_u64(t.txn, "format", 1);
      }
      check(mdb_txn_commit(t.txn), "mdb_txn_commit");
      t.txn = nullptr;
    } catch (const lmdb_error& e) {
      return std::string("cannot open database in ") + dir + ": " + e.what();
    }
    return "";
  }

  error_info apply_group(const std::vector<const write_batch*>& batches,
                         std::vector<batch_result>& results) override {
    return write_txn([&](MDB_txn* txn) {
      results.assign(batches.size(), batch_result{});  // a retry after growing starts afresh
      auto seq_changes = get_u64(txn, "seq.changes");
      auto seq_log = get_u64(txn, "seq.log");
      for (size_t i = 0; i < batches.size(); ++i)
        apply_one(txn, *batches[i], results[i], seq_changes, seq_log);
      put_u64(txn, "seq.changes", seq_changes);
      put_u64(txn, "seq.log", seq_log);
    });
  }

  std::vector<std::string> integration_docs() override {
    std::vector<std::string> out;
    scan(integrations_, "", [&](std::string_view, std::string_view v) {
      out.emplace_back(v);
      return true;
    });
    return out;
  }

  std::vector<std::string> integration_names() override {
    std::vector<std::string> out;
    scan(integrations_, "", [&](std::string_view k, std::string_view) {
      out.emplace_back(k);
      return true;
    });
    return out;
  }

  std::optional<std::string> integration_doc(const std::string& name) override {
    return get(integrations_, name);
  }

  std::map<std::string, std::string> cursors(const std::string& integration) override {
    std::map<std::string, std::string> out;
    auto prefix = integration + std::string(1, '\0');
    scan(cursors_, prefix, [&](std::string_view k, std::string_view v) {
      out.emplace(std::string(k.substr(prefix.size())), std::string(v));
      return true;
    });
    return out;
  }

  std::vector<record_row> records(const std::string& integration, const std::string& stream,
                                  const std::string& after_stream, const std::string& after_id,
                                  size_t limit, bool include_deleted) override {
    std::vector<record_row> out;
    auto prefix =
        stream.empty() ? integration + std::string(1, '\0') : join({integration, stream, ""});
    std::string start = after_stream.empty() ? prefix : join({integration, after_stream, after_id});
    bool skip_start = !after_stream.empty();
    scan_from(records_, prefix, start, [&](std::string_view k, std::string_view v) {
      if (skip_start && k == start) return true;
      auto row = decode_record(integration, k, v);
      if (row.deleted && !include_deleted) return true;
      out.push_back(std::move(row));
      return out.size() < limit;
    });
    return out;
  }

  std::optional<record_row> record(const std::string& integration, const std::string& stream,
                                   const std::string& id) override {
    auto key = join({integration, stream, id});
    std::optional<record_row> out;
    read([&](MDB_txn* txn) {
      MDB_val k = val(key), v;
      if (mdb_get(txn, records_, &k, &v) == MDB_SUCCESS)
        out = decode_record(integration, key, view(v));
    });
    return out;
  }

  std::map<std::string, uint64_t> record_counts(const std::string& integration) override {
    std::map<std::string, uint64_t> out;
    auto prefix = join({"count", integration, ""});
    scan(meta_, prefix, [&](std::string_view k, std::string_view v) {
      if (v.size() == 8) out[std::string(k.substr(prefix.size()))] = from_be64(v.data());
      return true;
    });
    return out;
  }

  std::vector<change_row> changes(uint64_t since, size_t limit) override {
    std::vector<change_row> out;
    auto start = be64(since + 1);
    scan_from(changes_, "", start, [&](std::string_view k, std::string_view v) {
      out.push_back({from_be64(k.data()), std::string(v)});
      return out.size() < limit;
    });
    return out;
  }

  uint64_t last_change_seq() override {
    uint64_t v = 0;
    read([&](MDB_txn* txn) { v = get_u64(txn, "seq.changes"); });
    return v;
  }

  std::vector<std::string> logs(const std::string& integration, size_t limit) override {
    auto out = scan_back(log_, integration + std::string(1, '\0'), limit);
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> runs(const std::string& integration, size_t limit) override {
    return scan_back(runs_, integration + std::string(1, '\0'), limit);
  }

  std::optional<std::string> run(const std::string& integration, uint64_t run_id) override {
    return get(runs_, integration + std::string(1, '\0') + be64(run_id));
  }

  std::vector<std::string> set_aside(const std::string& integration) override {
    std::vector<std::string> out;
    scan(set_aside_, integration + std::string(1, '\0'), [&](std::string_view, std::string_view v) {
      out.emplace_back(v);
      return true;
    });
    return out;
  }

  // ---- retention ---------------------------------------------------------------------------

  error_info prune(const std::string& integration, const retention_limits& limits,
                   size_t max_deletes, prune_result& out) override {
    return write_txn([&](MDB_txn* txn) {
      out = prune_result{};
      size_t budget = max_deletes;
      auto cutoff = limits.cutoff_ms;
      out.events = prune_oldest(txn, log_, integration, events_count_key(integration),
                                limits.keep_events, budget, [&](std::string_view doc) {
                                  auto at = time_field(doc, "at");
                                  return at && *at < cutoff;
                                });
      out.runs = prune_oldest(txn, runs_, integration, runs_count_key(integration),
                              limits.keep_runs, budget, [&](std::string_view doc) {
                                auto finished = time_field(doc, "finished");
                                return finished && *finished < cutoff;
                              });
      out.more = budget == 0;
    });
  }

  std::vector<outbox_row> outbox(const std::string& integration, uint64_t after_seq, size_t limit,
                                 const std::string& status) override {
    std::vector<outbox_row> out;
    read([&](MDB_txn* txn) {
      out = outbox_scan(txn, outbox_, integration, after_seq, limit, status);
    });
    return out;
  }
  std::optional<outbox_row> outbox_item(const std::string& integration, uint64_t seq) override {
    std::optional<outbox_row> out;
    read([&](MDB_txn* txn) { out = outbox_get(txn, outbox_, integration, seq); });
    return out;
  }
  std::optional<outbox_row> outbox_latest(const std::string& integration, const std::string& entity,
                                          const std::string& external_id) override {
    std::optional<outbox_row> out;
    read(
        [&](MDB_txn* txn) { out = outbox_newest(txn, outbox_, integration, entity, external_id); });
    return out;
  }
  std::map<std::string, uint64_t> outbox_counts(const std::string& integration) override {
    std::map<std::string, uint64_t> out;
    read([&](MDB_txn* txn) { out = outbox_count(txn, outbox_, integration); });
    return out;
  }

  history_stats history(const std::string& integration) override {
    history_stats h;
    auto prefix = integration + std::string(1, '\0');
    read([&](MDB_txn* txn) {
      h.events = get_u64(txn, events_count_key(integration));
      h.runs = get_u64(txn, runs_count_key(integration));
      cursor_guard c;
      if (mdb_cursor_open(txn, log_, &c.c) != MDB_SUCCESS) return;
      MDB_val k = val(prefix), v;
      if (mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE) != MDB_SUCCESS ||
          view(k).substr(0, prefix.size()) != prefix)
        return;
      auto j = nlohmann::json::parse(view(v), nullptr, false);
      if (j.is_object() && j.contains("at") && j["at"].is_string()) h.oldest_event_at = j["at"];
    });
    return h;
  }

 private:
  static record_row decode_record(const std::string& integration, std::string_view k,
                                  std::string_view v) {
    record_row r;
    auto rest = k.substr(integration.size() + 1);
    auto sep = rest.find('\0');
    r.stream = std::string(rest.substr(0, sep));
    r.id = std::string(rest.substr(sep + 1));
    if (v.size() >= 10) {
      size_t len = (static_cast<unsigned char>(v[8]) << 8) | static_cast<unsigned char>(v[9]);
      r.deleted = len & 0x8000;
      len &= 0x7fff;
      r.updated_at = std::string(v.substr(10, len));
      r.body = std::string(v.substr(10 + len));
    }
    return r;
  }

  // [u64 content hash][u16: bit 15 tombstone, bits 0-14 length of updated_at][updated_at][body].
  // Values written before tombstones existed have bit 15 clear, so they read as live records.
  static void encode_record(std::string& out, uint64_t hash, std::string_view updated_at,
                            std::string_view body, bool deleted) {
    out.clear();
    out += be64(hash);
    auto ulen = std::min<size_t>(updated_at.size(), 0x7fff);
    auto word = ulen | (deleted ? 0x8000 : 0);
    out.push_back(static_cast<char>(word >> 8));
    out.push_back(static_cast<char>(word & 0xff));
    out.append(updated_at.substr(0, ulen));
    out.append(body);
  }
  static bool is_tombstone(const MDB_val& v) {
    return v.mv_size >= 10 && (static_cast<const unsigned char*>(v.mv_data)[8] & 0x80);
  }

  // Turns the stored record at `k` into a tombstone (keeping its last body) with a "delete" in
  // the change feed; false when there is none or it is one already.
  bool tombstone(MDB_txn* txn, const write_batch& b, MDB_val k, const std::string& stream,
                 std::string_view updated_at, uint64_t& seq_changes) {
    MDB_val old;
    int rc = mdb_get(txn, records_, &k, &old);
    if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && is_tombstone(old))) return false;
    check(rc, "get record");
    auto row = decode_record(b.integration, view(k), view(old));
    std::string value;
    encode_record(value, from_be64(static_cast<const char*>(old.mv_data)),
                  updated_at.empty() ? std::string_view(row.updated_at) : updated_at, row.body,
                  true);
    MDB_val v = val(value);
    check(mdb_put(txn, records_, &k, &v, 0), "put tombstone");
    record_write rw{stream, row.id, std::string(updated_at.empty() ? row.updated_at : updated_at),
                    "",     true,   canonical_entity(row.body)};
    append_change(txn, b, rw, "delete", ++seq_changes);
    return true;
  }

  void apply_one(MDB_txn* txn, const write_batch& b, batch_result& res, uint64_t& seq_changes,
                 uint64_t& seq_log) {
    if (b.remove_integration) return remove_all(txn, b, seq_changes);
    std::map<std::string, int64_t> count_delta;
    std::string key, value;
    for (auto& r : b.records) {
      key = join({b.integration, r.stream, r.id});
      MDB_val k = val(key), old;
      int rc = mdb_get(txn, records_, &k, &old);
      if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) check(rc, "get record");
      bool exists = rc == MDB_SUCCESS && !is_tombstone(old);
      if (!b.seen_pass.empty()) mark_seen(txn, key, b.seen_pass);
      if (r.deleted) {
        if (!exists) {
          ++res.unchanged;
          continue;
        }
        tombstone(txn, b, k, r.stream, r.updated_at, seq_changes);
        ++res.deleted;
        --count_delta[r.stream];
        continue;
      }
      uint64_t h = r.hash ? r.hash : content_hash(r.body);
      if (exists && old.mv_size >= 8 && from_be64(static_cast<const char*>(old.mv_data)) == h) {
        ++res.unchanged;
        continue;
      }
      encode_record(value, h, r.updated_at, r.body, false);
      MDB_val v = val(value);
      check(mdb_put(txn, records_, &k, &v, 0), "put record");
      if (exists) {
        ++res.updated;
      } else {
        ++res.inserted;
        ++count_delta[r.stream];
      }
      append_change(txn, b, r, "upsert", ++seq_changes);
    }
    apply_set_aside(txn, b, res, seq_log);
    outbox_apply(txn, outbox_, b.integration, b.outbox, res.outbox_seqs);
    for (auto& [stream, pass] : b.sweep) sweep(txn, b, stream, pass, res, count_delta, seq_changes);
    for (auto& [stream, delta] : count_delta) {
      auto ck = join({"count", b.integration, stream});
      auto cur = static_cast<int64_t>(get_u64(txn, ck));
      put_u64(txn, ck, static_cast<uint64_t>(std::max<int64_t>(0, cur + delta)));
    }
    for (auto& [stream, c] : b.cursors) {
      key = join({b.integration, stream});
      MDB_val k = val(key);
      if (c.empty()) {
        int rc = mdb_del(txn, cursors_, &k, nullptr);
        if (rc != MDB_NOTFOUND) check(rc, "delete cursor");
      } else {
        MDB_val v = val(c);
        check(mdb_put(txn, cursors_, &k, &v, 0), "put cursor");
      }
    }
    for (auto& e : b.log_events) {
      key = b.integration + std::string(1, '\0') + be64(++seq_log);
      MDB_val k = val(key), v = val(e);
      check(mdb_put(txn, log_, &k, &v, 0), "put log");
    }
    if (!b.log_events.empty()) add_u64(txn, events_count_key(b.integration), b.log_events.size());
    if (b.run_id) {
      key = b.integration + std::string(1, '\0') + be64(b.run_id);
      MDB_val k = val(key), old;
      nlohmann::json doc = nlohmann::json::object();
      bool run_exists = mdb_get(txn, runs_, &k, &old) == MDB_SUCCESS;
      if (run_exists) doc = nlohmann::json::parse(view(old), nullptr, false);
      if (!run_exists) add_u64(txn, runs_count_key(b.integration), 1);
      if (!doc.is_object()) doc = nlohmann::json::object();
      if (!b.run_patch.empty()) {
        auto patch = nlohmann::json::parse(b.run_patch, nullptr, false);
        if (patch.is_object()) doc.update(patch);
      }
      for (auto [name, n] : {std::pair{"inserted", res.inserted},
                             {"updated", res.updated},
                             {"unchanged", res.unchanged},
                             {"deleted", res.deleted}})
        doc[name] = doc.value(name, uint64_t{0}) + n;
      value = doc.dump();
      MDB_val v = val(value);
      check(mdb_put(txn, runs_, &k, &v, 0), "put run");
    }
    if (!b.integration_doc.empty()) {
      MDB_val k = val(b.integration), v = val(b.integration_doc);
      check(mdb_put(txn, integrations_, &k, &v, 0), "put integration");
    }
  }

  // Set-aside entries (see write_batch): a valid sighting of a record clears its entry, new
  // invalid ones are added or refreshed, dismissals mark them. The counted total lives in meta
  // ("setaside\0integration") so status needs no scan.
  void apply_set_aside(MDB_txn* txn, const write_batch& b, batch_result& res, uint64_t& seq_log) {
    auto count_key = join({"setaside", b.integration});
    auto count = static_cast<int64_t>(get_u64(txn, count_key));
    std::string key;
    auto log = [&](nlohmann::json ev) {
      key = b.integration + std::string(1, '\0') + be64(++seq_log);
      auto text = ev.dump();
      MDB_val k = val(key), v = val(text);
      check(mdb_put(txn, log_, &k, &v, 0), "put log");
    };
    for (auto& r : b.records) {
      key = join({b.integration, r.stream, r.id});
      MDB_val k = val(key), old;
      int rc = mdb_get(txn, set_aside_, &k, &old);
      if (rc == MDB_NOTFOUND) continue;
      check(rc, "get set-aside");
      auto entry = nlohmann::json::parse(view(old), nullptr, false);
      bool counted = !(entry.is_object() && entry.value("dismissed", false));
      check(mdb_del(txn, set_aside_, &k, nullptr), "delete set-aside");
      if (counted) --count;
      ++res.set_aside_cleared;
      auto ev = log_event(
          b.at_ms, "info", "set_aside_imported",
          r.stream + " record " + r.id +
              (r.deleted ? " was deleted upstream" : " arrived complete and was imported") +
              "; taken off the set-aside list");
      ev["stream"] = r.stream;
      ev["record_id"] = r.id;
      if (b.run_id) ev["run_id"] = b.run_id;
      log(ev);
    }
    for (auto& w : b.set_aside) {
      key = join({b.integration, w.stream, w.id});
      if (!b.seen_pass.empty()) mark_seen(txn, key, b.seen_pass);
      MDB_val k = val(key), old;
      int rc = mdb_get(txn, set_aside_, &k, &old);
      if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) check(rc, "get set-aside");
      auto now = format_iso(from_ms(b.at_ms));
      nlohmann::json entry = nlohmann::json::object();
      bool existed = rc == MDB_SUCCESS;
      if (existed) entry = nlohmann::json::parse(view(old), nullptr, false);
      if (!entry.is_object()) entry = nlohmann::json::object();
      bool was_counted = existed && !entry.value("dismissed", false);
      auto hash = std::to_string(content_hash(w.body));
      // A dismissed record stays dismissed while it comes back unchanged; a new version of it
      // is a new problem and counts again.
      bool dismissed = entry.value("dismissed", false) && entry.value("hash", "") == hash;
      entry["stream"] = w.stream;
      entry["id"] = w.id;
      entry["missing"] = w.missing;
      if (!existed) entry["first_seen"] = now;
      entry["last_seen"] = now;
      entry["run_id"] = b.run_id;
      entry["hash"] = hash;
      entry["dismissed"] = dismissed;
      if (!dismissed) {
        entry.erase("dismissed_by");
        entry.erase("dismissed_at");
      }
      entry["record"] = nlohmann::json::parse(w.body, nullptr, false);
      if (entry["record"].is_discarded()) entry["record"] = w.body;
      auto text = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      MDB_val v = val(text);
      check(mdb_put(txn, set_aside_, &k, &v, 0), "put set-aside");
      count += (dismissed ? 0 : 1) - (was_counted ? 1 : 0);
    }
    for (auto& [stream, id] : b.dismiss) {
      key = join({b.integration, stream, id});
      MDB_val k = val(key), old;
      if (mdb_get(txn, set_aside_, &k, &old) != MDB_SUCCESS) continue;
      auto entry = nlohmann::json::parse(view(old), nullptr, false);
      if (!entry.is_object() || entry.value("dismissed", false)) continue;
      entry["dismissed"] = true;
      entry["dismissed_by"] = b.actor;
      entry["dismissed_at"] = format_iso(from_ms(b.at_ms));
      auto text = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      MDB_val v = val(text);
      check(mdb_put(txn, set_aside_, &k, &v, 0), "put set-aside");
      --count;
      ++res.set_aside_dismissed;
      auto ev = log_event(b.at_ms, "info", "set_aside_dismissed",
                          stream + " record " + id + " dismissed as unfixable by " + b.actor);
      ev["stream"] = stream;
      ev["record_id"] = id;
      ev["by"] = b.actor;
      log(ev);
    }
    count = std::max<int64_t>(0, count);
    put_u64(txn, count_key, static_cast<uint64_t>(count));
    res.set_aside_total = static_cast<uint64_t>(count);
  }

  void mark_seen(MDB_txn* txn, const std::string& key, const std::string& pass) {
    MDB_val k = val(key), v = val(pass);
    check(mdb_put(txn, seen_, &k, &v, 0), "put seen");
  }

  // The end of a completed full pass over `stream` (see write_batch::sweep).
  void sweep(MDB_txn* txn, const write_batch& b, const std::string& stream, const std::string& pass,
             batch_result& res, std::map<std::string, int64_t>& count_delta,
             uint64_t& seq_changes) {
    auto prefix = join({b.integration, stream, ""});
    auto seen_in_pass = [&](const MDB_val& key) {
      MDB_val k = key, v;
      return mdb_get(txn, seen_, &k, &v) == MDB_SUCCESS && view(v) == pass;
    };
    {
      cursor_guard c;
      check(mdb_cursor_open(txn, records_, &c.c), "cursor");
      MDB_val k = val(prefix), v;
      for (int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
           rc == MDB_SUCCESS && view(k).substr(0, prefix.size()) == prefix;
           rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT)) {
        if (is_tombstone(v) || seen_in_pass(k)) continue;
        auto row = decode_record(b.integration, view(k), view(v));
        std::string value;
        encode_record(value, from_be64(static_cast<const char*>(v.mv_data)), row.updated_at,
                      row.body, true);
        MDB_val nv = val(value);
        check(mdb_cursor_put(c.c, &k, &nv, MDB_CURRENT), "put tombstone");
        record_write rw{stream, row.id, row.updated_at, "", true, canonical_entity(row.body)};
        append_change(txn, b, rw, "delete", ++seq_changes);
        ++res.deleted;
        --count_delta[stream];
      }
    }
    {  // set-aside entries of records the upstream no longer has
      cursor_guard c;
      check(mdb_cursor_open(txn, set_aside_, &c.c), "cursor");
      auto count_key = join({"setaside", b.integration});
      auto count = static_cast<int64_t>(get_u64(txn, count_key));
      MDB_val k = val(prefix), v;
      int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
      while (rc == MDB_SUCCESS && view(k).substr(0, prefix.size()) == prefix) {
        if (seen_in_pass(k)) {
          rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT);
          continue;
        }
        auto entry = nlohmann::json::parse(view(v), nullptr, false);
        if (!(entry.is_object() && entry.value("dismissed", false))) --count;
        check(mdb_cursor_del(c.c, 0), "delete set-aside");
        rc = mdb_cursor_get(c.c, &k, &v, MDB_GET_CURRENT);
        if (rc == MDB_SUCCESS) continue;  // the cursor now stands on the next entry
        rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT);
      }
      count = std::max<int64_t>(0, count);
      put_u64(txn, count_key, static_cast<uint64_t>(count));
      res.set_aside_total = static_cast<uint64_t>(count);
    }
    delete_prefix(txn, seen_, prefix);  // markers matter only while their pass runs
  }

  // One entry per changed record, so it is built by hand: nlohmann's map-backed objects cost
  // more than the rest of the entry's write (measured with bench_sync).
  void append_change(MDB_txn* txn, const write_batch& b, const record_write& r, const char* op,
                     uint64_t seq) {
    auto& v = change_buf_;
    v.clear();
    v += "{\"seq\":";
    v += std::to_string(seq);
    v += ",\"integration\":";
    append_json_string(v, b.integration);
    v += ",\"stream\":";
    append_json_string(v, r.stream);
    v += ",\"id\":";
    append_json_string(v, r.id);
    v += ",\"op\":\"";
    v += op;
    v += '"';
    if (!r.entity.empty()) {
      v += ",\"entity\":";
      append_json_string(v, r.entity);
    }
    v += ",\"updated_at\":";
    append_json_string(v, r.updated_at);
    v += ",\"at_ms\":";
    v += std::to_string(b.at_ms);
    v += '}';
    auto key = be64(seq);
    MDB_val k = val(key), value = val(v);
    check(mdb_put(txn, changes_, &k, &value, MDB_APPEND), "append change");
  }

  void remove_all(MDB_txn* txn, const write_batch& b, uint64_t& seq_changes) {
    auto prefix = b.integration + std::string(1, '\0');
    // Consumers of the change feed learn that the records are gone.
    {
      cursor_guard c;
      check(mdb_cursor_open(txn, records_, &c.c), "cursor");
      for (;;) {
        MDB_val k = val(prefix), v;
        int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
        if (rc != MDB_SUCCESS || view(k).substr(0, prefix.size()) != prefix) break;
        auto row = decode_record(b.integration, view(k), view(v));
        record_write rw{row.stream, row.id, row.updated_at, "", true, canonical_entity(row.body)};
        append_change(txn, b, rw, "delete", ++seq_changes);
        check(mdb_cursor_del(c.c, 0), "delete record");
      }
    }
    for (MDB_dbi dbi : {cursors_, log_, runs_, set_aside_, seen_}) delete_prefix(txn, dbi, prefix);
    outbox_remove(txn, outbox_, b.integration);
    delete_prefix(txn, meta_, join({"count", b.integration, ""}));
    {
      auto k0 = join({"setaside", b.integration});
      MDB_val k = val(k0);
      int rc = mdb_del(txn, meta_, &k, nullptr);
      if (rc != MDB_NOTFOUND) check(rc, "delete set-aside count");
    }
    for (auto& ck : {events_count_key(b.integration), runs_count_key(b.integration)}) {
      MDB_val k = val(ck);
      int rc = mdb_del(txn, meta_, &k, nullptr);
      if (rc != MDB_NOTFOUND) check(rc, "delete history count");
    }
    MDB_val k = val(b.integration);
    int rc = mdb_del(txn, integrations_, &k, nullptr);
    if (rc != MDB_NOTFOUND) check(rc, "delete integration");
  }

  void delete_prefix(MDB_txn* txn, MDB_dbi dbi, const std::string& prefix) {
    cursor_guard c;
    check(mdb_cursor_open(txn, dbi, &c.c), "cursor");
    MDB_val k = val(prefix), v;
    int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && view(k).substr(0, prefix.size()) == prefix) {
      check(mdb_cursor_del(c.c, 0), "delete");
      k = val(prefix);
      rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
    }
  }

  static std::string events_count_key(const std::string& integration) {
    return join({"history.events", integration});
  }
  static std::string runs_count_key(const std::string& integration) {
    return join({"history.runs", integration});
  }

  // The epoch ms of a JSON document's ISO 8601 field; none when absent or not a time, so what
  // cannot be dated is never deleted for its age.
  static std::optional<int64_t> time_field(std::string_view doc, const char* key) {
    auto j = nlohmann::json::parse(doc, nullptr, false);
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
    auto t = parse_iso(j[key].get<std::string>());
    if (!t) return std::nullopt;
    return to_ms(*t);
  }

  // Deletes the oldest keys under `integration` in `dbi` while more than `keep` remain or
  // `too_old(value)` holds, spending `budget`; keeps `count_key` in step. Keys are
  // integration\0big-endian number, so the oldest come first.
  template <class Pred>
  uint64_t prune_oldest(MDB_txn* txn, MDB_dbi dbi, const std::string& integration,
                        const std::string& count_key, uint64_t keep, size_t& budget,
                        Pred&& too_old) {
    auto prefix = integration + std::string(1, '\0');
    uint64_t count = get_u64(txn, count_key), deleted = 0;
    cursor_guard c;
    check(mdb_cursor_open(txn, dbi, &c.c), "cursor");
    while (budget > 0) {
      MDB_val k = val(prefix), v;
      int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
      if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && view(k).substr(0, prefix.size()) != prefix))
        break;
      check(rc, "prune seek");
      if (count <= keep && !too_old(view(v))) break;
      check(mdb_cursor_del(c.c, 0), "prune delete");
      if (count > 0) --count;
      ++deleted;
      --budget;
    }
    if (deleted) put_u64(txn, count_key, count);
    return deleted;
  }

  // Format 0 -> 1 (see the top of this file).
  void drop_rate_defaults(MDB_txn* txn) {
    std::vector<std::pair<std::string, std::string>> changed;
    {
      cursor_guard c;
      check(mdb_cursor_open(txn, integrations_, &c.c), "cursor");
      MDB_val k, v;
      for (int rc = mdb_cursor_get(c.c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
           rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT)) {
        auto doc = nlohmann::json::parse(view(v), nullptr, false);
        if (doc.is_object() && doc.contains("config") && drop_old_rate_defaults(doc["config"]))
          changed.emplace_back(std::string(view(k)), doc.dump());
      }
    }
    for (auto& [name, doc] : changed) {
      MDB_val k = val(name), v = val(doc);
      check(mdb_put(txn, integrations_, &k, &v, 0), "put integration");
    }
  }

  // Counts every integration's events and runs: once, for a database from before the counts.
  void count_history(MDB_txn* txn) {
    for (auto [dbi, name] : {std::pair{log_, "history.events"}, {runs_, "history.runs"}}) {
      std::map<std::string, uint64_t> counts;
      cursor_guard c;
      check(mdb_cursor_open(txn, dbi, &c.c), "cursor");
      MDB_val k, v;
      for (int rc = mdb_cursor_get(c.c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
           rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT)) {
        auto key = view(k);
        ++counts[std::string(key.substr(0, key.find('\0')))];
      }
      for (auto& [integration, n] : counts) put_u64(txn, join({name, integration}), n);
    }
    put_u64(txn, "history.counted", 1);
  }

  void add_u64(MDB_txn* txn, const std::string& key, uint64_t n) {
    put_u64(txn, key, get_u64(txn, key) + n);
  }

  // One durable write transaction running `f` (the environment is opened without NOSYNC),
  // growing the map when it is full; `f` must be safe to run again after a failed attempt.
  template <class F>
  error_info write_txn(F&& f) {
    for (int tries = 0;; ++tries) {
      int rc = MDB_SUCCESS;
      std::string what;
      {
        std::shared_lock lock(resize_);
        try {
          txn_guard t;
          check(mdb_txn_begin(env_, nullptr, 0, &t.txn), "begin");
          f(t.txn);
          rc = mdb_txn_commit(t.txn);
          t.txn = nullptr;
          if (rc != MDB_SUCCESS) what = "commit";
        } catch (const lmdb_error& e) {
          rc = e.rc;
          what = e.what();
        }
      }
      if (rc == MDB_SUCCESS) return {};
      if (rc == MDB_MAP_FULL && tries < 8) {
        std::unique_lock lock(resize_);
        map_size_ *= 2;
        if (mdb_env_set_mapsize(env_, map_size_) == MDB_SUCCESS) continue;
      }
      std::string msg = "database write failed (" + what + "): " + mdb_strerror(rc);
      if (rc == ENOSPC) msg = "disk full: the database could not commit (" + what + ")";
      return make_error_info(error_category::storage, msg);
    }
  }

  uint64_t get_u64(MDB_txn* txn, const std::string& key) {
    MDB_val k = val(key), v;
    if (mdb_get(txn, meta_, &k, &v) == MDB_SUCCESS && v.mv_size == 8)
      return from_be64(static_cast<const char*>(v.mv_data));
    return 0;
  }
  void put_u64(MDB_txn* txn, const std::string& key, uint64_t n) {
    auto s = be64(n);
    MDB_val k = val(key), v = val(s);
    check(mdb_put(txn, meta_, &k, &v, 0), "put meta");
  }

  template <class F>
  void read(F&& f) {
    std::shared_lock lock(resize_);
    txn_guard t;
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn) != MDB_SUCCESS) return;
    f(t.txn);
  }

  std::optional<std::string> get(MDB_dbi dbi, const std::string& key) {
    std::optional<std::string> out;
    read([&](MDB_txn* txn) {
      MDB_val k = val(key), v;
      if (mdb_get(txn, dbi, &k, &v) == MDB_SUCCESS) out = std::string(view(v));  // copy: see notes
    });
    return out;
  }

  template <class F>
  void scan(MDB_dbi dbi, const std::string& prefix, F&& f) {
    scan_from(dbi, prefix, prefix, f);
  }

  template <class F>
  void scan_from(MDB_dbi dbi, const std::string& prefix, const std::string& start, F&& f) {
    read([&](MDB_txn* txn) {
      cursor_guard c;
      if (mdb_cursor_open(txn, dbi, &c.c) != MDB_SUCCESS) return;
      MDB_val k = val(start), v;
      int rc = start.empty() ? mdb_cursor_get(c.c, &k, &v, MDB_FIRST)
                             : mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
      for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT)) {
        if (view(k).substr(0, prefix.size()) != prefix) break;
        if (!f(view(k), view(v))) break;
      }
    });
  }

  std::vector<std::string> scan_back(MDB_dbi dbi, const std::string& prefix, size_t limit) {
    std::vector<std::string> out;
    read([&](MDB_txn* txn) {
      cursor_guard c;
      if (mdb_cursor_open(txn, dbi, &c.c) != MDB_SUCCESS) return;
      // Position just past the prefix's last key: prefix with its '\0' separator bumped.
      std::string end = prefix;
      end.back() = '\x01';
      MDB_val k = val(end), v;
      int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
      rc = rc == MDB_SUCCESS ? mdb_cursor_get(c.c, &k, &v, MDB_PREV)
                             : mdb_cursor_get(c.c, &k, &v, MDB_LAST);
      for (; rc == MDB_SUCCESS && out.size() < limit; rc = mdb_cursor_get(c.c, &k, &v, MDB_PREV)) {
        if (view(k).substr(0, prefix.size()) != prefix) break;
        out.emplace_back(view(v));
      }
    });
    return out;
  }

  MDB_env* env_ = nullptr;
  MDB_dbi integrations_{}, records_{}, cursors_{}, changes_{}, log_{}, runs_{}, set_aside_{},
      seen_{}, meta_{};
  outbox_dbs outbox_;
  std::string change_buf_;  // reused by append_change (writes come from one thread)
  size_t map_size_ = 0;
  std::shared_mutex resize_;
};

}  // namespace

std::unique_ptr<storage> open_lmdb_storage(const std::string& dir, std::string& error,
                                           size_t initial_map_bytes) {
  auto s = std::make_unique<lmdb_storage>();
  error = s->open(dir, initial_map_bytes);
  if (!error.empty()) return nullptr;
  return s;
}

}  // namespace ledgersync
