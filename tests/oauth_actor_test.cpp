// OAuth sign-in through the real integration actor in virtual time, against the sandbox's own
// authorization server (sandbox/vendor_oauth.hpp) on the same clock: `connect` with PKCE, the
// refresh before expiry, a rotated refresh token stored before the new access token is used (and
// kept across a crash), a 401 answered by one fresh token, a refused refresh → Disconnected.
// The generic rest kind signs in here (settings.oauth); the vendor kinds use the same code.
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "connectors/registry.hpp"
#include "sandbox/vendor_oauth.hpp"
#include "tests/actor_world.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;

namespace {

// The sandbox's OAuth server at https://auth.test/oauth/…, and the dataset at
// http://sandbox.test/…, which admits a valid access token only.
struct oauth_upstream {
  std::function<int64_t()> now = [] { return int64_t{0}; };
  sandbox::oauth_server server{sandbox::oauth_options::defaults(), [this] { return now(); }};
  sandbox::dataset data{60, 9};
  std::vector<std::string> log;  // "token:GRANT" or "page:TOKEN"
  bool hang_pages = false;
};

class oauth_transport final : public http_transport {
 public:
  explicit oauth_transport(std::shared_ptr<oauth_upstream> up) : up_(std::move(up)) {}
  void fetch(http_request req, callback done) override {
    std::string auth;
    for (auto& [k, v] : req.headers)
      if (k == "Authorization") auth = v;
    if (req.url.rfind("https://auth.test/", 0) == 0) {
      sandbox::vendor_request vr;
      sandbox::make_request(req.method, req.url.substr(std::string("https://auth.test").size()),
                            vr);
      if (!auth.empty()) vr.headers["authorization"] = auth;
      vr.body = req.body;
      for (auto& [k, v] : sandbox::parse_form(req.body))
        if (k == "grant_type") up_->log.push_back("token:" + v);
      auto out = up_->server.handle(vr);
      http_response r;
      r.status = out.status;
      r.body = out.body;
      return done(std::move(r));
    }
    up_->log.push_back("page:" + auth);
    if (up_->hang_pages) return;
    http_response r;
    if (auth.rfind("Bearer ", 0) != 0 ||
        up_->server.check_access(auth.substr(7)) != sandbox::oauth_server::token_state::valid) {
      r.status = 401;
      r.body = R"({"error":{"message":"Invalid access token"}})";
      return done(std::move(r));
    }
    sandbox::page_query q;
    long limit = 0;
    sandbox::read_list_target(req.url, q, limit);
    q.limit = static_cast<size_t>(limit);
    r.status = up_->data.page(q, r.body) ? 200 : 400;
    done(std::move(r));
  }

 private:
  std::shared_ptr<oauth_upstream> up_;
};

void use_upstream(world& w, const std::shared_ptr<oauth_upstream>& up) {
  auto t = std::make_shared<oauth_transport>(up);
  w.ctx->make_transport = [t](const tls_options&) { return t; };
  up->now = [&w] { return to_ms(w.ctx->now(w.sys->clock().now())); };
}

void add_signed_in_rest(world& w, const std::string& client = "sage-sandbox",
                        const std::string& secret = "sage-sandbox-secret") {
  integration_config c;
  c.name = "crm";
  c.connector = "rest";
  c.base_url = "http://sandbox.test";
  c.schedule = "manual";
  c.manual_burst = 20;
  c.retry.max_attempts = 3;
  c.streams = default_rest_streams();
  c.settings = {{"oauth", true},
                {"client_id", client},
                {"client_secret", secret},
                {"auth_base_url", "https://auth.test"}};
  auto [code, body] = w.call("add", "", {{"config", to_json(c, true)}});
  INFO(body.dump());
  REQUIRE(code == 0);
}

// `connect` as the CLI drives it: begin, the browser's visit to the authorize URL (the sandbox
// consents at once and redirects), finish with the redirect's code and state.
void connect_with_pkce(world& w, oauth_upstream& up) {
  auto [code, begun] = w.call(
      "connect", "crm", {{"step", "begin"}, {"redirect_uri", "http://127.0.0.1:5000/callback"}});
  INFO(begun.dump());
  REQUIRE(code == 0);
  auto url = begun["authorize_url"].get<std::string>();
  REQUIRE(url.rfind("https://auth.test/oauth/authorize?", 0) == 0);
  CHECK(url.find("code_challenge_method=S256") != std::string::npos);
  sandbox::vendor_request vr;
  REQUIRE(sandbox::make_request("GET", url.substr(std::string("https://auth.test").size()), vr));
  auto redirect = up.server.handle(vr);
  REQUIRE(redirect.status == 302);
  boost::urls::url back(redirect.header("Location"));
  auto param = [&](const char* k) { return std::string((*back.params().find(k)).value); };
  CHECK(param("state") == begun["state"]);
  auto [fin, done] = w.call(
      "connect", "crm", {{"step", "finish"}, {"code", param("code")}, {"state", param("state")}});
  INFO(done.dump());
  REQUIRE(fin == 0);
  CHECK(done["grant"] == "authorization_code");
}

json stored_config(world& w) {
  auto doc = w.lmdb->integration_doc("crm");
  REQUIRE(doc);
  return json::parse(*doc)["config"];
}

std::string stored_refresh_token(world& w) {
  auto cfg = stored_config(w);
  REQUIRE(cfg["settings_sealed"].contains("refresh_token"));
  auto text = w.box.unseal(cfg["settings_sealed"]["refresh_token"].get<std::string>());
  REQUIRE(text);
  return json::parse(*text).get<std::string>();
}

size_t count(const std::vector<std::string>& log, const std::string& prefix, size_t from = 0) {
  size_t n = 0;
  for (size_t i = from; i < log.size(); ++i) n += log[i].rfind(prefix, 0) == 0;
  return n;
}

// A restarted service: `w` (not started yet) holds what the last one stored of crm, `doc`,
// and talks to the same upstream; the access token died with the old process.
void restart_with(world& w, const std::shared_ptr<oauth_upstream>& up, const std::string& doc) {
  use_upstream(w, up);
  write_batch b;
  b.integration = "crm";
  b.integration_doc = doc;
  batch_result r;
  REQUIRE(w.lmdb->apply(b, r).ok());
  w.start();
}

}  // namespace

