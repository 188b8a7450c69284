// The HTTP API server over real loopback HTTP, against a fake gateway: every route reaches the
// right operation with the right arguments and status, both roles on every route, the error
// answers, the limits and deadlines, server-sent events, long-poll and TLS.
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <future>
#include <mutex>

#include "api/http_server.hpp"
#include "api/routes.hpp"
#include "tests/test_certs.hpp"

using namespace ledgersync::api;
using json = nlohmann::json;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// Answers at once with {"op":..} unless a test installs its own answer; remembers every call.
class fake_gateway : public gateway {
 public:
  using handler = std::function<void(const op_call&, std::function<void(op_result)>)>;
  void call(const op_call& c, std::function<void(op_result)> done) override {
    handler h;
    {
      std::lock_guard lock(mu_);
      calls.push_back(c);
      h = on_call;
    }
    if (h) return h(c, std::move(done));
    done(op_result::success(json{{"op", c.op}}));
  }
  void subscribe(const principal& who, std::shared_ptr<event_sink> sink) override {
    std::lock_guard lock(mu_);
    subscriber = who;
    sinks.set_value(std::move(sink));
  }
  op_call last() {
    std::lock_guard lock(mu_);
    REQUIRE(!calls.empty());
    return calls.back();
  }
  std::mutex mu_;
  std::vector<op_call> calls;
  handler on_call;
  principal subscriber;
  std::promise<std::shared_ptr<event_sink>> sinks;
};

const std::string kAdmin = "admin-secret", kViewer = "viewer-secret";

std::optional<principal> test_auth(std::string_view bearer) {
  if (bearer == kAdmin) return principal{"alice", role::admin};
  if (bearer == kViewer) return principal{"victor", role::viewer};
  return std::nullopt;
}

struct reply {
  int status = 0;
  http::response<http::string_body> res;
  json body() const { return json::parse(res.body(), nullptr, false); }
  std::string header(http::field f) const { return std::string(res[f]); }
};

template <class Stream>
reply exchange(Stream& s, const std::string& method, const std::string& target,
               const std::string& token, const std::string& body, const std::string& ctype) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(http::field::content_type, ctype);
    req.body() = body;
  }
  req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer buf;
  reply r;
  http::read(s, buf, r.res);
  r.status = r.res.result_int();
  return r;
}

reply fetch(uint16_t port, const std::string& method, const std::string& target,
            const std::string& token = kAdmin, const std::string& body = "",
            const std::string& ctype = "application/json") {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  return exchange(s, method, target, token, body, ctype);
}

struct running {
  fake_gateway gw;
  std::unique_ptr<http_server> server;
  explicit running(server_config cfg = {}, std::map<std::string, static_file> files = {}) {
    cfg.listen = "127.0.0.1:0";
    server = std::make_unique<http_server>(cfg, gw, test_auth, std::move(files));
    std::string err;
    REQUIRE(server->start(err));
  }
  uint16_t port() const { return server->port(); }
};

// A concrete path for a route template.
std::string concrete(std::string path) {
  for (auto [from, to] : {std::pair{"{name}", "a"},
                          {"{run_id}", "1"},
                          {"{stream}", "s"},
                          {"{id}", "i"},
                          {"{kind}", "rest"}})
    if (auto at = path.find(from); at != std::string::npos) path.replace(at, strlen(from), to);
  return path;
}

}  // namespace

