// What the LMDB storage's files share: keys joined with '\0', big-endian integers (so they
// sort), MDB_val views, RAII guards for transactions and cursors, and LMDB errors as
// exceptions (caught at the transaction's edge, storage/lmdb_storage.cpp's write_txn).
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ledgersync::lmdb_detail {

inline std::string be64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
  return s;
}
inline uint64_t from_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline std::string join(std::initializer_list<std::string_view> parts) {
  std::string k;
  bool first = true;
  for (auto p : parts) {
    if (!first) k.push_back('\0');
    k.append(p);
    first = false;
  }
  return k;
}

inline MDB_val val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

struct txn_guard {
  MDB_txn* txn = nullptr;
  ~txn_guard() {
    if (txn) mdb_txn_abort(txn);
  }
};
struct cursor_guard {
  MDB_cursor* c = nullptr;
  ~cursor_guard() {
    if (c) mdb_cursor_close(c);
  }
};

class lmdb_error : public std::runtime_error {
 public:
  lmdb_error(int rc, const std::string& what)
      : std::runtime_error(what + ": " + mdb_strerror(rc)), rc(rc) {}
  int rc;
};

inline void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw lmdb_error(rc, what);
}

}  // namespace ledgersync::lmdb_detail
