#include "connectors/oauth.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "config/integration_config.hpp"
#include "connectors/registry.hpp"

using namespace ledgersync;

namespace {

http_response answer(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string header(const http_request& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

oauth::endpoints sandbox_endpoints(std::string secret) {
  oauth::endpoints e;
  e.authorize_url = "http://127.0.0.1:9/oauth/authorize";
  e.token_url = "http://127.0.0.1:9/oauth/token";
  e.client_id = "xero-sandbox";
  e.client_secret = std::move(secret);
  e.scopes = "offline_access accounting.transactions";
  return e;
}

}  // namespace

TEST_CASE("PKCE S256 matches RFC 7636 appendix B", "[oauth]") {
  CHECK(oauth::challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  // Appendix B's verifier is base64url of these octets.
  const unsigned char octets[] = {116, 24,  223, 180, 151, 153, 224, 37,  79,  250, 96,
                                  125, 216, 173, 187, 186, 22,  212, 37,  77,  105, 214,
                                  191, 240, 91,  88,  5,   88,  83,  132, 141, 121};
  CHECK(oauth::base64url(std::string_view(reinterpret_cast<const char*>(octets), 32)) ==
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  auto v = oauth::make_verifier();
  CHECK(v.size() == 43);
  CHECK(v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(oauth::make_verifier() != v);
  CHECK(oauth::make_state() != oauth::make_state());
}

TEST_CASE("the authorize URL carries the client, the loopback redirect, state and the challenge",
          "[oauth]") {
  auto url = oauth::authorize_url(sandbox_endpoints("s"),
                                  {"http://127.0.0.1:5555/callback", "st/+=", "E9Mel"});
  CHECK(url ==
        "http://127.0.0.1:9/oauth/authorize?response_type=code&client_id=xero-sandbox"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback"
        "&scope=offline_access+accounting.transactions&state=st%2F%2B%3D"
        "&code_challenge=E9Mel&code_challenge_method=S256");
}

TEST_CASE("token requests: bodies and client authentication", "[oauth]") {
  auto confidential = sandbox_endpoints("se cret");
  auto code = oauth::code_request(confidential, "c&1", "http://127.0.0.1:5/callback", "ver");
  CHECK(code.method == "POST");
  CHECK(code.url == "http://127.0.0.1:9/oauth/token");
  CHECK(code.body ==
        "grant_type=authorization_code&code=c%261"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcallback&code_verifier=ver");
  // base64("xero-sandbox:se+cret"): the secret is form-encoded first (RFC 6749 2.3.1).
  CHECK(header(code, "Authorization") == "Basic eGVyby1zYW5kYm94OnNlK2NyZXQ=");
  CHECK(header(code, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK(code.allowed_origin == "http://127.0.0.1:9");
  CHECK(code.max_body_bytes <= 65536);

  auto refresh = oauth::refresh_request(confidential, "rt_1");
  CHECK(refresh.body == "grant_type=refresh_token&refresh_token=rt_1");

  auto cc = oauth::client_credentials_request(confidential);
  CHECK(cc.body == "grant_type=client_credentials&scope=offline_access+accounting.transactions");

  // A public client names itself in the form and sends no secret at all.
  auto pub = oauth::refresh_request(sandbox_endpoints(""), "rt_1");
  CHECK(header(pub, "Authorization").empty());
  CHECK(pub.body == "grant_type=refresh_token&refresh_token=rt_1&client_id=xero-sandbox");
}

TEST_CASE("a token answer is read with every field checked", "[oauth]") {
  auto ok = oauth::parse_token_response(
      answer(200, R"({"access_token":"at_1","token_type":"Bearer","expires_in":1800,)"
                  R"("refresh_token":"rt_2","scope":"a b"})"));
  REQUIRE(ok.ok());
  CHECK(ok.access_token == "at_1");
  CHECK(ok.refresh_token == "rt_2");
  CHECK(ok.expires_in_s == 1800);
  CHECK(ok.scope == "a b");

  auto cc = oauth::parse_token_response(answer(200, R"({"access_token":"at","expires_in":"60"})"));
  REQUIRE(cc.ok());
  CHECK(cc.refresh_token.empty());
  CHECK(cc.expires_in_s == 60);

  auto refused = oauth::parse_token_response(
      answer(400, R"({"error":"invalid_grant","error_description":"revoked\nby user"})"));
  CHECK(refused.error == "invalid_grant");
  CHECK(refused.grant_refused());
  CHECK(refused.message.find("revoked by user") != std::string::npos);
  CHECK(oauth::parse_token_response(answer(401, R"({"error":"invalid_client"})")).grant_refused());
  auto down = oauth::parse_token_response(answer(503, "<html>busy</html>"));
  CHECK(down.error == "http_503");
  CHECK_FALSE(down.grant_refused());
}

TEST_CASE("a hostile token answer is refused in words, never used", "[oauth]") {
  auto bad = [](int status, std::string body) {
    auto a = oauth::parse_token_response(answer(status, std::move(body)));
    CHECK_FALSE(a.ok());
    CHECK(a.access_token.empty());
    return a.message;
  };
  CHECK(bad(200, "not json").find("not a JSON object") != std::string::npos);
  CHECK(bad(200, "[]").find("not a JSON object") != std::string::npos);
  CHECK(bad(200, R"({"token_type":"Bearer"})").find("no access_token") != std::string::npos);
  CHECK(bad(200, R"({"access_token":42})").find("access_token") != std::string::npos);
  CHECK(bad(200, R"({"access_token":""})").find("access_token") != std::string::npos);
  CHECK(bad(200, R"({"access_token":"a\r\nX-Evil: 1"})").find("access_token") != std::string::npos);
  CHECK(bad(200, "{\"access_token\":\"" + std::string(9000, 'a') + "\"}").find("access_token") !=
        std::string::npos);
  CHECK(bad(200, R"({"access_token":"a","refresh_token":{}})").find("refresh_token") !=
        std::string::npos);
  CHECK(bad(200, R"({"access_token":"a","token_type":"mac"})").find("token_type") !=
        std::string::npos);
  for (auto e : {"-5", "0", "1e3", "\"soon\"", "99999999999999999999", "true"})
    CHECK(bad(200, std::string(R"({"access_token":"a","expires_in":)") + e + "}")
              .find("expires_in") != std::string::npos);
  CHECK(bad(200, std::string(70000, ' ')).find("too large") != std::string::npos);
  http_response none;
  none.error.message = "connection refused";
  CHECK(oauth::parse_token_response(none).error == "transport");
  // An error code that is not a code is not repeated.
  CHECK(bad(400, R"({"error":"a\nb"})").find("http_400") != std::string::npos);
}

TEST_CASE("the registry's OAuth description: endpoints from auth_base_url, rest by its option",
          "[oauth]") {
  auto* rest = find_connector_kind("rest");
  REQUIRE(rest);
  REQUIRE(rest->oauth);
  CHECK(rest->oauth->optional);
  for (auto* key : {"client_id", "client_secret", "refresh_token", "auth_base_url", "oauth"})
    CHECK(rest->setting(key));
  CHECK(rest->setting("client_secret")->secret);
  CHECK(rest->setting("refresh_token")->secret);
  auto keys = secret_setting_keys("rest");
  CHECK(std::find(keys.begin(), keys.end(), "refresh_token") != keys.end());
  CHECK(to_json(*rest, true)["oauth"]["token_path"] == "/oauth/token");
  CHECK(to_json(*rest, false)["oauth"] == true);

  integration_config c;
  c.connector = "rest";
  c.settings = {{"auth_base_url", "http://127.0.0.1:7/"}, {"client_id", "xero-sandbox"}};
  CHECK_FALSE(uses_oauth(c));  // rest signs in only when asked to
  c.settings["oauth"] = true;
  CHECK(uses_oauth(c));
  auto e = oauth::endpoints_for(c);
  CHECK(e.token_url == "http://127.0.0.1:7/oauth/token");
  CHECK(e.authorize_url == "http://127.0.0.1:7/oauth/authorize");
  CHECK(e.client_id == "xero-sandbox");
  CHECK(e.client_credentials);

  CHECK(validate_settings(*rest, {{"oauth", true}, {"client_id", "x"}}) ==
        "settings.auth_base_url is required when settings.oauth is true");
  CHECK(validate_settings(*rest, {{"oauth", true}, {"client_id", "x"}, {"auth_base_url", "ftp:x"}})
            .find("http://") != std::string::npos);
  CHECK(validate_settings(
            *rest, {{"oauth", true}, {"client_id", "x"}, {"auth_base_url", "https://h"}}) == "");
  // The client secret and the refresh token never go in clear over a network.
  CHECK(validate_settings(*rest, {{"oauth", true},
                                  {"client_id", "x"},
                                  {"auth_base_url", "http://login.example.com"}})
            .find("must be an https:// URL") != std::string::npos);
  CHECK(validate_settings(*rest, {{"oauth", true},
                                  {"client_id", "x"},
                                  {"auth_base_url", "http://127.0.0.1:9@evil.example"}})
            .find("must be an https:// URL") != std::string::npos);
  CHECK(validate_settings(*find_connector_kind("xero"),
                          {{"tenant_id", "t"}, {"auth_base_url", "http://127.0.0.1:9"}}) == "");
}