TEST_CASE("every route reaches its operation with the arguments and the success status") {
  running srv;
  struct row {
    std::string method, target, body, op, integration;
    json args;
    int status;
  };
  std::vector<row> rows = {
      {"GET", "/api/v1/integrations", "", "list", "", json::object(), 200},
      {"POST",
       "/api/v1/integrations",
       R"({"name":"b","base_url":"http://x"})",
       "add",
       "",
       {{"config", {{"name", "b"}, {"base_url", "http://x"}}}},
       201},
      {"GET", "/api/v1/integrations/a", "", "status", "a", json::object(), 200},
      {"PATCH",
       "/api/v1/integrations/a",
       R"({"schedule":"1h"})",
       "configure",
       "a",
       {{"changes", {{"schedule", "1h"}}}},
       200},
      {"DELETE", "/api/v1/integrations/a", "", "remove", "a", json::object(), 204},
      {"GET", "/api/v1/integrations/a/config", "", "show", "a", json::object(), 200},
      {"POST", "/api/v1/integrations/a/enable", "", "enable", "a", json::object(), 200},
      {"POST", "/api/v1/integrations/a/disable", "", "disable", "a", json::object(), 200},
      {"POST", "/api/v1/integrations/a/test", "", "test", "a", json::object(), 200},
      {"POST",
       "/api/v1/integrations/a/sync",
       R"({"full":true})",
       "sync",
       "a",
       {{"full", true}},
       202},
      {"GET", "/api/v1/integrations/a/runs?limit=5", "", "run", "a", {{"limit", 5}}, 200},
      {"GET", "/api/v1/integrations/a/runs/9", "", "run", "a", {{"run_id", 9}}, 200},
      {"GET",
       "/api/v1/integrations/a/logs?run=9&level=warn&limit=3",
       "",
       "logs",
       "a",
       {{"run_id", 9}, {"level", "warn"}, {"limit", 3}},
       200},
      {"GET", "/api/v1/integrations/a/set-aside", "", "set_aside", "a", json::object(), 200},
      {"GET", "/api/v1/connectors", "", "connectors", "", json::object(), 200},
      {"GET", "/api/v1/connectors/xero", "", "connectors", "", {{"kind", "xero"}}, 200},
      {"POST",
       "/api/v1/integrations/a/set-aside/inv/7/dismiss",
       "",
       "dismiss",
       "a",
       {{"stream", "inv"}, {"id", "7"}},
       200},
      {"GET",
       "/api/v1/integrations/a/records?stream=inv&after=inv%2Fk&limit=2",
       "",
       "records",
       "a",
       {{"stream", "inv"}, {"after", "inv/k"}, {"limit", 2}},
       200},
      {"GET",
       "/api/v1/integrations/a/records/inv/7",
       "",
       "records",
       "a",
       {{"stream", "inv"}, {"id", "7"}},
       200},
      {"GET",
       "/api/v1/changes?since=4&limit=10",
       "",
       "changes",
       "",
       {{"since", 4}, {"limit", 10}},
       200},
  };
  for (auto& r : rows) {
    INFO(r.method << " " << r.target);
    auto got = fetch(srv.port(), r.method, r.target, kAdmin, r.body);
    CHECK(got.status == r.status);
    auto c = srv.gw.last();
    CHECK(c.op == r.op);
    CHECK(c.integration == r.integration);
    CHECK(c.args == r.args);
    CHECK(c.principal.token_name == "alice");
    if (r.status == 204) {
      CHECK(got.res.body().empty());
    } else {
      CHECK(got.body() == json{{"op", r.op}});
      CHECK(got.header(http::field::content_type) == "application/json");
    }
  }

  // Joining a running sync is 200; a failure has the one error shape with its status.
  srv.gw.on_call = [](const op_call&, std::function<void(op_result)> done) {
    done(op_result::success(json{{"run_id", 3}, {"joined", true}}));
  };
  CHECK(fetch(srv.port(), "POST", "/api/v1/integrations/a/sync").status == 200);
  srv.gw.on_call = [](const op_call&, std::function<void(op_result)> done) {
    done(op_result::failure("not_found", "no integration named 'zz'", "list them with GET"));
  };
  auto missing = fetch(srv.port(), "GET", "/api/v1/integrations/zz");
  CHECK(missing.status == 404);
  CHECK(missing.body() == json{{"error",
                                {{"code", "not_found"},
                                 {"message", "no integration named 'zz'"},
                                 {"hint", "list them with GET"}}}});
}

TEST_CASE("every route: no or a wrong token is 401, a viewer changing something is 403") {
  running srv;
  for (auto& r : routes()) {
    if (r.op == "events") continue;  // a stream: its own test below
    auto target = concrete(r.path);
    std::string body = r.body == body_use::none ? "" : "{}";
    INFO(r.method << " " << target);
    auto none = fetch(srv.port(), r.method, target, "", body);
    CHECK(none.status == 401);
    CHECK(none.header(http::field::www_authenticate).rfind("Bearer", 0) == 0);
    CHECK(none.body()["error"]["code"] == "unauthorized");
    CHECK(fetch(srv.port(), r.method, target, "wrong", body).status == 401);
    auto viewer = fetch(srv.port(), r.method, target, kViewer, body);
    if (r.role == role::admin) {
      CHECK(viewer.status == 403);
      CHECK(viewer.body()["error"]["code"] == "forbidden");
    } else {
      CHECK(viewer.status == r.status);
    }
    CHECK(fetch(srv.port(), r.method, target, kAdmin, body).status == r.status);
  }
  CHECK(fetch(srv.port(), "GET", "/api/v1/events", "").status == 401);
}

