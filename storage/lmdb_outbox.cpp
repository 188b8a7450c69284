#include "storage/lmdb_outbox.hpp"

namespace ledgersync::lmdb_detail {
namespace {

uint64_t meta_u64(MDB_txn* txn, MDB_dbi meta, const std::string& key) {
  MDB_val k = val(key), v;
  if (mdb_get(txn, meta, &k, &v) == MDB_SUCCESS && v.mv_size == 8)
    return from_be64(static_cast<const char*>(v.mv_data));
  return 0;
}

void put_meta_u64(MDB_txn* txn, MDB_dbi meta, const std::string& key, uint64_t n) {
  MDB_val k = val(key);
  if (n == 0) {  // no key for an empty status: outbox_count lists only the ones that have items
    int rc = mdb_del(txn, meta, &k, nullptr);
    if (rc != MDB_NOTFOUND) check(rc, "delete outbox count");
    return;
  }
  auto s = be64(n);
  MDB_val v = val(s);
  check(mdb_put(txn, meta, &k, &v, 0), "put outbox count");
}

std::string count_key(const std::string& integration, std::string_view status) {
  return join({"outbox", integration, status});
}

std::string item_key(const std::string& integration, uint64_t seq) {
  return integration + std::string(1, '\0') + be64(seq);
}

// status\0doc -> (status, doc)
std::pair<std::string_view, std::string_view> split_value(std::string_view v) {
  auto sep = v.find('\0');
  if (sep == std::string_view::npos) return {"", v};
  return {v.substr(0, sep), v.substr(sep + 1)};
}

}  // namespace

void outbox_apply(MDB_txn* txn, const outbox_dbs& db, const std::string& integration,
                  const std::vector<outbox_write>& writes, std::vector<uint64_t>& seqs) {
  if (writes.empty()) return;
  uint64_t last = meta_u64(txn, db.meta, "seq.outbox");
  std::map<std::string, int64_t> delta;  // status -> change in count
  for (const auto& w : writes) {
    uint64_t seq = w.seq ? w.seq : ++last;
    auto key = item_key(integration, seq);
    MDB_val k = val(key), old;
    int rc = mdb_get(txn, db.items, &k, &old);
    if (rc == MDB_SUCCESS)
      --delta[std::string(split_value(view(old)).first)];
    else if (rc != MDB_NOTFOUND)
      check(rc, "get outbox item");
    ++delta[w.status];
    std::string value = w.status;
    value.push_back('\0');
    value += w.doc;
    MDB_val v = val(value);
    check(mdb_put(txn, db.items, &k, &v, 0), "put outbox item");
    // The index names the newest item: a rewrite of an older one leaves it where it is.
    auto ikey = join({integration, w.entity, w.external_id});
    MDB_val ik = val(ikey), cur;
    rc = mdb_get(txn, db.index, &ik, &cur);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) check(rc, "get outbox index");
    if (rc == MDB_NOTFOUND || cur.mv_size != 8 ||
        from_be64(static_cast<const char*>(cur.mv_data)) <= seq) {
      auto s = be64(seq);
      MDB_val sv = val(s);
      check(mdb_put(txn, db.index, &ik, &sv, 0), "put outbox index");
    }
    seqs.push_back(seq);
  }
  auto s = be64(last);
  MDB_val k = val(std::string_view("seq.outbox")), v = val(s);
  check(mdb_put(txn, db.meta, &k, &v, 0), "put outbox seq");
  for (const auto& [status, d] : delta) {
    if (d == 0) continue;
    auto key = count_key(integration, status);
    auto n = static_cast<int64_t>(meta_u64(txn, db.meta, key)) + d;
    put_meta_u64(txn, db.meta, key, static_cast<uint64_t>(std::max<int64_t>(0, n)));
  }
}

void outbox_remove(MDB_txn* txn, const outbox_dbs& db, const std::string& integration) {
  for (auto [dbi, prefix] : {std::pair{db.items, integration + std::string(1, '\0')},
                             {db.index, integration + std::string(1, '\0')},
                             {db.meta, count_key(integration, "")}}) {
    cursor_guard c;
    check(mdb_cursor_open(txn, dbi, &c.c), "cursor");
    MDB_val k = val(prefix), v;
    int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && view(k).substr(0, prefix.size()) == prefix) {
      check(mdb_cursor_del(c.c, 0), "delete outbox");
      k = val(prefix);
      rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE);
    }
  }
}

std::vector<outbox_row> outbox_scan(MDB_txn* txn, const outbox_dbs& db,
                                    const std::string& integration, uint64_t after_seq,
                                    size_t limit, const std::string& status) {
  std::vector<outbox_row> out;
  auto prefix = integration + std::string(1, '\0');
  auto start = item_key(integration, after_seq + 1);
  cursor_guard c;
  if (mdb_cursor_open(txn, db.items, &c.c) != MDB_SUCCESS) return out;
  MDB_val k = val(start), v;
  for (int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS && out.size() < limit;
       rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT)) {
    auto key = view(k);
    if (key.substr(0, prefix.size()) != prefix || key.size() != prefix.size() + 8) break;
    auto [st, doc] = split_value(view(v));
    if (!status.empty() && st != status) continue;
    out.push_back({from_be64(key.data() + prefix.size()), std::string(doc)});
  }
  return out;
}

std::optional<outbox_row> outbox_get(MDB_txn* txn, const outbox_dbs& db,
                                     const std::string& integration, uint64_t seq) {
  auto key = item_key(integration, seq);
  MDB_val k = val(key), v;
  if (mdb_get(txn, db.items, &k, &v) != MDB_SUCCESS) return std::nullopt;
  return outbox_row{seq, std::string(split_value(view(v)).second)};
}

std::optional<outbox_row> outbox_newest(MDB_txn* txn, const outbox_dbs& db,
                                        const std::string& integration, const std::string& entity,
                                        const std::string& external_id) {
  auto key = join({integration, entity, external_id});
  MDB_val k = val(key), v;
  if (mdb_get(txn, db.index, &k, &v) != MDB_SUCCESS || v.mv_size != 8) return std::nullopt;
  return outbox_get(txn, db, integration, from_be64(static_cast<const char*>(v.mv_data)));
}

std::map<std::string, uint64_t> outbox_count(MDB_txn* txn, const outbox_dbs& db,
                                             const std::string& integration) {
  std::map<std::string, uint64_t> out;
  auto prefix = count_key(integration, "");
  cursor_guard c;
  if (mdb_cursor_open(txn, db.meta, &c.c) != MDB_SUCCESS) return out;
  MDB_val k = val(prefix), v;
  for (int rc = mdb_cursor_get(c.c, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(c.c, &k, &v, MDB_NEXT)) {
    auto key = view(k);
    if (key.substr(0, prefix.size()) != prefix) break;
    if (v.mv_size == 8)
      out[std::string(key.substr(prefix.size()))] = from_be64(static_cast<const char*>(v.mv_data));
  }
  return out;
}

}  // namespace ledgersync::lmdb_detail
