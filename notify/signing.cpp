#include "notify/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <stdexcept>

namespace ledgersync::notify {

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return hex(std::string_view(reinterpret_cast<char*>(out), len));
}

std::string make_payload(const std::string& event_id, const std::string& type,
                         const std::string& created_at, const nlohmann::json& data) {
  nlohmann::json j;
  j["id"] = event_id;
  j["type"] = type;
  j["created_at"] = created_at;
  j["data"] = data.is_null() ? nlohmann::json::object() : data;
  // Event data quotes upstream text, which may not be valid UTF-8: replaced, never thrown at
  // the caller (a sync).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string signature_header(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  auto t = std::to_string(unix_seconds);
  std::string signed_text;
  signed_text.reserve(t.size() + 1 + body.size());
  signed_text.append(t).append(".").append(body);
  return "t=" + t + ",v1=" + hmac_sha256_hex(secret, signed_text);
}

header_list delivery_headers(std::string_view secret, int64_t unix_seconds,
                             const std::string& event, const std::string& delivery_id,
                             std::string_view body) {
  return {{"Content-Type", "application/json"},
          {"Ledgersync-Event", event},
          {"Ledgersync-Delivery", delivery_id},
          {"Ledgersync-Signature", signature_header(secret, unix_seconds, body)}};
}

const char* verify_result_name(verify_result r) {
  switch (r) {
    case verify_result::ok:
      return "ok";
    case verify_result::malformed:
      return "malformed";
    case verify_result::outside_tolerance:
      return "outside_tolerance";
    case verify_result::mismatch:
      return "mismatch";
  }
  return "?";
}

verify_result verify(std::string_view header, std::string_view body, std::string_view secret,
                     int64_t now_unix_seconds, int64_t tolerance_seconds) {
  std::string_view t_text;
  std::vector<std::string_view> v1s;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with("t="))
      t_text = part.substr(2);
    else if (part.starts_with("v1="))
      v1s.push_back(part.substr(3));
  }
  int64_t t = 0;
  auto [end, ec] = std::from_chars(t_text.data(), t_text.data() + t_text.size(), t);
  if (t_text.empty() || ec != std::errc() || end != t_text.data() + t_text.size() || v1s.empty())
    return verify_result::malformed;
  if (t < now_unix_seconds - tolerance_seconds || t > now_unix_seconds + tolerance_seconds)
    return verify_result::outside_tolerance;
  auto expected = signature_header(secret, t, body);
  expected = expected.substr(expected.find(",v1=") + 4);
  bool match = false;
  for (auto v : v1s)
    if (v.size() == expected.size() &&
        CRYPTO_memcmp(v.data(), expected.data(), expected.size()) == 0)
      match = true;
  return match ? verify_result::ok : verify_result::mismatch;
}

}  // namespace ledgersync::notify
