// The sandbox's OAuth server in virtual time: PKCE, client credentials, rotation with a grace
// period, expiry, revocation and the fail-next-refresh switch; handlers called directly.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sandbox/vendor_oauth.hpp"

using namespace ledgersync::sandbox;
using nlohmann::json;

namespace {

struct oauth_world {
  int64_t now = 1'790'000'000'000;
  oauth_server auth{oauth_options::defaults(), [this] { return now; }};

  vendor_response post(const std::string& path, const std::string& form,
                       const std::string& basic = "") {
    vendor_request r;
    r.method = "POST";
    r.path = path;
    r.body = form;
    if (!basic.empty()) r.headers["authorization"] = "Basic " + basic;
    return auth.handle(r);
  }
  vendor_response authorize(const std::string& target) {
    vendor_request r;
    REQUIRE(make_request("GET", target, r));
    return auth.handle(r);
  }
  // Client credentials of xero-sandbox in the form.
  static std::string creds() { return "&client_id=xero-sandbox&client_secret=xero-sandbox-secret"; }
  std::string refresh(const std::string& rt) {
    return post("/oauth/token", "grant_type=refresh_token&refresh_token=" + rt + creds()).body;
  }
};

std::string code_from(const std::string& location) {
  auto at = location.find("code=");
  REQUIRE(at != std::string::npos);
  return location.substr(at + 5, location.find('&', at) - at - 5);
}

}  // namespace

TEST_CASE("PKCE S256: the right verifier gets tokens, a wrong one is invalid_grant",
          "[sandbox][oauth]") {
  oauth_world w;
  // RFC 7636 appendix B's example.
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  REQUIRE(pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  auto ask =
      "/oauth/authorize?response_type=code&client_id=xero-pkce"
      "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb&state=xyz"
      "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
      "&code_challenge_method=S256";
  auto a = w.authorize(ask);
  REQUIRE(a.status == 302);
  CHECK(a.header("Location").rfind("http://127.0.0.1:5000/cb?code=", 0) == 0);
  CHECK(a.header("Location").find("state=xyz") != std::string::npos);

  auto bad = w.post("/oauth/token", "grant_type=authorization_code&client_id=xero-pkce&code=" +
                                        code_from(a.header("Location")) +
                                        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb"
                                        "&code_verifier=wrong-verifier-wrong-verifier-wrong-verif");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["error"] == "invalid_grant");

  auto code = code_from(w.authorize(ask).header("Location"));
  auto good =
      w.post("/oauth/token", "grant_type=authorization_code&client_id=xero-pkce&code=" + code +
                                 "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb"
                                 "&code_verifier=" +
                                 verifier);
  REQUIRE(good.status == 200);
  auto j = json::parse(good.body);
  CHECK(j["token_type"] == "Bearer");
  CHECK(j["expires_in"] == 1800);
  CHECK(j["refresh_token"].is_string());
  CHECK(w.auth.check_access(j["access_token"]) == oauth_server::token_state::valid);
  // A code is single-use.
  auto again =
      w.post("/oauth/token", "grant_type=authorization_code&client_id=xero-pkce&code=" + code +
                                 "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb"
                                 "&code_verifier=" +
                                 verifier);
  CHECK(json::parse(again.body)["error"] == "invalid_grant");
}

TEST_CASE("authorize refuses unknown clients and non-loopback redirects without redirecting",
          "[sandbox][oauth]") {
  oauth_world w;
  auto a = w.authorize(
      "/oauth/authorize?response_type=code&client_id=nobody"
      "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb");
  CHECK(a.status == 400);
  auto b = w.authorize(
      "/oauth/authorize?response_type=code&client_id=xero-sandbox"
      "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb");
  CHECK(b.status == 400);
  CHECK(b.header("Location").empty());
}

TEST_CASE("client credentials: Basic auth, a wrong secret is invalid_client, tokens expire",
          "[sandbox][oauth]") {
  oauth_world w;
  // base64("xero-sandbox:xero-sandbox-secret")
  auto r = w.post("/oauth/token", "grant_type=client_credentials",
                  "eGVyby1zYW5kYm94Onhlcm8tc2FuZGJveC1zZWNyZXQ=");
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK_FALSE(j.contains("refresh_token"));
  std::string at = j["access_token"];
  w.now += 1799'000;
  CHECK(w.auth.check_access(at) == oauth_server::token_state::valid);
  w.now += 1'000;
  CHECK(w.auth.check_access(at) == oauth_server::token_state::expired);

  auto wrong = w.post("/oauth/token",
                      "grant_type=client_credentials&client_id=xero-sandbox&client_secret=nope");
  CHECK(wrong.status == 401);
  CHECK(json::parse(wrong.body)["error"] == "invalid_client");
  auto odd = w.post("/oauth/token", "grant_type=password" + oauth_world::creds());
  CHECK(json::parse(odd.body)["error"] == "unsupported_grant_type");
}

