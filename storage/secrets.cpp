#include "storage/secrets.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace ledgersync {

std::optional<secret_box> secret_box::open(const std::string& dir, std::string& error) {
  if (sodium_init() < 0) {
    error = "libsodium failed to initialise";
    return std::nullopt;
  }
  auto path = dir + "/master.key";
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    auto n = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(key.size())) {
      error = path + " is damaged (expected " + std::to_string(key.size()) + " bytes)";
      return std::nullopt;
    }
  } else {
    randombytes_buf(key.data(), key.size());
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ::write(fd, key.data(), key.size()) != static_cast<ssize_t>(key.size()) ||
        ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      error = "cannot write " + path;
      return std::nullopt;
    }
    ::close(fd);
  }
  secret_box b;
  b.key_ = std::move(key);
  return b;
}

std::optional<secret_box> secret_box::open_key_file(const std::string& path,
                                                    const std::string& data_dir,
                                                    std::string& error) {
  if (sodium_init() < 0) {
    error = "libsodium failed to initialise";
    return std::nullopt;
  }
  struct stat in_dir {};
  if (::stat((data_dir + "/master.key").c_str(), &in_dir) == 0) {
    error = "secrets_key_file is " + path + ", but " + data_dir +
            "/master.key is still in the data dir: move it there (or delete it once the key file "
            "holds the same key), so that the data dir alone reveals no API key";
    return std::nullopt;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read the secrets key file " + path + ": " + std::strerror(errno) +
            (errno == ENOENT ? " (make one with `ledgersync keygen " + path + "`)" : "");
    return std::nullopt;
  }
  struct stat st {};
  std::string key(crypto_secretbox_KEYBYTES + 1, '\0');
  bool open_to_others = ::fstat(fd, &st) == 0 && (st.st_mode & 0007) != 0;
  auto n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (open_to_others) {
    error = "the secrets key file " + path + " can be read by other users: chmod 600 it";
    return std::nullopt;
  }
  if (n != static_cast<ssize_t>(crypto_secretbox_KEYBYTES)) {
    error = "the secrets key file " + path + " is not a key (expected exactly " +
            std::to_string(crypto_secretbox_KEYBYTES) + " bytes, as `ledgersync keygen` writes)";
    return std::nullopt;
  }
  key.resize(crypto_secretbox_KEYBYTES);
  secret_box b;
  b.key_ = std::move(key);
  return b;
}

bool secret_box::generate_key_file(const std::string& path, std::string& error) {
  if (sodium_init() < 0) {
    error = "libsodium failed to initialise";
    return false;
  }
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  randombytes_buf(key.data(), key.size());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot create " + path + ": " + std::strerror(errno) +
            (errno == EEXIST ? " (a key is never overwritten: the secrets sealed with it would be "
                               "lost)"
                             : "");
    return false;
  }
  bool ok =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    error = "cannot write " + path + ": " + std::strerror(errno);
  }
  return ok;
}

secret_box secret_box::with_key(const std::string& raw32) {
  // For tests: a fixed key. sodium_init only fails when the CPU lacks what libsodium needs, and
  // then nothing could be sealed at all.
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  secret_box b;
  b.key_ = raw32;
  b.key_.resize(crypto_secretbox_KEYBYTES, '\0');
  return b;
}

std::string secret_box::seal(const std::string& plaintext) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, reinterpret_cast<const unsigned char*>(key_.data()));
  std::string b64(sodium_base64_encoded_len(out.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(out.data()),
                    out.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  return b64;
}

std::optional<std::string> secret_box::unseal(const std::string& sealed) const {
  std::string bin(sealed.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), sealed.c_str(),
                        sealed.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return std::nullopt;
  auto* p = reinterpret_cast<const unsigned char*>(bin.data());
  std::string out(len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                 p + crypto_secretbox_NONCEBYTES, len - crypto_secretbox_NONCEBYTES,
                                 p, reinterpret_cast<const unsigned char*>(key_.data())) != 0)
    return std::nullopt;
  return out;
}

}  // namespace ledgersync
