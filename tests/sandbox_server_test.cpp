// The server routes each vendor prefix to its handler and the vendor controls to the vendor's
// collections, over real loopback HTTP, while /v1 keeps its generic shape.
#include "sandbox/sandbox_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using nlohmann::json;
namespace http = boost::beast::http;

namespace {

http::response<http::string_body> call(
    uint16_t port, http::verb verb, const std::string& target,
    std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = "") {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.body() = std::move(body);
  req.prepare_payload();
  http::write(sock, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  return res;
}

}  // namespace

TEST_CASE("the sandbox server serves Xero, Stripe and OAuth at their prefixes",
          "[sandbox][server]") {
  ledgersync::sandbox::server_options o;
  o.records = 20;
  ledgersync::sandbox::server s(o);
  std::string error;
  uint16_t port = s.start(error);
  REQUIRE(port != 0);

  auto token = call(port, http::verb::post, "/oauth/token", {},
                    "grant_type=client_credentials&client_id=xero-sandbox"
                    "&client_secret=xero-sandbox-secret");
  REQUIRE(token.result_int() == 200);
  std::string at = json::parse(token.body())["access_token"];
  std::string tenant =
      json::parse(call(port, http::verb::get, "/_sandbox/xero/tenant").body())["tenant_id"];
  auto inv = call(port, http::verb::get, "/xero/api.xro/2.0/Invoices?pageSize=5",
                  {{"Authorization", "Bearer " + at}, {"xero-tenant-id", tenant}});
  REQUIRE(inv.result_int() == 200);
  CHECK(json::parse(inv.body())["pagination"]["itemCount"] == 20);
  CHECK(inv["X-MinLimit-Remaining"] == "59");

  auto changed = call(port, http::verb::post, "/_sandbox/mutate?stream=stripe/customers&count=2");
  CHECK(json::parse(changed.body())["changed"] == 2);
  CHECK(call(port, http::verb::post, "/_sandbox/mutate?stream=qbo/Invoice").result_int() == 400);
  CHECK(call(port, http::verb::get, "/sage/v3.1/contacts").result_int() == 401);
  // Raw brackets, as Stripe's clients send them.
  auto events = call(port, http::verb::get, "/stripe/v1/events?types[]=customer.updated",
                     {{"Authorization", "Bearer sk_test_sandbox"}});
  REQUIRE(events.result_int() == 200);
  CHECK(json::parse(events.body())["data"].size() == 2);

  auto generic = call(port, http::verb::get, "/v1/customers?limit=3",
                      {{"Authorization", "Bearer sk_test_sandbox"}});
  REQUIRE(generic.result_int() == 200);
  CHECK(json::parse(generic.body())["data"][0]["id"] == "cus_00000001");
  s.stop();
}