TEST_CASE("refresh tokens rotate; the old one works for the grace period, then invalid_grant",
          "[sandbox][oauth]") {
  oauth_world w;
  auto cc = [&] {
    auto a = w.authorize(
        "/oauth/authorize?response_type=code&client_id=xero-sandbox"
        "&redirect_uri=http%3A%2F%2Flocalhost%3A7000%2F");
    return json::parse(
        w.post("/oauth/token",
               "grant_type=authorization_code&code=" + code_from(a.header("Location")) +
                   "&redirect_uri=http%3A%2F%2Flocalhost%3A7000%2F" + oauth_world::creds())
            .body);
  }();
  std::string rt1 = cc["refresh_token"];
  auto r2 = json::parse(w.refresh(rt1));
  std::string rt2 = r2["refresh_token"];
  CHECK(rt2 != rt1);
  w.now += 29 * 60'000;
  CHECK(json::parse(w.refresh(rt1)).contains("access_token"));  // within Xero's 30 minutes
  w.now += 60'000;
  CHECK(json::parse(w.refresh(rt1))["error"] == "invalid_grant");
  auto r3 = json::parse(w.refresh(rt2));
  REQUIRE(r3.contains("refresh_token"));

  w.auth.fail_next_refresh();
  CHECK(json::parse(w.refresh(r3["refresh_token"]))["error"] == "invalid_grant");
  auto r4 = json::parse(w.refresh(r3["refresh_token"]));  // the switch fires once
  REQUIRE(r4.contains("access_token"));

  // Revocation ends the grant: its refresh tokens and the access tokens they led to.
  CHECK(w.post("/oauth/revoke", "token=" + r4["refresh_token"].get<std::string>()).status == 200);
  CHECK(json::parse(w.refresh(r4["refresh_token"]))["error"] == "invalid_grant");
  CHECK(w.auth.check_access(r4["access_token"]) == oauth_server::token_state::revoked);
}

TEST_CASE("per-vendor lifetimes: Sage's refresh tokens are single-use", "[sandbox][oauth]") {
  oauth_world w;
  auto creds = std::string("&client_id=sage-sandbox&client_secret=sage-sandbox-secret");
  auto a = w.authorize(
      "/oauth/authorize?response_type=code&client_id=sage-sandbox"
      "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F");
  auto t =
      json::parse(w.post("/oauth/token",
                         "grant_type=authorization_code&code=" + code_from(a.header("Location")) +
                             "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F" + creds)
                      .body);
  CHECK(t["expires_in"] == 300);
  auto form =
      "grant_type=refresh_token&refresh_token=" + t["refresh_token"].get<std::string>() + creds;
  CHECK(w.post("/oauth/token", form).status == 200);
  CHECK(json::parse(w.post("/oauth/token", form).body)["error"] == "invalid_grant");
}

TEST_CASE("the test switches: every access token expires; every grant is revoked",
          "[sandbox][oauth]") {
  oauth_world w;
  auto a = w.authorize(
      "/oauth/authorize?response_type=code&client_id=xero-sandbox"
      "&redirect_uri=http%3A%2F%2Flocalhost%3A7000%2F");
  auto t = json::parse(
      w.post("/oauth/token",
             "grant_type=authorization_code&code=" + code_from(a.header("Location")) +
                 "&redirect_uri=http%3A%2F%2Flocalhost%3A7000%2F" + oauth_world::creds())
          .body);
  std::string at = t["access_token"], rt = t["refresh_token"];
  REQUIRE(w.auth.check_access(at) == oauth_server::token_state::valid);
  w.auth.expire_access_tokens();
  CHECK(w.auth.check_access(at) == oauth_server::token_state::expired);
  auto r = json::parse(w.refresh(rt));  // the grant itself still stands
  REQUIRE(r.contains("access_token"));
  w.auth.revoke_all();
  CHECK(json::parse(w.refresh(r["refresh_token"]))["error"] == "invalid_grant");
  CHECK(w.auth.check_access(r["access_token"]) == oauth_server::token_state::revoked);
}