TEST_CASE(
    "bad JSON, a wrong content type, unknown paths, wrong methods and bad queries are "
    "refused in the error shape") {
  running srv;
  auto calls = [&] { return srv.gw.calls.size(); };
  auto bad_json = fetch(srv.port(), "POST", "/api/v1/integrations", kAdmin, "{\"name\":");
  CHECK(bad_json.status == 400);
  CHECK(bad_json.body()["error"]["message"] == "the body is not valid JSON");
  CHECK(fetch(srv.port(), "POST", "/api/v1/integrations", kAdmin, "name=a",
              "application/x-www-form-urlencoded")
            .status == 415);
  auto unknown = fetch(srv.port(), "GET", "/api/v1/widgets");
  CHECK(unknown.status == 404);
  CHECK(unknown.body()["error"]["code"] == "not_found");
  auto wrong = fetch(srv.port(), "PUT", "/api/v1/integrations/a");
  CHECK(wrong.status == 405);
  CHECK(wrong.header(http::field::allow) == "DELETE, GET, PATCH");
  auto query = fetch(srv.port(), "GET", "/api/v1/changes?limit=lots");
  CHECK(query.status == 400);
  CHECK(query.body()["error"]["message"].get<std::string>().find("'limit'") != std::string::npos);
  CHECK(calls() == 0);
}

TEST_CASE("a body over the limit is 413 and the connection is closed") {
  server_config cfg;
  cfg.body_limit = 1024;
  running srv(cfg);
  auto big = "{\"pad\":\"" + std::string(2000, 'x') + "\"}";
  auto r = fetch(srv.port(), "POST", "/api/v1/integrations", kAdmin, big);
  CHECK(r.status == 413);
  CHECK(r.body()["error"]["code"] == "payload_too_large");
  CHECK_FALSE(r.res.keep_alive());
  CHECK(srv.gw.calls.empty());
}

TEST_CASE(
    "the per-token limit answers 429 with Retry-After, and so does a rate-limited "
    "operation") {
  std::chrono::nanoseconds now{0};
  std::mutex mu;
  server_config cfg;
  cfg.rate_burst = 2;
  cfg.rate_refill = std::chrono::seconds(3);
  cfg.rate_clock = [&] {
    std::lock_guard lock(mu);
    return now;
  };
  running srv(cfg);
  CHECK(fetch(srv.port(), "GET", "/api/v1/integrations").status == 200);
  CHECK(fetch(srv.port(), "GET", "/api/v1/integrations").status == 200);
  auto refused = fetch(srv.port(), "GET", "/api/v1/integrations");
  CHECK(refused.status == 429);
  CHECK(refused.header(http::field::retry_after) == "3");
  CHECK(fetch(srv.port(), "GET", "/api/v1/integrations", kViewer).status == 200);  // own bucket
  {
    std::lock_guard lock(mu);
    now += std::chrono::seconds(6);  // two more: one for this GET, one for the sync below
  }
  CHECK(fetch(srv.port(), "GET", "/api/v1/integrations").status == 200);

  srv.gw.on_call = [](const op_call&, std::function<void(op_result)> done) {
    done(op_result::failure("rate_limited", "manual syncs are limited", "wait", 17));
  };
  auto op = fetch(srv.port(), "POST", "/api/v1/integrations/a/sync", kViewer + "x");
  CHECK(op.status == 401);
  op = fetch(srv.port(), "POST", "/api/v1/integrations/a/sync", kAdmin);
  CHECK(op.status == 429);  // from the operation this time, with its own wait
  CHECK(op.header(http::field::retry_after) == "17");
  CHECK(op.body()["error"]["code"] == "rate_limited");
}

TEST_CASE("a client that sends half a header is disconnected by the header deadline") {
  server_config cfg;
  cfg.header_timeout = std::chrono::milliseconds(300);
  running srv(cfg);
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  net::write(s, net::buffer(std::string("GET /api/v1/integrations HTTP/1.1\r\nHost: x\r\n")));
  auto start = std::chrono::steady_clock::now();
  char c;
  beast::error_code ec;
  s.read_some(net::buffer(&c, 1), ec);  // blocks until the server gives up on us
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(ec == net::error::eof);
  CHECK(waited >= std::chrono::milliseconds(250));
  CHECK(waited < std::chrono::seconds(5));
}

TEST_CASE("the connection limit answers 503 beyond it") {
  server_config cfg;
  cfg.max_connections = 1;
  running srv(cfg);
  net::io_context ioc;
  tcp::socket held(ioc);
  held.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  CHECK(fetch(srv.port(), "GET", "/api/v1/integrations").status == 503);
  held.close();
}

