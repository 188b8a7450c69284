// OAuth sign-in in the integration actor (actors/integration_state.hpp): the access token a run
// sends, fetched before the run's first request and again when it is about to expire or a page
// answers 401; a refresh token the vendor rotates is stored (sealed, committed) before the new
// access token is used, so no crash can leave the store holding only a spent refresh token; and
// the `connect` operation's steps (PKCE, the code exchange, client credentials).
#include "actors/integration_state.hpp"
#include <boost/url/parse.hpp>

#include "connectors/oauth.hpp"

namespace ledgersync::integration_detail {

namespace {

// A token this close to its end is replaced before a request: a page can take a while to come
// back, and clocks differ.
constexpr int64_t expiry_margin_ms = 60'000;
// What an answer without expires_in is assumed to last (the shortest of the vendors': Sage).
constexpr int64_t default_life_s = 300;
// How long a begun sign-in waits for its code (Xero's codes last 5 min; the user is slower).
constexpr int64_t sign_in_ttl_ms = 10 * 60'000;

std::string refresh_token_of(const integration_config& c) {
  return c.settings.is_object() && c.settings.contains("refresh_token") &&
                 c.settings["refresh_token"].is_string()
             ? c.settings["refresh_token"].get<std::string>()
             : std::string();
}

error_info connect_again(const std::string& message) {
  auto e = make_error_info(error_category::auth, message);
  e.specific_hint =
      "the vendor no longer accepts this integration's sign-in (revoked, expired or already "
      "used) — connect again";
  e.fix_settings = {"refresh_token"};  // shown as the `connect` operation (error_json)
  return e;
}

void use_access_token(self_ptr self, const oauth::token_answer& a) {
  auto& st = self->state;
  int64_t life_ms = (a.expires_in_s ? a.expires_in_s : default_life_s) * 1000;
  st.access_token = a.access_token;
  st.access_expires_ms = now_ms(self) + life_ms;
  // A token that lives less than twice the margin is replaced at half its life, not at once
  // (which would refresh before every request, writing a rotated refresh token each time).
  st.access_margin_ms = std::min(expiry_margin_ms, life_ms / 2);
  st.cfg.api_key = a.access_token;
}

uint64_t send_token_request(self_ptr self, http_request req) {
  auto& st = self->state;
  auto id = st.next_request++;
  auto hdl = caf::actor_cast<integration_actor>(self);
  self->delayed_send(self, milliseconds(req.timeout_ms * 2 + 5000), deadline_atom::value, id);
  st.transport->fetch(std::move(req), [hdl, id](http_response resp) {
    caf::anon_send(hdl, fetched_atom::value, id, std::move(resp));
  });
  return id;
}

// Adopts a token answer: a new refresh token is written with the integration's settings (the
// config-save path: sealed, committed) and only then is the access token used. `then(ok)` runs
// after that; ok false when the refresh token could not be stored (the access token is not used).
void adopt(self_ptr self, const oauth::token_answer& a, const char* what,
           const std::string& message, std::function<void(bool)> then) {
  auto& st = self->state;
  bool rotated = !a.refresh_token.empty() && a.refresh_token != refresh_token_of(st.cfg);
  if (!rotated) {
    use_access_token(self, a);
    return then(true);
  }
  if (!st.cfg.settings.is_object()) st.cfg.settings = json::object();
  st.spent_refresh_token = refresh_token_of(st.cfg);
  st.cfg.settings["refresh_token"] = a.refresh_token;
  write_batch b;
  b.integration_doc = doc_of(self);
  b.log_events.push_back(event(self, "info", what, message).dump());
  write(
      self, std::move(b),
      [self, a, then](const batch_result&) {
        use_access_token(self, a);
        then(true);
      },
      [then](const caf::error&) { then(false); });
}

void on_run_token(self_ptr self, const http_response& resp) {
  auto& st = self->state;
  auto& r = *st.run;
  auto a = oauth::parse_token_response(resp);
  if (!a.ok()) {
    r.request_id = 0;
    if (a.grant_refused()) return fail_run(self, connect_again(a.message));
    auto e = resp.status == 0 ? resp.error : classify_response(resp, "token refresh");
    if (e.ok() || e.category == error_category::auth)  // a 2xx that is no token, an odd 401
      e = make_error_info(error_category::upstream, a.message);
    e.message = a.message;
    return on_page_error(self, e);  // a retry comes back through fetch_page, to the token
  }
  r.adopting_token = true;
  auto run_id = r.id, id = r.request_id;
  adopt(self, a, "token_refreshed", "signed in again: the rotated refresh token is stored",
        [self, run_id, id](bool ok) {
          auto& st = self->state;
          if (!st.run || st.run->id != run_id) return;
          auto& r = *st.run;
          r.adopting_token = false;
          if (r.request_id == id) r.request_id = 0;
          if (!ok)
            return fail_run(self, make_error_info(error_category::storage,
                                                  "the vendor's new refresh token could not be "
                                                  "stored; the run stops before using it"));
          if (!r.error.ok() || r.cancelled) return maybe_finish(self);
          fetch_page(self);
        });
}

caf::typed_response_promise<std::string> answer(self_ptr self, json j) {
  auto rp = self->make_response_promise<std::string>();
  rp.deliver(j.dump());
  return rp;
}

json refusal(const std::string& error, const std::string& hint = "") {
  json j{{"error", error}};
  if (!hint.empty()) j["hint"] = hint;
  return j;
}

// Parsed, not compared as text: "http://127.0.0.1:1@evil.example/cb" is a URL of evil.example
// whose userinfo happens to read like a loopback address.
bool loopback_redirect(const std::string& uri) {
  auto u = boost::urls::parse_uri(uri);
  if (!u || u->scheme() != "http" || u->has_userinfo() || !u->has_port() || u->port().empty())
    return false;
  auto host = std::string(u->encoded_host_address());
  return host == "127.0.0.1" || host == "::1" || host == "localhost";
}

}  // namespace

bool needs_token(self_ptr self) {
  auto& st = self->state;
  if (!uses_oauth(st.cfg)) return false;
  return st.access_token.empty() || now_ms(self) + st.access_margin_ms >= st.access_expires_ms;
}

void request_token(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  auto e = oauth::endpoints_for(st.cfg);
  auto refresh = refresh_token_of(st.cfg);
  http_request req;
  bool by_client = st.cfg.settings.value("grant", "") == "client_credentials";
  if (by_client && e.client_credentials && !e.client_secret.empty())
    req = oauth::client_credentials_request(e);
  else if (!by_client && !refresh.empty())
    req = oauth::refresh_request(e, refresh);
  else
    return fail_run(self, connect_again(st.cfg.name + " is not signed in to " + st.cfg.connector +
                                        " (no refresh token)"));
  req.timeout_ms = st.cfg.request_timeout_ms;
  st.token_request = r.request_id = send_token_request(self, std::move(req));
  st.token_requests.insert(st.token_request);
}

bool reauthorize(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.run;
  if (!uses_oauth(st.cfg) || r.reauthorized) return false;
  r.reauthorized = true;
  st.access_token.clear();  // revoked or expired early: fetch_page gets another
  st.cfg.api_key.clear();
  fetch_page(self);
  return true;
}

void carry_access_token(self_ptr self, const integration_config& before) {
  auto& st = self->state;
  if (!uses_oauth(st.cfg)) return;
  auto same = [&](const char* key) {
    auto get = [key](const integration_config& c) {
      return c.settings.is_object() ? c.settings.value(key, json()) : json();
    };
    return get(before) == get(st.cfg);
  };
  // A new sign-in, client or endpoint makes the token one of another grant.
  if (before.connector != st.cfg.connector || !same("refresh_token") || !same("client_id") ||
      !same("auth_base_url") || !same("client_secret") || !same("grant")) {
    st.access_token.clear();
    st.access_expires_ms = 0;
  }
  st.cfg.api_key = st.access_token;
}

void send_probe(self_ptr self, caf::typed_response_promise<std::string> rp) {
  auto& st = self->state;
  auto req = st.conn->probe_request(st.cfg.streams.front());
  auto id = st.next_request++;
  st.probes.emplace(id, rp);
  auto hdl = caf::actor_cast<integration_actor>(self);
  self->delayed_send(self, milliseconds(req.timeout_ms + 5000), deadline_atom::value, id);
  st.transport->fetch(std::move(req), [hdl, id](http_response resp) {
    caf::anon_send(hdl, fetched_atom::value, id, std::move(resp));
  });
}

void test_after_token(self_ptr self, caf::typed_response_promise<std::string> rp) {
  auto& st = self->state;
  auto e = oauth::endpoints_for(st.cfg);
  auto refresh = refresh_token_of(st.cfg);
  bool by_client = st.cfg.settings.value("grant", "") == "client_credentials";
  http_request req;
  if (by_client && e.client_credentials && !e.client_secret.empty()) {
    req = oauth::client_credentials_request(e);
  } else if (!by_client && !refresh.empty()) {
    req = oauth::refresh_request(e, refresh);
  } else {
    auto out = error_json(connect_again(st.cfg.name + " is not signed in to " + st.cfg.connector +
                                        " (no refresh token)"));
    out["ok"] = false;
    rp.deliver(out.dump());
    return;
  }
  req.timeout_ms = st.cfg.request_timeout_ms;
  st.probe_tokens.emplace(send_token_request(self, std::move(req)), rp);
}

bool on_token_fetched(self_ptr self, uint64_t id, const http_response& resp) {
  auto& st = self->state;
  if (auto t = st.probe_tokens.find(id); t != st.probe_tokens.end()) {
    auto rp = t->second;
    st.probe_tokens.erase(t);
    auto a = oauth::parse_token_response(resp);
    if (!a.ok()) {
      auto err = a.grant_refused() ? connect_again(a.message)
                                   : make_error_info(error_category::auth,
                                                     "the token endpoint: " + a.message);
      auto out = error_json(err);
      out["ok"] = false;
      out["status"] = resp.status;
      rp.deliver(out.dump());
      return true;
    }
    // A rotated refresh token is stored before the new access token is used, as in a run.
    adopt(self, a, "token_refreshed", "signed in again for a connection test",
          [self, rp](bool ok) mutable {
            if (ok) return send_probe(self, rp);
            auto out = error_json(make_error_info(error_category::storage,
                                                  "the vendor's new refresh token could not be "
                                                  "stored; the test stops before using it"));
            out["ok"] = false;
            rp.deliver(out.dump());
          });
    return true;
  }
  if (auto c = st.connects.find(id); c != st.connects.end()) {
    auto rp = c->second;
    st.connects.erase(c);
    auto a = oauth::parse_token_response(resp);
    if (!a.ok()) {
      auto out = refusal("sign-in failed: " + a.message,
                         a.grant_refused() ? "start again with `ledgersync connect " + st.cfg.name +
                                                 "`; check client_id and "
                                                 "client_secret"
                                           : "");
      out["from_vendor"] = true;
      rp.deliver(out.dump());
      return true;
    }
    bool has_refresh = !a.refresh_token.empty();
    // A new sign-in replaces the old one whole: the stored refresh token is this one's (or
    // none, for client credentials, which needs none).
    if (!st.cfg.settings.is_object()) st.cfg.settings = json::object();
    if (has_refresh)
      st.cfg.settings["refresh_token"] = a.refresh_token;
    else
      st.cfg.settings.erase("refresh_token");
    st.cfg.settings["grant"] = has_refresh ? "authorization_code" : "client_credentials";
    use_access_token(self, a);
    auto& f = st.facts;
    if (category_disconnects(f.last_error.category)) f.last_error = {};
    f.awaiting_key = false;
    f.consecutive_failures = 0;
    st.last_skip_reason.clear();
    write_batch b;
    b.integration_doc = doc_of(self);
    b.log_events.push_back(event(self, "info", "connected",
                                 has_refresh
                                     ? "signed in with OAuth; the refresh token is stored sealed"
                                     : "signed in with OAuth client credentials")
                               .dump());
    json out{{"connected", st.cfg.name},
             {"grant", has_refresh ? "authorization_code" : "client_credentials"},
             {"expires_in", a.expires_in_s ? a.expires_in_s : default_life_s}};
    if (!a.scope.empty()) out["scope"] = a.scope;
    write(
        self, std::move(b), [rp, out](const batch_result&) mutable { rp.deliver(out.dump()); },
        [rp](const caf::error& e) mutable {
          rp.deliver(
              refusal("signed in, but the refresh token could not be stored: " + caf::to_string(e))
                  .dump());
        });
    return true;
  }
  if (id == 0 || !st.token_requests.erase(id)) return false;
  if (id != st.token_request || !st.run || st.run->request_id != id) {
    // An answer no run waits for any more (it timed out, the run ended, the integration was
    // disabled): the vendor may have spent the old refresh token already, so a rotated one
    // in it is stored all the same.
    if (id == st.token_request) st.token_request = 0;
    auto a = oauth::parse_token_response(resp);
    if (a.ok())
      adopt(self, a, "token_refreshed",
            "a late token answer: its rotated refresh token is stored", [](bool) {});
    return true;
  }
  st.token_request = 0;
  on_run_token(self, resp);
  return true;
}

caf::typed_response_promise<std::string> connect_step(self_ptr self, const std::string& text) {
  auto& st = self->state;
  auto args = json::parse(text, nullptr, false);
  if (!args.is_object()) return answer(self, refusal("connect: the arguments are not JSON"));
  if (!uses_oauth(st.cfg))
    return answer(
        self,
        refusal(st.cfg.name + " (" + st.cfg.connector + ") does not sign in with OAuth",
                st.cfg.connector == "rest" ? "set settings.oauth to true (with client_id and "
                                             "auth_base_url) to sign in to a generic API"
                                           : "its API key is set with `ledgersync configure`"));
  auto e = oauth::endpoints_for(st.cfg);
  if (e.client_id.empty())
    return answer(self, refusal(st.cfg.name + " has no settings.client_id",
                                "set it with `ledgersync configure " + st.cfg.name +
                                    " --option client_id=ID` (the app's id at the vendor)"));
  auto step = args.value("step", "");
  auto now = now_ms(self);
  if (step == "begin") {
    auto redirect = args.value("redirect_uri", "");
    if (!loopback_redirect(redirect))
      return answer(self, refusal("connect: redirect_uri must be a loopback http URL "
                                  "(http://127.0.0.1:PORT/callback)"));
    st.sign_in = integration_state::pending_sign_in{oauth::make_state(), oauth::make_verifier(),
                                                    redirect, now + sign_in_ttl_ms};
    auto url = oauth::authorize_url(
        e, {redirect, st.sign_in->state, oauth::challenge_s256(st.sign_in->verifier)});
    return answer(self, {{"authorize_url", url},
                         {"state", st.sign_in->state},
                         {"redirect_uri", redirect},
                         {"expires_in", sign_in_ttl_ms / 1000}});
  }
  auto rp = self->make_response_promise<std::string>();
  http_request req;
  if (step == "finish") {
    auto pending = std::exchange(st.sign_in, std::nullopt);  // one code per sign-in
    if (!pending || now >= pending->expires_ms) {
      rp.deliver(refusal("connect: no sign-in of " + st.cfg.name + " is waiting for a code",
                         "start one with `ledgersync connect " + st.cfg.name + "`")
                     .dump());
      return rp;
    }
    if (args.value("state", "") != pending->state) {
      rp.deliver(refusal("connect: the redirect's state does not match this sign-in (a stale or "
                         "forged redirect); nothing was stored",
                         "start again with `ledgersync connect " + st.cfg.name + "`")
                     .dump());
      return rp;
    }
    req = oauth::code_request(e, args.value("code", ""), pending->redirect_uri, pending->verifier);
  } else if (step == "client_credentials") {
    if (!e.client_credentials) {
      rp.deliver(refusal(st.cfg.connector + " offers no client-credentials sign-in",
                         "sign in with a browser: `ledgersync connect " + st.cfg.name + "`")
                     .dump());
      return rp;
    }
    if (e.client_secret.empty()) {
      rp.deliver(refusal(st.cfg.name + " has no settings.client_secret, which client credentials "
                                       "need")
                     .dump());
      return rp;
    }
    req = oauth::client_credentials_request(e);
  } else {
    rp.deliver(refusal("connect: step must be begin, finish or client_credentials").dump());
    return rp;
  }
  req.timeout_ms = st.cfg.request_timeout_ms;
  st.connects.emplace(send_token_request(self, std::move(req)), rp);
  return rp;
}

}  // namespace ledgersync::integration_detail
