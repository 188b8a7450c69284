// TLS seen from the integration actor: a certificate failure disconnects without retries and
// keeps its precise hint; new TLS settings get a transport of their own; the client key is
// sealed in the stored document.
#include "tests/actor_world.hpp"
#include "tests/test_certs.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;

TEST_CASE("a refused certificate disconnects, is not retried, and new TLS settings apply") {
  world w;
  std::vector<tls_options> made;
  w.ctx->make_transport = [&made, t = w.transport](const tls_options& o) {
    made.push_back(o);
    return t;
  };
  w.start();
  http_response refused;
  refused.error = make_error_info(error_category::tls, "the server's certificate is untrusted", true);
  refused.error.specific_hint = "add the server's CA to the integration's TLS settings";
  w.transport->scripted.push_back(refused);
  w.add("bank");
  w.settle();
  auto s = w.status("bank");
  CHECK(s["status"] == "disconnected");
  CHECK(s["last_error"]["category"] == "tls");
  CHECK(s["last_error"]["hint"] == "add the server's CA to the integration's TLS settings");
  CHECK(w.transport->urls.size() == 1);  // not retried
  REQUIRE(made.size() == 1);
  CHECK(made[0] == tls_options{});

  auto [code, body] = w.call("configure", "bank",
                             {{"changes",
                               {{"base_url", "https://sandbox.test"},
                                {"tls_ca_pem", kCert},
                                {"tls_client_cert_pem", kCert},
                                {"tls_client_key", kKey},
                                {"tls_server_name", "api.sandbox.test"}}},
                              {"run_after_save", true}});
  CHECK(code == 0);
  w.settle();
  CHECK(w.status("bank")["status"] == "active");
  REQUIRE(made.size() == 2);
  CHECK(made[1] == tls_options{kCert, kCert, kKey, "api.sandbox.test"});
  auto doc = *w.lmdb->integration_doc("bank");
  CHECK(doc.find("PRIVATE KEY") == std::string::npos);
  CHECK(doc.find("tls_client_key_sealed") != std::string::npos);

  // A change that leaves TLS alone keeps the transport (and its idle connection).
  std::tie(code, body) =
      w.call("configure", "bank", {{"changes", {{"schedule", "every 1h"}}}});
  CHECK(code == 0);
  CHECK(made.size() == 2);
  auto show = w.call("show", "bank").second;
  CHECK(show.dump().find("PRIVATE KEY") == std::string::npos);
  CHECK(show["config"]["tls_client_key_hint"] == "(set, sealed)");
}
