// How a webhook is signed, and how a receiver checks it. The body is the JSON payload
// {"id","type","created_at","data"}; the signature covers the timestamp and the exact bytes of
// the body, so neither can be replayed with the other changed:
//   Ledgersync-Signature: t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "<t>.<body>"))
// The secret is the whole "whsec_..." string as shown by `webhook add`, used as the key's bytes.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "connectors/http_types.hpp"
#include "core/hex.hpp"

namespace ledgersync::notify {

std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// The body of one event's notification (the same bytes for every subscription and attempt).
std::string make_payload(const std::string& event_id, const std::string& type,
                         const std::string& created_at, const nlohmann::json& data);

// "t=<t>,v1=<hex>".
std::string signature_header(std::string_view secret, int64_t unix_seconds, std::string_view body);

// The headers of one attempt: signature (with the attempt's own time), event, delivery id and
// Content-Type.
header_list delivery_headers(std::string_view secret, int64_t unix_seconds,
                             const std::string& event, const std::string& delivery_id,
                             std::string_view body);

enum class verify_result { ok, malformed, outside_tolerance, mismatch };
const char* verify_result_name(verify_result r);

// For receivers: checks a Ledgersync-Signature header against the raw body. The timestamp must
// be within `tolerance_seconds` of `now_unix_seconds` either way (a replayed old request is
// refused); any one v1= value may match (several appear while a secret is being rotated). The
// comparison takes the same time wherever the digests differ.
verify_result verify(std::string_view header, std::string_view body, std::string_view secret,
                     int64_t now_unix_seconds, int64_t tolerance_seconds = 300);

}  // namespace ledgersync::notify
