// Bearer tokens for the HTTP API. A token is shown once, when it is created; the file keeps
// only its SHA-256, so a copied file grants nothing. The file lives in the data dir (mode 0600)
// and is replaced atomically (temp file, fsync, rename), so a reader never sees half of it.
// Another process (the CLI's `token create`) may edit it: every call re-reads the file when its
// modification time, size or inode changed.
// Thread-safe: one mutex around the cached list.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/gateway.hpp"
#include "core/private_file.hpp"

namespace ledgersync::api {

std::optional<role> role_from_name(std::string_view name);

struct token_info {
  std::string id;    // short, random, shown by list: what revoke takes besides the name
  std::string name;  // unique; recorded as who made a change
  api::role role = role::viewer;
  std::string created_at;  // ISO 8601 UTC
};

struct created_token {
  token_info info;
  std::string secret;  // the bearer value, "lst_" + 64 hex digits; not stored anywhere
};

class token_store {
 public:
  explicit token_store(std::string path);

  // `name` empty picks "token-<id>". Errors: bad role, bad or taken name, unwritable file.
  std::optional<created_token> create(std::string_view role_name, std::string name,
                                      std::string& error);
  std::optional<std::vector<token_info>> list(std::string& error);
  // By id or name; an error when neither matches.
  bool revoke(const std::string& id_or_name, std::string& error);
  // The principal a bearer value stands for. Compares hashes in constant time and always
  // walks every token, so timing tells nothing about which one came close.
  std::optional<principal> verify(std::string_view bearer);

 private:
  struct entry {
    token_info info;
    std::string sha256;  // raw 32 bytes
  };
  bool refresh(std::string& error);  // with mu_ held
  // For a change: the lock other processes' changes take too, then the file read afresh. With
  // mu_ held; nothing, with `error`, when either fails.
  std::optional<file_lock> lock_and_read(std::string& error);
  bool save(const std::vector<entry>& tokens, std::string& error);

  watched_file file_;
  std::mutex mu_;
  std::vector<entry> tokens_;
  std::string load_error_;
};

}  // namespace ledgersync::api
