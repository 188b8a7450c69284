// The one HTTP client on the real io_runtime: what it puts on the wire, and what it refuses to
// send or read, whatever a connector or a stored cursor asks of it.
#include "connectors/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <thread>

#include "tests/faulty_storage.hpp"

using namespace ledgersync;

TEST_CASE(
    "the HTTP client sends nothing to another origin, and reads local files only as allowed") {
  io_runtime io(1);
  auto t = io.make_transport();
  auto fetch = [&](http_request r) {
    std::promise<http_response> p;
    auto f = p.get_future();
    t->fetch(std::move(r), [&p](http_response x) { p.set_value(std::move(x)); });
    return f.get();
  };
  http_request r;
  r.url = "http://127.0.0.2:9/capture";  // nothing listens there: a refusal needs no connection
  r.allowed_origin = "http://127.0.0.1:8000";
  auto a = fetch(r);
  CHECK(a.status == 0);
  CHECK(a.error.category == error_category::config);
  CHECK(a.error.message.find("http://127.0.0.2:9") != std::string::npos);

  r = {};
  r.url = "file:///etc/hostname";  // never from an upstream: allow_file is off
  auto b = fetch(r);
  CHECK(b.error.category == error_category::config);
  CHECK(b.body.empty());

  r.allow_file = true;
  r.url = "file:///dev/zero";  // endless: not a regular file, refused before reading
  auto c = fetch(r);
  CHECK(c.error.category == error_category::config);
  CHECK(c.body.empty());

  testing::temp_dir dir;
  auto path = dir.path + "/page.json";
  { std::ofstream(path) << std::string(10000, ' ') << "[]"; }
  r.url = "file://" + path;
  r.max_body_bytes = 4096;  // the limit holds while reading
  auto d = fetch(r);
  CHECK(d.error.category == error_category::upstream);
  CHECK(d.error.permanent);
  CHECK(d.body.empty());
  r.max_body_bytes = 1 << 20;
  auto e = fetch(r);
  CHECK(e.status == 200);
  CHECK(e.body.size() == 10002);
}

namespace {
// A one-shot HTTP server on loopback that keeps the request head it receives, so a test can see
// exactly what the real transport put on the wire.
class wire_capture {
 public:
  wire_capture() {
    server_ = std::thread([this] {
      boost::asio::ip::tcp::socket sock(ioc_);
      acceptor_.accept(sock);
      boost::asio::streambuf buf;
      auto n = boost::asio::read_until(sock, buf, "\r\n\r\n");
      head_.assign(boost::asio::buffers_begin(buf.data()),
                   boost::asio::buffers_begin(buf.data()) + n);
      std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]";
      boost::asio::write(sock, boost::asio::buffer(answer));
    });
  }
  ~wire_capture() {
    if (server_.joinable()) server_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  // The request head, once the exchange is over.
  const std::string& head() {
    server_.join();
    return head_;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::string head_;
  std::thread server_;
};

std::vector<std::string> header_lines(const std::string& head, const std::string& name) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    auto end = head.find("\r\n", pos);
    auto line = head.substr(pos, end - pos);
    if (line.size() > name.size() && line.compare(0, name.size() + 1, name + ":") == 0)
      out.push_back(line);
  }
  return out;
}
}  // namespace

TEST_CASE("the Host header on the wire carries a non-default port") {
  wire_capture server;
  io_runtime rt(1);
  auto port = std::to_string(server.port());
  http_request req;
  req.url = "http://127.0.0.1:" + port + "/invoices?_page=1";
  req.timeout_ms = 10000;
  std::promise<http_response> answered;
  rt.make_transport()->fetch(req, [&](http_response r) { answered.set_value(std::move(r)); });
  auto f = answered.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(f.get().status == 200);
  auto& head = server.head();
  CHECK(head.rfind("GET /invoices?_page=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(header_lines(head, "Host") == std::vector<std::string>{"Host: 127.0.0.1:" + port});
}

TEST_CASE("the Host header leaves out only the scheme's own default port") {
  CHECK(host_header_for("http", "api.example.com", "80") == "api.example.com");
  CHECK(host_header_for("https", "api.example.com", "443") == "api.example.com");
  CHECK(host_header_for("http", "api.example.com", "443") == "api.example.com:443");
  CHECK(host_header_for("https", "api.example.com", "80") == "api.example.com:80");
  CHECK(host_header_for("http", "127.0.0.1", "3000") == "127.0.0.1:3000");
  CHECK(host_header_for("https", "[::1]", "8443") == "[::1]:8443");
}

TEST_CASE("transports with the same TLS settings share one TLS context, built when first needed") {
  io_runtime io(1);
  auto fetch = [](http_transport& t, const std::string& url) {
    std::promise<http_response> p;
    auto f = p.get_future();
    http_request r;
    r.url = url;
    r.timeout_ms = 2000;
    t.fetch(std::move(r), [&p](http_response x) { p.set_value(std::move(x)); });
    return f.get();
  };
  std::vector<std::shared_ptr<http_transport>> plain;
  for (int i = 0; i < 50; ++i) plain.push_back(io.make_transport());
  CHECK(io.tls_contexts() == 0);  // an integration that never speaks https holds none
  // Nothing listens on port 9: the context is built before the connection is refused.
  for (auto& t : plain) CHECK(fetch(*t, "https://127.0.0.1:9/").status == 0);
  CHECK(io.tls_contexts() == 1);
  tls_options bad;
  bad.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  auto own = io.make_transport(bad);
  auto refused = fetch(*own, "https://127.0.0.1:9/");
  CHECK(refused.error.category == error_category::tls);  // its own, unusable, context
  CHECK(refused.error.message.find("CA bundle is unreadable") != std::string::npos);
  CHECK(io.tls_contexts() == 2);
  plain.clear();
  own.reset();
  // Released with the last transport that held them: an exchange lets go of its transport
  // just after its callback has run, on the io thread.
  io.stop();
  CHECK(io.tls_contexts() == 0);
}