namespace {
// Reads from `s` until `text` has appeared `times` times in what was read; returns all of it.
std::string read_until_count(tcp::socket& s, const std::string& text, int times) {
  std::string got;
  auto count = [&] {
    int n = 0;
    for (auto at = got.find(text); at != std::string::npos; at = got.find(text, at + 1)) ++n;
    return n;
  };
  char buf[4096];
  while (count() < times) {
    beast::error_code ec;
    auto n = s.read_some(net::buffer(buf), ec);
    if (ec) break;
    got.append(buf, n);
  }
  return got;
}
}  // namespace

TEST_CASE(
    "server-sent events: frames pushed from another thread reach the client, with "
    "heartbeats, until it leaves") {
  server_config cfg;
  cfg.sse_heartbeat = std::chrono::milliseconds(50);
  running srv(cfg);
  auto sink_future = srv.gw.sinks.get_future();
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  net::write(s, net::buffer(std::string("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n"
                                        "Authorization: Bearer " +
                                        kViewer + "\r\n\r\n")));
  auto sink = sink_future.get();
  CHECK(srv.gw.subscriber.token_name == "victor");
  std::thread pusher([&] {
    CHECK(sink->send("status", json{{"name", "a"}, {"state", "syncing"}}));
    CHECK(sink->send("progress", json{{"name", "a"}, {"records", 10}}));
  });
  auto got = read_until_count(s, "event: ", 2);
  pusher.join();
  CHECK(got.find("HTTP/1.1 200 OK") == 0);
  CHECK(got.find("Content-Type: text/event-stream") != std::string::npos);
  CHECK(got.find("event: status\ndata: {\"name\":\"a\",\"state\":\"syncing\"}\n\n") !=
        std::string::npos);
  CHECK(got.find("event: progress\ndata: {\"name\":\"a\",\"records\":10}\n\n") !=
        std::string::npos);
  CHECK(read_until_count(s, ": heartbeat\n\n", 1).find(": heartbeat") != std::string::npos);

  s.close();
  // The sink learns it when a write fails (the next heartbeat or frame after the close).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!sink->closed() && std::chrono::steady_clock::now() < deadline) {
    sink->send("status", json::object());
    std::this_thread::yield();
  }
  CHECK(sink->closed());
  CHECK_FALSE(sink->send("status", json::object()));
}

