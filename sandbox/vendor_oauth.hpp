// The sandbox's OAuth 2.0 authorization server, one implementation for the Xero-, QuickBooks- and
// Sage-style sign-ins (RFC 6749, PKCE RFC 7636, revocation RFC 7009):
//   GET  /oauth/authorize?response_type=code&client_id&redirect_uri&state
//        &code_challenge&code_challenge_method=S256   -> 302 to redirect_uri?code=…&state=…
//        (consent is automatic; an unknown client or redirect is a 400 page, never a redirect)
//   POST /oauth/token  (form) grant_type=authorization_code (code, redirect_uri, code_verifier)
//                             | client_credentials | refresh_token (refresh_token)
//        client auth: HTTP Basic or client_id/client_secret in the form; a public client (no
//        secret) must use PKCE.
//   POST /oauth/revoke (form) token=…   revokes a refresh token with every access token it led to
// Refresh tokens rotate: each refresh returns a new one; the one used keeps working for the
// client's grace period (Xero: 30 min), then is invalid_grant. Tokens unused for `refresh_idle_s`
// expire. Errors are RFC 6749 bodies {"error":"invalid_grant","error_description":…}.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "sandbox/vendor_common.hpp"

namespace ledgersync::sandbox {

struct token_policy {
  int64_t access_ttl_s = 1800;          // expires_in
  int64_t refresh_grace_s = 1800;       // a rotated-out refresh token still works this long
  int64_t refresh_idle_s = 60 * 86400;  // a refresh token unused this long expires
};

struct oauth_client {
  std::string secret;  // "" = public client (PKCE required)
  token_policy policy;
};

struct oauth_options {
  uint64_t seed = 1;
  std::map<std::string, oauth_client> clients;
  // xero-sandbox (secret xero-sandbox-secret; 30 min tokens, 30 min grace, 60 days idle),
  // xero-pkce (public), quickbooks-sandbox (secret quickbooks-sandbox-secret; 1 h tokens, 24 h
  // grace, 100 days idle), sage-sandbox (secret sage-sandbox-secret; 5 min tokens, single-use
  // refresh tokens, 31 days idle).
  static oauth_options defaults();
};

class oauth_server {
 public:
  oauth_server(oauth_options o, clock_fn now);

  vendor_response handle(const vendor_request& req);

  enum class token_state { valid, unknown, expired, revoked };
  token_state check_access(const std::string& access_token);
  // The request's `Authorization: Bearer TOKEN` names a valid access token.
  bool bearer_valid(const vendor_request& req);
  // The next refresh_token grant fails with invalid_grant (the vendor revoked the grant).
  void fail_next_refresh();
  // Every access token issued so far expires now (a client sees 401 and must refresh).
  void expire_access_tokens();
  // Every grant is revoked, as when the user disconnects the app at the vendor.
  void revoke_all();

 private:
  struct code_info {
    std::string client, redirect_uri, challenge;
    int64_t expires_ms = 0;
  };
  struct access_info {
    std::string client, family;
    int64_t expires_ms = 0;
  };
  struct refresh_info {
    std::string client, family;
    int64_t last_used_ms = 0;
    int64_t superseded_ms = 0;  // 0 = the current one
  };
  vendor_response token(const vendor_request& req);
  vendor_response authorize(const vendor_request& req);
  vendor_response revoke(const vendor_request& req);
  vendor_response issue(const std::string& client, const std::string& family, bool with_refresh);
  std::string new_token(const char* prefix);

  oauth_options opts_;
  clock_fn now_;
  std::mutex mu_;
  uint64_t counter_ = 0;
  bool fail_next_refresh_ = false;
  std::map<std::string, code_info> codes_;
  std::map<std::string, access_info> access_;
  std::map<std::string, refresh_info> refresh_;
  std::map<std::string, bool> revoked_families_;
};

// base64url(SHA-256(verifier)) without padding: the S256 code challenge (RFC 7636 4.2).
std::string pkce_challenge(std::string_view verifier);

}  // namespace ledgersync::sandbox
