// Writes a small file that only its owner may read (mode 0600), replacing it atomically: a temp
// file beside it, fsync, rename, and an fsync of the directory so the rename itself survives a
// crash. A reader sees the old file or the new one, never half of either. Used for the data
// dir's small documents: service.json, api_tokens.json, webhooks.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace ledgersync {

// A small document another process may replace at any time (the CLI adding a token while the
// service runs): read again only when its stamp (modification time, size, inode) changed, so
// checking it on every request costs one stat(2).
class watched_file {
 public:
  enum class state {
    unchanged,   // as last read
    changed,     // `text` holds the new contents
    absent,      // no file (any more)
    unreadable,  // `error` says why; the next poll tries again
  };
  explicit watched_file(std::string path) : path_(std::move(path)) {}
  state poll(std::string& text, std::string& error);
  // The next poll reads the file whatever its stamp says. For a writer holding the file's
  // lock: a stamp can repeat (a reused inode, an mtime within one clock tick, the same size).
  void forget() { seen_ = {-1, -2, 0}; }
  const std::string& path() const { return path_; }

 private:
  struct stamp {
    int64_t mtime_ns = -1, size = -1;  // size -1: no file
    uint64_t inode = 0;
    bool operator==(const stamp&) const = default;
  };
  std::string path_;
  stamp seen_{-1, -2, 0};  // never polled: any first answer is news
};

// False, with `error` ("cannot write PATH.tmp.PID: reason"), when any step fails; the temp file
// is then removed and `path` is untouched.
bool write_private_file(const std::string& path, const std::string& text, std::string& error);

// An exclusive lock for a read-modify-write of a file that several processes change (the
// CLI's `token create` beside another one, and the service): flock(2) on PATH.lock (created
// 0600), held until destroyed or the process dies. Without it two writers each read the old
// list and the second rename drops what the first added.
class file_lock {
 public:
  // Blocks until the lock is free; nullopt, with `error`, when the lock file cannot be opened.
  static std::optional<file_lock> take(const std::string& path, std::string& error);
  file_lock(file_lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  file_lock& operator=(file_lock&&) = delete;
  ~file_lock();

 private:
  explicit file_lock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace ledgersync
