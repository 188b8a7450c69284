// A plain OAuth 2.0 client (RFC 6749) for the vendors that sign in with it (Xero, Sage,
// QuickBooks): PKCE (RFC 7636, S256 only), the authorize URL, the token requests for the
// authorization_code, refresh_token and client_credentials grants, and the token endpoint's
// answer read as untrusted input. No I/O: the integration actor sends the requests and keeps the
// tokens; the CLI's `connect` runs the browser half.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "connectors/http_types.hpp"

namespace ledgersync {

struct connector_kind;
struct integration_config;

namespace oauth {

// base64url without padding (RFC 7636 appendix A).
std::string base64url(std::string_view bytes);
// 43 characters of the unreserved alphabet from 32 random bytes (RFC 7636 4.1).
std::string make_verifier();
// BASE64URL(SHA256(verifier)): the S256 code challenge (RFC 7636 4.2).
std::string challenge_s256(std::string_view verifier);
// A random value for the authorize request's `state` (CSRF protection, RFC 6749 10.12).
std::string make_state();

// Where and how one integration signs in, resolved from its kind and its settings.
struct endpoints {
  std::string authorize_url, token_url, revoke_url;
  std::string client_id, client_secret;  // secret "" = a public client (PKCE only)
  std::string scopes;                    // space-separated
  bool client_credentials = false;       // the vendor offers the grant (Xero custom connections)
};

// The endpoints of an integration that signs in (uses_oauth): its kind's flow, under its
// auth_base_url setting when given; client id and secret from its settings.
endpoints endpoints_for(const integration_config& config);

struct authorize_params {
  std::string redirect_uri, state, challenge;
};
std::string authorize_url(const endpoints& e, const authorize_params& p);

// The token requests (POST, form-encoded). The client authenticates with HTTP Basic when it
// has a secret (RFC 6749 2.3.1, what Xero, Sage and QuickBooks all accept), else by client_id in
// the form. The response is bounded: a token answer is small.
http_request code_request(const endpoints& e, const std::string& code,
                          const std::string& redirect_uri, const std::string& verifier);
http_request refresh_request(const endpoints& e, const std::string& refresh_token);
http_request client_credentials_request(const endpoints& e);

struct token_answer {
  std::string access_token;
  std::string refresh_token;  // "" when the answer carries none (client credentials)
  int64_t expires_in_s = 0;   // 0 = not said; the caller assumes a short life
  std::string scope;
  // Set when the answer is not a usable token: the RFC 6749 5.2 error code ("invalid_grant"),
  // or "invalid_response" for anything unreadable; `message` says it in words, never quoting a
  // token.
  std::string error;
  std::string message;
  bool ok() const { return error.empty(); }
  // The grant itself is refused (revoked, expired, used up): only signing in again helps.
  bool grant_refused() const;
};
// Reads a token endpoint's answer: status, JSON shape, field types and sizes are all checked.
token_answer parse_token_response(const http_response& r);

// The form encoding of application/x-www-form-urlencoded (RFC 6749 appendix B).
std::string form_encode(std::string_view s);

}  // namespace oauth
}  // namespace ledgersync