TEST_CASE(
    "oauth: not signed in is Disconnected with `connect` as the fix; connect with PKCE "
    "stores the refresh token sealed and never the access token") {
  world w;
  auto up = std::make_shared<oauth_upstream>();
  use_upstream(w, up);
  w.start();
  add_signed_in_rest(w);
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  auto s = w.status("crm");
  CHECK(s["status"] == "disconnected");
  CHECK(s["last_error"]["category"] == "auth");
  CHECK(s["last_error"]["hint"].get<std::string>().find("connect again") != std::string::npos);
  CHECK(s["last_error"]["action"]["op"] == "connect");
  CHECK(count(up->log, "page:") == 0);

  // A code of another sign-in (a forged or stale redirect) is refused and nothing is stored.
  w.call("connect", "crm", {{"step", "begin"}, {"redirect_uri", "http://127.0.0.1:5000/callback"}});
  auto [bad, why] = w.call("connect", "crm", {{"step", "finish"}, {"code", "x"}, {"state", "y"}});
  CHECK(bad == 1);
  CHECK(why["error"].get<std::string>().find("state does not match") != std::string::npos);
  CHECK_FALSE(stored_config(w).value("settings_sealed", json::object()).contains("refresh_token"));
  // A redirect that is not loopback is refused before anything starts.
  CHECK(w.call("connect", "crm", {{"step", "begin"}, {"redirect_uri", "https://evil.example/cb"}})
            .first == 1);
  // ...also when its userinfo reads like a loopback address.
  CHECK(w.call("connect", "crm",
               {{"step", "begin"}, {"redirect_uri", "http://127.0.0.1:1@evil.example/cb"}})
            .first == 1);

  connect_with_pkce(w, *up);
  auto doc = *w.lmdb->integration_doc("crm");
  auto refresh = stored_refresh_token(w);
  CHECK(refresh.rfind("rt_", 0) == 0);
  CHECK(doc.find(refresh) == std::string::npos);             // sealed
  CHECK_FALSE(stored_config(w).contains("api_key_sealed"));  // the access token: not at all
  CHECK_FALSE(stored_config(w).contains("api_key"));
  // Signing in is the fix: connected, waiting for its first sync (not an Error with nothing
  // to say, nor still Disconnected).
  s = w.status("crm");
  CHECK(s["last_error"].is_null());
  CHECK(s["status"] == "pending");
  CHECK(s["health"] == "unknown");
  CHECK(s["last_sync"].is_null());

  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  s = w.status("crm");
  CHECK(s["status"] == "active");
  CHECK(w.lmdb->record_counts("crm")["customers"] == 60);
  CHECK(count(up->log, "token:refresh_token") == 0);  // the sign-in's token is still fresh
  CHECK(w.call("show", "crm").second.dump().find(refresh) == std::string::npos);
}

