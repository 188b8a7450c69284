// The outbox (write-back, connectors/push.hpp) in LMDB, beside the records:
//   outbox        integration\0u64 seq                     -> status\0item JSON
//   outbox_index  integration\0entity\0external_id         -> u64 seq of the newest item
//   meta          "seq.outbox" -> u64;  "outbox\0integration\0status" -> u64 items in it
// The status leads the value so a rewrite adjusts the counts without parsing the old item.
// Functions on an open transaction of storage/lmdb_storage.cpp, which owns the environment.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/lmdb_support.hpp"
#include "storage/storage.hpp"

namespace ledgersync::lmdb_detail {

struct outbox_dbs {
  MDB_dbi items{}, index{}, meta{};
};

// Writes `writes` for `integration`, appending each one's seq to `seqs`.
void outbox_apply(MDB_txn* txn, const outbox_dbs& db, const std::string& integration,
                  const std::vector<outbox_write>& writes, std::vector<uint64_t>& seqs);
// Everything of `integration`'s outbox: items, index and counts.
void outbox_remove(MDB_txn* txn, const outbox_dbs& db, const std::string& integration);

std::vector<outbox_row> outbox_scan(MDB_txn* txn, const outbox_dbs& db,
                                    const std::string& integration, uint64_t after_seq,
                                    size_t limit, const std::string& status);
std::optional<outbox_row> outbox_get(MDB_txn* txn, const outbox_dbs& db,
                                     const std::string& integration, uint64_t seq);
std::optional<outbox_row> outbox_newest(MDB_txn* txn, const outbox_dbs& db,
                                        const std::string& integration, const std::string& entity,
                                        const std::string& external_id);
std::map<std::string, uint64_t> outbox_count(MDB_txn* txn, const outbox_dbs& db,
                                             const std::string& integration);

}  // namespace ledgersync::lmdb_detail
