// The HTTP API server: Boost.Beast on its own io_context and threads, plain HTTP on loopback,
// TLS (a configured certificate and key) required anywhere else. Every request is limited in
// header and body size and every read and write of a connection has a deadline; each token has
// a request rate limit. Requests become `op_call`s to the gateway (api/routes.hpp says which);
// /api/v1/events is a server-sent-events stream; other GET paths are served from the embedded
// files given at construction (the web page).
// Beast stays in http_server.cpp: this header is cheap to include.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "api/gateway.hpp"

namespace ledgersync::api {

struct server_config {
  std::string listen = "127.0.0.1:7421";  // IP:port ([::1]:port for IPv6); port 0 picks one
  std::string tls_cert_pem, tls_key_pem;  // both, or neither (then loopback only)
  size_t header_limit = 8 * 1024;
  size_t body_limit = 1024 * 1024;
  size_t max_connections = 256;                     // beyond it a connection gets 503 and is closed
  std::chrono::milliseconds header_timeout{10000};  // TLS handshake and request header
  std::chrono::milliseconds body_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};  // each response write, each SSE frame
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
  std::chrono::milliseconds sse_heartbeat{15000};
  uint32_t rate_burst = 60;  // requests per token at once,
  std::chrono::nanoseconds rate_refill = std::chrono::milliseconds(100);  // then 10 a second
  std::function<std::chrono::nanoseconds()> rate_clock;                   // empty: steady_clock
  int threads = 2;
};

struct static_file {
  std::string content_type, body;
};

// The principal a bearer value stands for, or nullopt (token_store::verify in the service).
using authenticator = std::function<std::optional<principal>(std::string_view bearer)>;

class http_server {
 public:
  http_server(server_config cfg, gateway& gw, authenticator auth,
              std::map<std::string, static_file> files = {});
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and starts the threads. False with `error` for an unusable address, a non-loopback
  // address without TLS, an unreadable certificate or key, or a port in use.
  bool start(std::string& error);
  // Stops the threads and with them every connection. Event sinks report closed afterwards and
  // a late `done` is dropped. Destroy the server only after the gateway has let go of the
  // `done` callbacks and sinks it still holds: they keep connections, whose sockets belong to
  // the server's io_context, alive.
  void stop();
  uint16_t port() const;  // the bound port (useful with port 0)

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ledgersync::api
