// Seals API keys before they reach disk (libsodium secretbox, XSalsa20-Poly1305), with a master
// key in a 0600 file: beside the database by default, elsewhere when the service config says so.
// A stolen database alone reveals no credentials.
// Immutable after open; safe to use from any thread.
#pragma once

#include <optional>
#include <string>

namespace ledgersync {

class secret_box {
 public:
  // Loads `dir`/master.key, creating it (mode 0600) when absent.
  static std::optional<secret_box> open(const std::string& dir, std::string& error);
  // Loads a key kept outside the data dir (a path in the service config, or systemd's
  // LoadCredential=), so that a copied data dir alone reveals no API key. The file must exist:
  // it is made once with `ledgersync keygen FILE`. Refused when others may read it, or when a
  // master.key is still in `data_dir` (the copy the separation is meant to remove).
  static std::optional<secret_box> open_key_file(const std::string& path,
                                                 const std::string& data_dir, std::string& error);
  // Writes a new random key to `path` (mode 0600); refuses to overwrite one.
  static bool generate_key_file(const std::string& path, std::string& error);
  // For tests: a fixed key.
  static secret_box with_key(const std::string& raw32);

  std::string seal(const std::string& plaintext) const;  // base64(nonce || ciphertext)
  std::optional<std::string> unseal(const std::string& sealed) const;

 private:
  std::string key_;
};

}  // namespace ledgersync
