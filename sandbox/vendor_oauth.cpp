#include "sandbox/vendor_oauth.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <boost/url/url.hpp>

namespace ledgersync::sandbox {

namespace {

vendor_response oauth_error(int status, const char* error, const std::string& description) {
  vendor_response r;
  r.status = status;
  r.set("Cache-Control", "no-store");
  r.body = std::string("{\"error\":\"") + error + "\",\"error_description\":\"" +
           json_escape(description) + "\"}";
  if (status == 401) r.set("WWW-Authenticate", "Basic realm=\"ledgersync-sandbox\"");
  return r;
}

std::string base64url(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string base64_decode(std::string_view in) {
  std::string out(3 * (in.size() / 4) + 3, '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
  if (len < 0 || in.size() % 4) return {};
  size_t pad = in.size() >= 2 ? (in.end()[-1] == '=') + (in.end()[-2] == '=') : 0;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

std::string form_value(const std::vector<std::pair<std::string, std::string>>& f,
                       std::string_view k) {
  for (const auto& [key, value] : f)
    if (key == k) return value;
  return {};
}

// A loopback redirect (RFC 8252 7.3), any port: what a CLI listening for the code uses.
bool loopback_redirect(const std::string& uri) {
  return uri.rfind("http://127.0.0.1:", 0) == 0 || uri.rfind("http://localhost:", 0) == 0 ||
         uri.rfind("http://[::1]:", 0) == 0;
}

}  // namespace

std::string pkce_challenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return base64url(digest, sizeof digest);
}

oauth_options oauth_options::defaults() {
  oauth_options o;
  o.clients["xero-sandbox"] = {"xero-sandbox-secret", {1800, 1800, 60 * 86400}};
  o.clients["xero-pkce"] = {"", {1800, 1800, 60 * 86400}};
  o.clients["quickbooks-sandbox"] = {"quickbooks-sandbox-secret", {3600, 86400, 100 * 86400}};
  o.clients["sage-sandbox"] = {"sage-sandbox-secret", {300, 0, 31 * 86400}};
  return o;
}

oauth_server::oauth_server(oauth_options o, clock_fn now)
    : opts_(std::move(o)), now_(std::move(now)) {}

std::string oauth_server::new_token(const char* prefix) {
  return std::string(prefix) + stable_token(mix64(opts_.seed) ^ mix64(++counter_), 40);
}

void oauth_server::fail_next_refresh() {
  std::lock_guard lock(mu_);
  fail_next_refresh_ = true;
}

void oauth_server::expire_access_tokens() {
  std::lock_guard lock(mu_);
  for (auto& [token, info] : access_) info.expires_ms = 0;
}

void oauth_server::revoke_all() {
  std::lock_guard lock(mu_);
  for (auto& [token, info] : refresh_) revoked_families_[info.family] = true;
}

bool oauth_server::bearer_valid(const vendor_request& req) {
  auto bearer = req.header("authorization");
  return bearer.rfind("Bearer ", 0) == 0 && check_access(bearer.substr(7)) == token_state::valid;
}

oauth_server::token_state oauth_server::check_access(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = access_.find(token);
  if (it == access_.end()) return token_state::unknown;
  if (revoked_families_.count(it->second.family)) return token_state::revoked;
  if (now_() >= it->second.expires_ms) return token_state::expired;
  return token_state::valid;
}

vendor_response oauth_server::handle(const vendor_request& req) {
  if (req.path == "/oauth/authorize") {
    if (req.method != "GET") return oauth_error(405, "invalid_request", "use GET");
    return authorize(req);
  }
  if (req.path != "/oauth/token" && req.path != "/oauth/revoke")
    return oauth_error(404, "invalid_request", "unknown endpoint " + req.path);
  if (req.method != "POST") return oauth_error(405, "invalid_request", "use POST");
  return req.path == "/oauth/token" ? token(req) : revoke(req);
}

vendor_response oauth_server::authorize(const vendor_request& req) {
  std::lock_guard lock(mu_);
  auto client = req.param("client_id");
  auto redirect = req.param("redirect_uri");
  if (!opts_.clients.count(client))
    return oauth_error(400, "invalid_request", "unknown client_id '" + client + "'");
  if (!loopback_redirect(redirect))
    return oauth_error(400, "invalid_request",
                       "redirect_uri must be a loopback http URL (http://127.0.0.1:PORT/...)");
  boost::urls::url back(redirect);
  auto state = req.param("state");
  auto fail = [&](const char* error, const char* why) {
    back.params().append({"error", error});
    back.params().append({"error_description", why});
    if (!state.empty()) back.params().append({"state", state});
    vendor_response r;
    r.status = 302;
    r.set("Location", std::string(back.buffer()));
    return r;
  };
  if (req.param("response_type") != "code")
    return fail("unsupported_response_type", "response_type must be code");
  auto challenge = req.param("code_challenge");
  bool is_public = opts_.clients[client].secret.empty();
  if (challenge.empty() && is_public)
    return fail("invalid_request", "a public client must send a PKCE code_challenge");
  if (!challenge.empty() && req.param("code_challenge_method") != "S256")
    return fail("invalid_request", "code_challenge_method must be S256");
  auto code = new_token("code_");
  codes_[code] = {client, redirect, challenge, now_() + 300'000};  // Xero: codes last 5 min
  back.params().append({"code", code});
  if (!state.empty()) back.params().append({"state", state});
  vendor_response r;
  r.status = 302;
  r.set("Location", std::string(back.buffer()));
  return r;
}

vendor_response oauth_server::issue(const std::string& client, const std::string& family,
                                    bool with_refresh) {
  const auto& policy = opts_.clients[client].policy;
  int64_t now = now_();
  auto at = new_token("at_");
  access_[at] = {client, family, now + policy.access_ttl_s * 1000};
  vendor_response r;
  r.set("Cache-Control", "no-store");
  r.set("Pragma", "no-cache");
  r.body = "{\"access_token\":\"" + at +
           "\",\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(policy.access_ttl_s);
  if (with_refresh) {
    auto rt = new_token("rt_");
    refresh_[rt] = {client, family, now, 0};
    r.body += ",\"refresh_token\":\"" + rt + "\"";
  }
  r.body += ",\"scope\":\"offline_access accounting.transactions accounting.contacts\"}";
  return r;
}

vendor_response oauth_server::token(const vendor_request& req) {
  auto form = parse_form(req.body);
  std::lock_guard lock(mu_);
  // Client authentication: Basic, or the form's client_id/client_secret.
  std::string client = form_value(form, "client_id"), secret = form_value(form, "client_secret");
  bool sent_secret = !secret.empty();
  if (auto auth = req.header("authorization"); auth.rfind("Basic ", 0) == 0) {
    auto pair = base64_decode(auth.substr(6));
    auto colon = pair.find(':');
    if (colon == std::string::npos)
      return oauth_error(401, "invalid_client", "malformed Basic credentials");
    client = pair.substr(0, colon);
    secret = pair.substr(colon + 1);
    sent_secret = true;
  }
  auto known = opts_.clients.find(client);
  if (known == opts_.clients.end())
    return oauth_error(401, "invalid_client", "unknown client_id '" + client + "'");
  bool is_public = known->second.secret.empty();
  if ((!is_public || sent_secret) && secret != known->second.secret)
    return oauth_error(401, "invalid_client", "client authentication failed");
  int64_t now = now_();
  auto grant = form_value(form, "grant_type");
  if (grant == "authorization_code") {
    auto it = codes_.find(form_value(form, "code"));
    if (it == codes_.end() || it->second.client != client || now >= it->second.expires_ms) {
      if (it != codes_.end()) codes_.erase(it);
      return oauth_error(400, "invalid_grant", "the authorization code is invalid or expired");
    }
    auto info = it->second;
    codes_.erase(it);  // single use, even when the exchange fails below
    if (form_value(form, "redirect_uri") != info.redirect_uri)
      return oauth_error(400, "invalid_grant", "redirect_uri differs from the authorize request");
    auto verifier = form_value(form, "code_verifier");
    if (!info.challenge.empty() && pkce_challenge(verifier) != info.challenge)
      return oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge");
    if (info.challenge.empty() && !verifier.empty())
      return oauth_error(400, "invalid_grant", "code_verifier sent for a code without PKCE");
    return issue(client, new_token("fam_"), true);
  }
  if (grant == "client_credentials") {
    if (is_public)
      return oauth_error(400, "unauthorized_client", "a public client cannot use this grant");
    return issue(client, new_token("fam_"), false);
  }
  if (grant == "refresh_token") {
    auto it = refresh_.find(form_value(form, "refresh_token"));
    if (fail_next_refresh_) {
      fail_next_refresh_ = false;
      return oauth_error(400, "invalid_grant", "the refresh token was revoked by the user");
    }
    if (it == refresh_.end() || it->second.client != client)
      return oauth_error(400, "invalid_grant", "unknown refresh token");
    auto& rt = it->second;
    const auto& policy = known->second.policy;
    if (revoked_families_.count(rt.family))
      return oauth_error(400, "invalid_grant", "the refresh token was revoked");
    if (now - rt.last_used_ms >= policy.refresh_idle_s * 1000)
      return oauth_error(400, "invalid_grant", "the refresh token expired unused");
    if (rt.superseded_ms && now >= rt.superseded_ms + policy.refresh_grace_s * 1000)
      return oauth_error(400, "invalid_grant",
                         "the refresh token was already used and its grace period has passed");
    if (!rt.superseded_ms) rt.superseded_ms = now;
    rt.last_used_ms = now;
    auto family = rt.family;
    return issue(client, family, true);
  }
  if (grant.empty()) return oauth_error(400, "invalid_request", "grant_type is missing");
  return oauth_error(400, "unsupported_grant_type", "grant_type '" + grant + "' is not supported");
}

vendor_response oauth_server::revoke(const vendor_request& req) {
  auto form = parse_form(req.body);
  std::lock_guard lock(mu_);
  auto token = form_value(form, "token");
  if (token.empty()) return oauth_error(400, "invalid_request", "token is missing");
  // RFC 7009 2.2: an unknown token is not an error.
  if (auto it = refresh_.find(token); it != refresh_.end())
    revoked_families_[it->second.family] = true;
  if (auto it = access_.find(token); it != access_.end()) it->second.expires_ms = 0;
  vendor_response r;
  r.body = "{}";
  return r;
}

}  // namespace ledgersync::sandbox
