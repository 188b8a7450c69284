// The credential that opens the control plane: a private key and a self-signed certificate in
// the data dir (control.key, control.crt; mode 0600, the dir 0700). The service presents it and
// accepts only peers that present the same certificate (CAF's OpenSSL module with peer
// verification on both sides), so only a user who can read the data dir reaches the service at
// all; the token in service.json is checked on top. Plain OpenSSL code, no actors.
#pragma once

#include <string>

namespace ledgersync {

struct control_credential {
  std::string certificate;  // PEM file: both our certificate and the one trusted CA
  std::string key;          // PEM file: the private key (never leaves the data dir)
};

// The paths for `data_dir` (whether or not the files exist yet).
control_credential control_credential_paths(const std::string& data_dir);

// Makes sure the credential exists in `data_dir`, creating a fresh P-256 key and a certificate
// valid for 10 years when absent. Returns "" or what went wrong.
std::string ensure_control_credential(const std::string& data_dir);

// "" when this process can read both files; otherwise a message that says which and why.
std::string check_control_credential(const control_credential& c);

}  // namespace ledgersync