TEST_CASE(
    "oauth: a token about to expire is refreshed before the run's first request; the "
    "rotated refresh token is stored") {
  world w;
  auto up = std::make_shared<oauth_upstream>();
  use_upstream(w, up);
  w.start();
  add_signed_in_rest(w);
  connect_with_pkce(w, *up);
  auto first = stored_refresh_token(w);
  // Sage's tokens live 5 minutes: 4.5 minutes on, one is within the margin.
  w.sched->advance_time(seconds(270));
  w.sched->run();
  auto from = up->log.size();
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  CHECK(w.status("crm")["status"] == "active");
  REQUIRE(up->log.size() > from);
  CHECK(up->log[from] == "token:refresh_token");  // before any page
  CHECK(count(up->log, "token:", from) == 1);
  auto second = stored_refresh_token(w);
  CHECK(second != first);
  // Hours later (Sage: single-use refresh tokens) the stored one still works.
  w.sched->advance_time(hours(3));
  w.sched->run();
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  CHECK(w.status("crm")["status"] == "active");
  CHECK(stored_refresh_token(w) != second);
}

TEST_CASE("oauth: the new access token is not used until the rotated refresh token is stored") {
  world w;
  auto up = std::make_shared<oauth_upstream>();
  use_upstream(w, up);
  w.start();
  add_signed_in_rest(w);
  connect_with_pkce(w, *up);
  w.sched->advance_time(minutes(10));
  w.sched->run();
  w.store->fail_once_if = [](const write_batch& b) {
    for (auto& e : b.log_events)
      if (e.find("token_refreshed") != std::string::npos) return true;
    return false;
  };
  auto from = up->log.size();
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  CHECK(count(up->log, "token:refresh_token", from) == 1);
  CHECK(count(up->log, "page:", from) == 0);
  auto s = w.status("crm");
  CHECK(s["last_error"]["category"] == "storage");
  CHECK(s["last_error"]["message"].get<std::string>().find("could not be stored") !=
        std::string::npos);
}

TEST_CASE(
    "oauth: a crash between the refresh and the use of its token loses nothing: the "
    "rotated refresh token is in the store and the next start uses it") {
  auto up = std::make_shared<oauth_upstream>();
  std::string doc;
  {
    world w;
    use_upstream(w, up);
    w.start();
    add_signed_in_rest(w);
    connect_with_pkce(w, *up);
    w.sched->advance_time(minutes(10));
    w.sched->run();
    up->hang_pages = true;  // the refresh lands; the process dies before any page comes back
    CHECK(w.call("sync", "crm").first == 0);
    w.sched->run();
    REQUIRE(count(up->log, "page:") == 1);
    doc = *w.lmdb->integration_doc("crm");
  }
  up->hang_pages = false;
  world w2;
  restart_with(w2, up, doc);
  auto from = up->log.size();
  // The access token died with the process: the stored refresh token (single-use, the one
  // before it is spent) is what signs in.
  CHECK(w2.call("sync", "crm").first == 0);
  w2.settle();
  CHECK(up->log.at(from) == "token:refresh_token");
  auto s = w2.status("crm");
  INFO(s.dump());
  CHECK(s["status"] == "active");
  CHECK(w2.lmdb->record_counts("crm")["customers"] == 60);
}

TEST_CASE(
    "oauth: a page answering 401 gets one fresh token; a refused refresh is Disconnected "
    "with the hint to connect again") {
  world w;
  auto up = std::make_shared<oauth_upstream>();
  use_upstream(w, up);
  w.start();
  add_signed_in_rest(w, "xero-sandbox", "xero-sandbox-secret");
  connect_with_pkce(w, *up);
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  REQUIRE(w.status("crm")["status"] == "active");
  // The vendor ends the access token early (revoked): the next page's 401 is answered by a
  // refresh and the page asked again.
  auto last = up->log.back();
  REQUIRE(last.rfind("page:Bearer ", 0) == 0);
  sandbox::vendor_request revoke;
  sandbox::make_request("POST", "/oauth/revoke", revoke);
  revoke.body = "token=" + last.substr(12);
  REQUIRE(up->server.handle(revoke).status == 200);
  auto from = up->log.size();
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  CHECK(w.status("crm")["status"] == "active");
  CHECK(count(up->log, "token:refresh_token", from) == 1);

  // The user revokes the grant at the vendor: the refresh is refused.
  up->server.fail_next_refresh();
  w.sched->advance_time(hours(1));
  w.sched->run();
  from = up->log.size();
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  auto s = w.status("crm");
  CHECK(s["status"] == "disconnected");
  CHECK(s["last_error"]["message"].get<std::string>().find("invalid_grant") != std::string::npos);
  CHECK(s["last_error"]["hint"].get<std::string>().find("connect again") != std::string::npos);
  CHECK(s["last_error"]["action"]["op"] == "connect");
  CHECK(count(up->log, "page:", from) == 0);
  CHECK(count(up->log, "token:", from) == 1);  // refused is final: not retried

  // Connecting again is the fix: waiting for the next sync, what it synced before still there.
  connect_with_pkce(w, *up);
  s = w.status("crm");
  CHECK(s["last_error"].is_null());
  CHECK(s["status"] == "pending");
  CHECK(s["health"] == "healthy");
  CHECK_FALSE(s["last_sync"].is_null());
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  CHECK(w.status("crm")["status"] == "active");
}

