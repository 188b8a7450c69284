// HTTP request/response as plain values, independent of Beast, so connectors and actors can be
// tested without a network and messages stay serializable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.hpp"

namespace ledgersync {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  std::string method = "GET";
  std::string url;  // absolute: http://, https:// or file://
  header_list headers;
  std::string body;  // sent with a Content-Length when not empty (a webhook's POST)
  int64_t timeout_ms = 30000;
  int64_t max_body_bytes = 64ll << 20;
  // The only origin (scheme://host:port, see origin_of) this request may go to; the transport
  // refuses any other, so a URL taken from an upstream's answer can never carry the credentials
  // elsewhere. Empty = no restriction (only for requests built from settings alone).
  std::string allowed_origin;
  // file:// is honoured only when the admin configured a local source; never from upstream data.
  bool allow_file = false;
};

// "scheme://host:port" of an absolute http(s) URL, lower-cased, with the scheme's default port
// filled in; empty when `url` is not an absolute http(s) URL.
std::string origin_of(std::string_view url);

struct http_response {
  int status = 0;  // 0 when no HTTP answer arrived; then `error` says why
  header_list headers;
  std::string body;
  error_info error;  // transport failures only (refused, reset, timeout, too large)
  // The server's certificate over https (what `ledgersync test` reports); empty otherwise.
  std::string peer_subject, peer_issuer, peer_not_after;

  // Case-insensitive; empty when absent.
  std::string_view header(std::string_view name) const;
};

// Maps an answer to an error category (none for 2xx), with a message that quotes the vendor's
// own error text when the body carries one.
error_info classify_response(const http_response& r, const std::string& what);

// Parses Retry-After (RFC 9110 §10.2.3) into seconds from now, -1 when absent or unreadable.
// Delta-seconds as given; an HTTP-date counts from the answer's own Date header (`date`), so
// neither our clock nor its skew from the vendor's enters; an HTTP-date with no readable Date
// counts as absent. Capped at two days: no vendor we speak asks for longer than its daily
// limit, and a broken or hostile answer must not switch an integration off for years.
int parse_retry_after(std::string_view v, std::string_view date = {});
// The same, read from an answer's Retry-After and Date headers.
int retry_after_of(const http_response& r);
// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since the epoch; -1 otherwise.
int64_t parse_http_date(std::string_view v);

// The Host header for a request (RFC 9110 §7.2): the port is there whenever it is not the
// scheme's default (80 for http, 443 for https), since servers build absolute links from it.
std::string host_header_for(std::string_view scheme, std::string_view host, std::string_view port);

// A total count from a response header: a bare number (X-Total-Count) or the complete length of
// a Content-Range ("items 0-499/5000"); -1 when absent or unknown ("items 0-499/*").
int64_t total_from_header(std::string_view value);

// An ISO 8601 time ("2024-03-05T10:20:30.250+01:00", "2024-03-05") as an RFC 9110 IMF-fixdate
// ("Tue, 05 Mar 2024 09:20:30 GMT"), sub-seconds dropped (rounded down, so a conditional request
// never skips a change); empty when `iso` is not such a time.
std::string http_date_of(std::string_view iso);

// Percent-encodes every byte but RFC 3986's unreserved characters and those in `keep`
// (upper-case hex), so the text arrives byte for byte as the server decodes it.
std::string percent_encode(std::string_view s, std::string_view keep = {});

// Extracts the URL with rel="next" from an RFC 8288 Link header; empty when none.
std::string link_next(std::string_view link_header);

}  // namespace ledgersync
