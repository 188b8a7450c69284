// Bytes as lower-case hex, and random identifiers and secrets made of them (OpenSSL's CSPRNG).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ledgersync {

std::string hex(std::string_view bytes);
// `bytes` random bytes as hex; throws std::runtime_error when OpenSSL has no randomness.
std::string random_hex(size_t bytes);

}  // namespace ledgersync
