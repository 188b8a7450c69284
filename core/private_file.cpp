#include "core/private_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ledgersync {

bool write_private_file(const std::string& path, const std::string& text, std::string& error) {
  auto tmp = path + ".tmp." + std::to_string(::getpid());
  auto sys_fail = [&](const std::string& what) {
    error = what + " " + tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return sys_fail("cannot create");
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return sys_fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return sys_fail("cannot sync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys_fail("cannot rename");
  auto slash = path.find_last_of('/');
  auto dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  return true;
}

watched_file::state watched_file::poll(std::string& text, std::string& error) {
  struct stat st {};
  stamp now;
  if (::stat(path_.c_str(), &st) == 0) {
    now = {static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
           static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
  } else if (errno != ENOENT) {
    error = "cannot read " + path_ + ": " + std::strerror(errno);
    return state::unreadable;
  }
  if (now == seen_) return state::unchanged;
  if (now.size < 0) {
    seen_ = now;
    return state::absent;
  }
  std::ifstream in(path_);
  std::stringstream all;
  if (!in || !(all << in.rdbuf())) {
    error = "cannot read " + path_ + ": " + std::strerror(errno);
    return state::unreadable;  // not seen: read again next time
  }
  seen_ = now;
  text = all.str();
  return state::changed;
}

std::optional<file_lock> file_lock::take(const std::string& path, std::string& error) {
  auto lock_path = path + ".lock";
  // flock needs no write access: a lock file another user created does not lock this one out.
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open " + lock_path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    error = "cannot lock " + lock_path + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  return file_lock(fd);
}

file_lock::~file_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace ledgersync
