// TLS: what a certificate failure tells the user, which settings are refused, and what `show`
// says about a client certificate. The handshakes themselves are tested in tests/tls.sh.
#include "connectors/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/render.hpp"
#include "config/integration_config.hpp"
#include "core/status_model.hpp"
#include "tests/test_certs.hpp"

using namespace ledgersync;
using nlohmann::json;
using namespace ledgersync::testing;

namespace {

tls_failure seen(int verify_error) {
  tls_failure f;
  f.verify_error = verify_error;
  f.cert = {"CN=erp.local", "CN=Firm Root CA", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z", 0};
  f.name = "erp.local";
  f.where = "TLS handshake with https://erp.local:443";
  return f;
}

integration_config with_tls() {
  integration_config c;
  c.name = "bank";
  c.base_url = "https://bank.example";
  c.streams = default_rest_streams();
  c.tls = {kCert, kCert, kKey, "api.bank.example"};
  return c;
}

}  // namespace

TEST_CASE("tls is its own category: Disconnected, never retried, hint per cause") {
  CHECK(category_name(error_category::tls) == "tls");
  CHECK(category_from_name("tls") == error_category::tls);
  CHECK(category_disconnects(error_category::tls));
  CHECK_FALSE(category_retryable(error_category::tls));
  auto e = make_error_info(error_category::tls, "x", true);
  CHECK(e.hint() == category_hint(error_category::tls));
  e.specific_hint = "do this";
  CHECK(e.hint() == "do this");
  CHECK_FALSE(e.retryable());
}

TEST_CASE("the precise hint survives in the stored status") {
  status_facts f;
  f.last_error = make_error_info(error_category::tls, "expired", true);
  f.last_error.specific_hint = "renew it";
  auto back = status_facts::from_json(f.to_json());
  CHECK(back.last_error.category == error_category::tls);
  CHECK(back.last_error.hint() == "renew it");
}

TEST_CASE("an untrusted issuer asks for the CA in the TLS settings") {
  for (int code : {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                   X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT}) {
    auto e = classify_tls_failure(seen(code));
    REQUIRE(e);
    CHECK(e->category == error_category::tls);
    CHECK(e->transport);
    CHECK(e->message.find("issued by 'CN=Firm Root CA'") != std::string::npos);
    CHECK(e->hint().find("add the server's CA to the integration's TLS settings") == 0);
  }
}

TEST_CASE("a name mismatch names the name and the way to set it") {
  auto e = classify_tls_failure(seen(X509_V_ERR_HOSTNAME_MISMATCH));
  REQUIRE(e);
  CHECK(e->message.find("not valid for the name 'erp.local'") != std::string::npos);
  CHECK(e->hint().find("TLS server name") != std::string::npos);
  CHECK(e->settings_to_fix() == std::vector<std::string>{"base_url", "tls_server_name"});
  CHECK(e->hint().find("ledgersync") == std::string::npos);  // no surface's wording
}

TEST_CASE("expired and not yet valid certificates give their dates") {
  auto e = classify_tls_failure(seen(X509_V_ERR_CERT_HAS_EXPIRED));
  REQUIRE(e);
  CHECK(e->message.find("expired on 2021-01-01T00:00:00Z (valid from 2020-01-01T00:00:00Z") !=
        std::string::npos);
  CHECK(e->hint().find("expired on 2021-01-01T00:00:00Z") != std::string::npos);
  e = classify_tls_failure(seen(X509_V_ERR_CERT_NOT_YET_VALID));
  REQUIRE(e);
  CHECK(e->message.find("not valid before 2020-01-01T00:00:00Z") != std::string::npos);
  CHECK(e->hint().find("clock") != std::string::npos);
  auto ca = seen(X509_V_ERR_CERT_HAS_EXPIRED);
  ca.depth = 1;
  CHECK(classify_tls_failure(ca)->message.find("a CA certificate in its chain") !=
        std::string::npos);
}

TEST_CASE("a client certificate missing or refused") {
  tls_failure f;
  f.alert_reason = SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
  auto e = classify_tls_failure(f);
  REQUIRE(e);
  CHECK(e->message.find("requires a client certificate and none is configured") !=
        std::string::npos);
  CHECK(e->settings_to_fix() == std::vector<std::string>{"tls_client_cert_pem", "tls_client_key"});

  f.alert_reason = SSL_R_TLSV1_ALERT_UNKNOWN_CA;
  f.client_cert_configured = true;
  e = classify_tls_failure(f);
  REQUIRE(e);
  CHECK(e->message.find("refused the client certificate") != std::string::npos);

  // TLS 1.3: the alert is lost to the reset; the server's request for a certificate tells.
  tls_failure lost;
  lost.cert_requested = lost.closed_after_handshake = lost.client_cert_configured = true;
  e = classify_tls_failure(lost);
  REQUIRE(e);
  CHECK(e->message.find("refused the client certificate") != std::string::npos);
}

TEST_CASE("failures that are not about certificates are left to the other categories") {
  CHECK_FALSE(classify_tls_failure(tls_failure{}));
  tls_failure reset;
  reset.closed_after_handshake = true;  // no certificate was asked for: an ordinary reset
  CHECK_FALSE(classify_tls_failure(reset));
  tls_failure wrong_version;
  wrong_version.alert_reason = SSL_R_WRONG_VERSION_NUMBER;
  CHECK_FALSE(classify_tls_failure(wrong_version));
}

TEST_CASE("TLS settings are checked at save") {
  CHECK(check_tls_options({}).empty());
  CHECK(check_tls_options({kCert, kCert, kKey, "api.example"}).empty());
  CHECK(check_tls_options({"junk", "", "", ""}).find("TLS CA bundle") == 0);
  CHECK(check_tls_options({"", kCert, "", ""}).find("needs its private key") != std::string::npos);
  CHECK(check_tls_options({"", "", kKey, ""}).find("needs its client certificate") !=
        std::string::npos);
  CHECK(check_tls_options({"", kCert, kOtherKey, ""}).find("does not belong") != std::string::npos);
  CHECK(check_tls_options({"", kCert, "junk", ""}).find("TLS client key") == 0);
  CHECK(check_tls_options({"", "", "", "a b"}).find("not a host name") != std::string::npos);
  auto c = with_tls();
  CHECK(validate(c).empty());
  c.base_url = "http://bank.example";
  CHECK(validate(c) == "TLS settings apply only to an https base URL");
}

TEST_CASE("the client key is kept with the settings but never shown") {
  auto c = with_tls();
  std::string err;
  auto back = config_from_json(to_json(c, true), err);
  REQUIRE(back);
  CHECK(back->tls == c.tls);
  auto shown = to_json(c, false);
  CHECK_FALSE(shown.contains("tls_client_key"));
  CHECK(shown["tls_client_key_hint"] == "(set, sealed)");
  CHECK(shown.dump().find("PRIVATE KEY") == std::string::npos);
  CHECK(config_from_json(shown, err));  // a shown config reads back (without the key)
  CHECK_FALSE(to_json(integration_config{}, false).contains("tls_ca_pem"));
}

TEST_CASE("show warns when the client certificate expires within 30 days") {
  std::string err;
  auto cert = read_certificate(kCert, err);
  REQUIRE(cert);
  CHECK(cert->subject == "CN=unit-client");
  CHECK(cert->not_after == "2036-11-22T16:33:15Z");
  auto shown = to_json(with_tls(), false);
  auto render = [&](int64_t days_left) {
    std::ostringstream out;
    cli::render_env env{
        sys_ms(std::chrono::milliseconds(cert->not_after_ms - days_left * 86400 * 1000)), nullptr};
    cli::write_tls_settings(out, shown, env);
    return out.str();
  };
  CHECK(render(60).find("warning") == std::string::npos);
  CHECK(render(60).find("TLS client cert:      CN=unit-client, expires 2036-11-22") !=
        std::string::npos);
  CHECK(render(10).find("warning: the TLS client certificate expires on 2036-11-22T16:33:15Z "
                        "(in 10 days)") != std::string::npos);
  CHECK(render(-1).find("expired on 2036-11-22T16:33:15Z") != std::string::npos);
  CHECK(render(10).find("PRIVATE KEY") == std::string::npos);
}
