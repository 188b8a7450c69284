// Seals API keys before they reach disk (libsodium secretbox, XSalsa20-Poly1305), with a master
// key kept beside the database in a 0600 file. A stolen database alone reveals no credentials.
// Immutable after open; safe to use from any thread.
#pragma once

#include <optional>
#include <string>

namespace ledgersync {

class secret_box {
 public:
  // Loads `dir`/master.key, creating it (mode 0600) when absent.
  static std::optional<secret_box> open(const std::string& dir, std::string& error);
  // For tests: a fixed key.
  static secret_box with_key(const std::string& raw32);

  std::string seal(const std::string& plaintext) const;  // base64(nonce || ciphertext)
  std::optional<std::string> unseal(const std::string& sealed) const;

 private:
  std::string key_;
};

}  // namespace ledgersync