TEST_CASE("a long-poll is answered when the operation completes later, from another thread") {
  running srv;
  std::promise<std::function<void(op_result)>> parked;
  srv.gw.on_call = [&](const op_call&, std::function<void(op_result)> done) {
    parked.set_value(std::move(done));
  };
  auto answer = std::async(std::launch::async, [&] {
    return fetch(srv.port(), "GET", "/api/v1/changes?since=5&wait=30s", kViewer);
  });
  auto done = parked.get_future().get();
  CHECK(srv.gw.last().args == json{{"since", 5}, {"wait_ms", 30000}});
  CHECK(answer.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  std::thread([done] {
    done(op_result::success(json{{"changes", json::array()}, {"next_since", 6}}));
  }).join();
  auto r = answer.get();
  CHECK(r.status == 200);
  CHECK(r.body()["next_since"] == 6);
}

TEST_CASE("beyond loopback the server refuses to start without TLS; bad addresses are named") {
  fake_gateway gw;
  auto refuse = [&](server_config cfg) {
    http_server s(cfg, gw, test_auth);
    std::string err;
    CHECK_FALSE(s.start(err));
    return err;
  };
  server_config cfg;
  cfg.listen = "0.0.0.0:0";
  CHECK(refuse(cfg).find("without TLS") != std::string::npos);
  cfg.listen = "localhost:7421";
  CHECK(refuse(cfg).find("is not IP:PORT") != std::string::npos);
  cfg.listen = "127.0.0.1:99999";
  CHECK(refuse(cfg).find("is not IP:PORT") != std::string::npos);
  cfg.listen = "127.0.0.1:0";
  cfg.tls_cert_pem = ledgersync::testing::kCert;
  CHECK(refuse(cfg).find("only the certificate") != std::string::npos);
  cfg.tls_key_pem = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";
  CHECK(refuse(cfg).find("cannot be used") != std::string::npos);

  cfg.listen = "[::1]:0";  // loopback too
  cfg.tls_cert_pem = cfg.tls_key_pem = "";
  http_server v6(cfg, gw, test_auth);
  std::string err;
  if (!v6.start(err)) WARN("no IPv6 loopback here: " << err);
}

TEST_CASE("with a certificate the API speaks TLS, also beyond loopback") {
  server_config cfg;
  cfg.tls_cert_pem = ledgersync::testing::kCert;
  cfg.tls_key_pem = ledgersync::testing::kKey;
  fake_gateway gw;
  cfg.listen = "0.0.0.0:0";
  http_server wide(cfg, gw, test_auth);
  std::string err;
  REQUIRE(wide.start(err));
  wide.stop();

  running srv(cfg);
  net::io_context ioc;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.add_certificate_authority(net::buffer(ledgersync::testing::kCert));
  ctx.set_verify_mode(net::ssl::verify_peer);
  beast::ssl_stream<tcp::socket> s(ioc, ctx);
  s.next_layer().connect({net::ip::make_address("127.0.0.1"), srv.port()});
  s.handshake(net::ssl::stream_base::client);
  auto r = exchange(s, "GET", "/api/v1/integrations", kAdmin, "", "");
  CHECK(r.status == 200);
  CHECK(r.body() == json{{"op", "list"}});
  auto again = exchange(s, "GET", "/api/v1/integrations/a", kAdmin, "", "");  // kept alive
  CHECK(again.body() == json{{"op", "status"}});

  // Plain HTTP to the TLS port gets no answer.
  net::io_context ioc2;
  tcp::socket plain(ioc2);
  plain.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  net::write(plain, net::buffer(std::string("GET /api/v1/integrations HTTP/1.1\r\n\r\n")));
  auto got = read_until_count(plain, "HTTP/1.1 200", 1);
  CHECK(got.find("HTTP/1.1 200") == std::string::npos);
}

TEST_CASE("pages outside /api are served from the embedded files, without a token") {
  running srv({}, {{"/", {"text/html; charset=utf-8", "<h1>Integrations</h1>"}}});
  auto page = fetch(srv.port(), "GET", "/", "");
  CHECK(page.status == 200);
  CHECK(page.res.body() == "<h1>Integrations</h1>");
  CHECK(page.header(http::field::content_type) == "text/html; charset=utf-8");
  CHECK(fetch(srv.port(), "GET", "/?tab=logs", "").status == 200);
  CHECK(fetch(srv.port(), "GET", "/secret.txt", "").status == 404);
  auto post = fetch(srv.port(), "POST", "/", "", "{}");
  CHECK(post.status == 405);
  CHECK(post.header(http::field::allow) == "GET");
}

TEST_CASE("an operation that answers twice gets one response, and the connection stays usable") {
  running srv;
  srv.gw.on_call = [](const op_call& c, std::function<void(op_result)> done) {
    done(op_result::success(json{{"first", c.op}}));
    done(op_result::success(json{{"second", c.op}}));
  };
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  CHECK(exchange(s, "GET", "/api/v1/integrations", kAdmin, "", "").body() ==
        json{{"first", "list"}});
  CHECK(exchange(s, "GET", "/api/v1/integrations/a", kAdmin, "", "").body() ==
        json{{"first", "status"}});
}

TEST_CASE("a header over its limit is 431, a chunked body over the limit is 413") {
  server_config cfg;
  cfg.body_limit = 1024;
  running srv(cfg);
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  http::request<http::string_body> req{http::verb::get, "/api/v1/integrations", 11};
  req.set("X-Pad", std::string(10000, 'x'));
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  CHECK(res.result_int() == 431);

  tcp::socket c(ioc);
  c.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  std::string chunk(1500, 'x');
  std::string wire = "POST /api/v1/integrations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     kAdmin +
                     "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5dc\r\n" +
                     chunk + "\r\n0\r\n\r\n";
  net::write(c, net::buffer(wire));
  beast::flat_buffer buf2;
  http::response<http::string_body> res2;
  http::read(c, buf2, res2);
  CHECK(res2.result_int() == 413);
  CHECK(srv.gw.calls.empty());
}

TEST_CASE("a keep-alive connection left idle is closed after the idle deadline") {
  server_config cfg;
  cfg.idle_timeout = std::chrono::milliseconds(300);
  running srv(cfg);
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  CHECK(exchange(s, "GET", "/api/v1/integrations", kAdmin, "", "").status == 200);
  auto start = std::chrono::steady_clock::now();
  char ch;
  beast::error_code ec;
  s.read_some(net::buffer(&ch, 1), ec);  // returns when the server closes
  CHECK(ec == net::error::eof);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("after stop an event sink reports closed and takes no more frames") {
  running srv;
  auto sink_future = srv.gw.sinks.get_future();
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), srv.port()});
  net::write(s, net::buffer("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            kViewer + "\r\n\r\n"));
  auto sink = sink_future.get();
  CHECK_FALSE(sink->closed());
  srv.server->stop();
  CHECK(sink->closed());
  CHECK_FALSE(sink->send("status", json::object()));
}