TEST_CASE("oauth: client credentials sign in with no browser and no refresh token") {
  world w;
  auto up = std::make_shared<oauth_upstream>();
  use_upstream(w, up);
  w.start();
  add_signed_in_rest(w, "xero-sandbox", "xero-sandbox-secret");
  auto [code, body] = w.call("connect", "crm", {{"step", "client_credentials"}});
  INFO(body.dump());
  REQUIRE(code == 0);
  CHECK(body["grant"] == "client_credentials");
  CHECK(w.call("show", "crm").second["config"]["settings"]["grant"] == "client_credentials");
  auto sealed = stored_config(w).value("settings_sealed", json::object());
  CHECK_FALSE(sealed.contains("refresh_token"));
  // Later runs fetch a new token the same way when the old one runs out.
  w.sched->advance_time(hours(1));
  w.sched->run();
  auto from = up->log.size();
  CHECK(w.call("sync", "crm").first == 0);
  w.settle();
  CHECK(w.status("crm")["status"] == "active");
  CHECK(up->log.at(from) == "token:client_credentials");
  // A kind without OAuth says so.
  w.add("plain", "manual", false);
  auto [c2, b2] = w.call("connect", "plain", {{"step", "client_credentials"}});
  CHECK(c2 == 1);
  CHECK(b2["error"].get<std::string>().find("does not sign in with OAuth") != std::string::npos);
}

TEST_CASE(
    "oauth: `test` of a signed-in integration without an access token signs in first (the "
    "rotated refresh token stored), and one that is not signed in says to connect") {
  auto up = std::make_shared<oauth_upstream>();
  std::string doc;
  {
    world w;
    use_upstream(w, up);
    w.start();
    add_signed_in_rest(w);
    auto [code, out] = w.call("test", "crm");
    INFO(out.dump());
    CHECK(out["ok"] == false);
    CHECK(out["action"]["op"] == "connect");
    CHECK(count(up->log, "page:") == 0);  // no probe sent without a token
    connect_with_pkce(w, *up);
    doc = *w.lmdb->integration_doc("crm");
  }
  // A restart: the access token is gone, the sealed refresh token (Sage's: single-use) is stored.
  world w2;
  restart_with(w2, up, doc);
  auto before = stored_refresh_token(w2);
  auto from = up->log.size();
  auto [code, out] = w2.call("test", "crm");
  INFO(out.dump());
  CHECK(out["ok"] == true);
  REQUIRE(up->log.size() == from + 2);
  CHECK(up->log[from] == "token:refresh_token");
  CHECK(up->log[from + 1].rfind("page:Bearer ", 0) == 0);
  CHECK(stored_refresh_token(w2) != before);  // rotated, and stored before the probe used it
}

TEST_CASE(
    "oauth: a new client_id drops the stored refresh token (connect again); other settings keep "
    "it") {
  auto up = std::make_shared<oauth_upstream>();
  world w;
  use_upstream(w, up);
  w.start();
  add_signed_in_rest(w);
  connect_with_pkce(w, *up);
  REQUIRE(!stored_refresh_token(w).empty());
  REQUIRE(
      w.call("configure", "crm", {{"changes", {{"settings", {{"grant", "authorization_code"}}}}}})
          .first == 0);
  CHECK(!stored_refresh_token(w).empty());
  REQUIRE(w.call("configure", "crm", {{"changes", {{"settings", {{"client_id", "xero-pkce"}}}}}})
              .first == 0);
  CHECK_FALSE(stored_config(w).value("settings_sealed", json::object()).contains("refresh_token"));
}
