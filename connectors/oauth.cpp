#include "connectors/oauth.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "config/integration_config.hpp"
#include "connectors/registry.hpp"

namespace ledgersync::oauth {

using nlohmann::json;

namespace {

// Token answers are a few hundred bytes; a megabyte is already hostile.
constexpr int64_t max_token_body = 64 * 1024;
constexpr size_t max_token_size = 8192;  // Xero's access tokens (JWTs) are ~1.5 KB

std::string random_text(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("no randomness for OAuth (RAND_bytes failed)");
  return base64url(raw);
}

std::string basic_credentials(const endpoints& e) {
  // RFC 6749 2.3.1: the id and secret are form-encoded before base64.
  auto pair = form_encode(e.client_id) + ":" + form_encode(e.client_secret);
  std::string out(4 * ((pair.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(pair.data()),
                          static_cast<int>(pair.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

http_request token_post(const endpoints& e, std::string form) {
  http_request r;
  r.method = "POST";
  r.url = e.token_url;
  r.timeout_ms = 30000;
  r.max_body_bytes = max_token_body;
  r.allowed_origin = origin_of(e.token_url);
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  r.headers.emplace_back("Accept", "application/json");
  if (!e.client_secret.empty())
    r.headers.emplace_back("Authorization", basic_credentials(e));
  else
    form += "&client_id=" + form_encode(e.client_id);
  r.body = std::move(form);
  return r;
}

bool printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

token_answer refused(std::string error, std::string message) {
  token_answer a;
  a.error = std::move(error);
  a.message = std::move(message);
  return a;
}

}  // namespace

std::string form_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string base64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string make_verifier() {
  return random_text(32);
}

std::string make_state() {
  return random_text(16);
}

std::string challenge_s256(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return base64url(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

endpoints endpoints_for(const integration_config& c) {
  endpoints e;
  auto* flow = oauth_flow_of(c);
  if (!flow) return e;
  auto setting = [&](const char* key) {
    return c.settings.is_object() && c.settings.contains(key) && c.settings[key].is_string()
               ? c.settings[key].get<std::string>()
               : std::string();
  };
  auto base = setting("auth_base_url");
  while (!base.empty() && base.back() == '/') base.pop_back();
  e.authorize_url = base.empty() ? flow->authorize_url : base + flow->authorize_path;
  e.token_url = base.empty() ? flow->token_url : base + flow->token_path;
  e.revoke_url = base.empty() ? flow->revoke_url : base + flow->revoke_path;
  e.client_id = setting("client_id");
  e.client_secret = setting("client_secret");
  e.scopes = flow->scopes;
  e.client_credentials = flow->client_credentials;
  return e;
}

std::string authorize_url(const endpoints& e, const authorize_params& p) {
  auto url = e.authorize_url;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "response_type=code&client_id=" + form_encode(e.client_id) +
         "&redirect_uri=" + form_encode(p.redirect_uri);
  if (!e.scopes.empty()) url += "&scope=" + form_encode(e.scopes);
  url += "&state=" + form_encode(p.state);
  url += "&code_challenge=" + form_encode(p.challenge) + "&code_challenge_method=S256";
  return url;
}

http_request code_request(const endpoints& e, const std::string& code,
                          const std::string& redirect_uri, const std::string& verifier) {
  return token_post(e, "grant_type=authorization_code&code=" + form_encode(code) +
                           "&redirect_uri=" + form_encode(redirect_uri) +
                           "&code_verifier=" + form_encode(verifier));
}

http_request refresh_request(const endpoints& e, const std::string& refresh_token) {
  return token_post(e, "grant_type=refresh_token&refresh_token=" + form_encode(refresh_token));
}

http_request client_credentials_request(const endpoints& e) {
  auto form = std::string("grant_type=client_credentials");
  if (!e.scopes.empty()) form += "&scope=" + form_encode(e.scopes);
  return token_post(e, form);
}

bool token_answer::grant_refused() const {
  // invalid_client and unauthorized_client are refusals of the sign-in as configured, which a
  // retry cannot change either.
  return error == "invalid_grant" || error == "invalid_client" || error == "unauthorized_client";
}

token_answer parse_token_response(const http_response& r) {
  if (r.status == 0)
    return refused("transport", "no answer from the token endpoint: " + r.error.message);
  if (r.body.size() > static_cast<size_t>(max_token_body))
    return refused("invalid_response", "the token endpoint's answer is too large");
  auto j = json::parse(r.body, nullptr, false);
  if (r.status < 200 || r.status >= 300) {
    // RFC 6749 5.2: {"error": CODE, "error_description": TEXT}; the text is the vendor's, so it
    // is bounded and kept to one line.
    std::string code = "http_" + std::to_string(r.status), text;
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      auto c = j["error"].get<std::string>();
      if (!c.empty() && c.size() <= 64 && printable(c)) code = c;
    }
    if (j.is_object() && j.contains("error_description") && j["error_description"].is_string())
      text = j["error_description"].get<std::string>().substr(0, 200);
    for (auto& c : text)
      if (c == '\r' || c == '\n') c = ' ';
    return refused(code, "the token endpoint refused (HTTP " + std::to_string(r.status) + " " +
                             code + (text.empty() ? "" : ": " + text) + ")");
  }
  if (!j.is_object()) return refused("invalid_response", "the token answer is not a JSON object");
  token_answer a;
  auto text_field = [&](const char* key, std::string& out, bool required) -> bool {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) a = refused("invalid_response", std::string("the token answer has no ") + key);
      return !required;
    }
    if (!it->is_string() || it->get<std::string>().empty() ||
        it->get<std::string>().size() > max_token_size || !printable(it->get<std::string>())) {
      a = refused("invalid_response", std::string("the token answer's ") + key +
                                          " is not a token (a string of at most 8192 visible "
                                          "characters)");
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  std::string access, refresh;
  if (!text_field("access_token", access, true) || !text_field("refresh_token", refresh, false))
    return a;
  if (auto t = j.find("token_type"); t != j.end()) {
    // RFC 6749 7.1: a type we cannot use is a token we must not send.
    if (!t->is_string() || (t->get<std::string>() != "Bearer" && t->get<std::string>() != "bearer"))
      return refused("invalid_response", "the token answer's token_type is not Bearer");
  }
  int64_t expires = 0;
  if (auto e = j.find("expires_in"); e != j.end() && !e->is_null()) {
    // Some servers send the number as a string ("3600").
    if (e->is_number_integer() && !e->is_number_unsigned())
      expires = e->get<int64_t>();
    else if (e->is_number_unsigned() && e->get<uint64_t>() < (1ull << 40))
      expires = static_cast<int64_t>(e->get<uint64_t>());
    else if (e->is_string() && !e->get<std::string>().empty() &&
             e->get<std::string>().size() < 12 &&
             e->get<std::string>().find_first_not_of("0123456789") == std::string::npos)
      expires = std::stoll(e->get<std::string>());
    else
      return refused("invalid_response", "the token answer's expires_in is not a whole number");
    if (expires <= 0 || expires > 10LL * 365 * 86400)
      return refused("invalid_response", "the token answer's expires_in is out of range");
  }
  if (auto s = j.find("scope"); s != j.end() && s->is_string())
    a.scope = s->get<std::string>().substr(0, 2000);
  a.access_token = std::move(access);
  a.refresh_token = std::move(refresh);
  a.expires_in_s = expires;
  return a;
}

}  // namespace ledgersync::oauth
