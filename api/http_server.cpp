// One session object per connection (Beast's async examples): a deadline before every read and
// write, all of a connection's work on its strand, one `close` path. The session is a template
// over the stream so plain TCP and TLS share every line after the handshake.
#include "api/http_server.hpp"

#include <atomic>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <thread>

#include "api/rate_limiter.hpp"
#include "api/routes.hpp"

namespace ledgersync::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;

namespace {

// What every session shares with the server.
struct shared_state {
  server_config cfg;
  gateway* gw;
  authenticator auth;
  std::map<std::string, static_file> files;
  request_limiter limiter;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopped{false};

  shared_state(server_config c, gateway& g, authenticator a, std::map<std::string, static_file> f)
      : cfg(std::move(c)),
        gw(&g),
        auth(std::move(a)),
        files(std::move(f)),
        limiter(cfg.rate_burst, cfg.rate_refill, cfg.rate_clock) {}
};

using response = http::response<http::string_body>;

std::string bearer_of(const http::request<http::string_body>& req) {
  auto h = req[http::field::authorization];
  if (h.size() < 7) return {};
  std::string scheme(h.substr(0, 7));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return {};
  auto v = h.substr(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return std::string(v);
}

std::string sse_frame(const std::string& event, const json& data) {
  return "event: " + event + "\ndata: " + data.dump() + "\n\n";
}

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
 public:
  session(std::shared_ptr<shared_state> st, Stream stream, bool over_limit)
      : st_(std::move(st)), stream_(std::move(stream)), over_limit_(over_limit) {
    ++st_->connections;
  }
  ~session() { --st_->connections; }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->ready(); });
    } else {
      lowest().expires_after(st_->cfg.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->ready();
                              });
    }
  }

  // Called by event sinks from any thread: onto the strand, then into the frame queue.
  void push_frame(std::string frame) {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), f = std::move(frame)] {
      self->enqueue(std::move(f));
    });
  }
  bool gone() const { return gone_ || st_->stopped; }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void ready() {
    if (over_limit_)
      return send_error(503, "unavailable", "the server has too many open connections",
                        "retry in a moment", true);
    read_header();
  }

  // Waits for the first byte of the next request under the idle deadline, so a keep-alive
  // connection may rest longer than a header may take to arrive.
  void await_next() {
    if (buffer_.size() > 0) return read_header();
    lowest().expires_after(st_->cfg.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(st_->cfg.header_limit));
    parser_->body_limit(st_->cfg.body_limit);
    lowest().expires_after(st_->cfg.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::header_limit)
      return send_error(431, "invalid_argument", "the request header is too large",
                        "headers may take " + std::to_string(st_->cfg.header_limit) + " bytes",
                        true);
    // Beast judges a Content-Length over the body limit already while reading the header.
    if (ec == http::error::body_limit) return too_large();
    if (ec) return close();
    lowest().expires_after(st_->cfg.body_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void too_large() {
    send_error(413, "payload_too_large", "the request body is too large",
               "bodies may take " + std::to_string(st_->cfg.body_limit) + " bytes", true);
  }

  void on_body(beast::error_code ec) {
    if (ec == http::error::body_limit) return too_large();
    if (ec) return close();
    req_ = parser_->release();
    handle();
  }

  void handle() {
    std::string target(req_.target());
    if (target.rfind("/api/", 0) != 0) return serve_file(target);
    auto m = match(std::string(req_.method_string()), target);
    if (!m.route) return send_error(m.error);
    auto who = st_->auth ? st_->auth(bearer_of(req_)) : std::nullopt;
    if (!who) {
      response res = make(401, error_json("unauthorized", "a valid bearer token is required",
                                          "send Authorization: Bearer TOKEN "
                                          "(`ledgersync token create` makes one)"));
      res.set(http::field::www_authenticate, "Bearer realm=\"ledgersync\"");
      return send(std::move(res));
    }
    if (auto wait = st_->limiter.admit(who->token_name)) {
      response res = make(429, error_json("rate_limited", "too many requests for this token",
                                          "retry after " + std::to_string(*wait) + " s"));
      res.set(http::field::retry_after, std::to_string(*wait));
      return send(std::move(res));
    }
    if (m.route->role == role::admin && who->role != role::admin)
      return send_error(403, "forbidden",
                        "token '" + who->token_name + "' is a viewer: only admins may " +
                            m.route->method + " " + m.route->path,
                        "use an admin token");
    if (!m.ok) return send_error(m.error);
    auto call = std::move(m.ok->call);
    if (auto e = apply_body(*m.route, req_[http::field::content_type], req_.body(), call))
      return send_error(*e);
    call.principal = *who;
    if (m.route->op == "events") return start_events(*who);
    route_ = m.route;
    st_->gw->call(call, [self = this->shared_from_this()](op_result r) {
      if (self->st_->stopped) return;
      net::post(self->stream_.get_executor(),
                [self, r = std::move(r)]() mutable { self->on_result(std::move(r)); });
    });
  }

  void on_result(op_result r) {
    if (!route_) return;  // a second `done` for one call: the answer is already on its way
    const route* rt = std::exchange(route_, nullptr);
    if (!r.ok()) {
      response res = make(http_status_for(r.error), error_json(r.error, r.message, r.hint));
      if (r.error == "rate_limited")
        res.set(http::field::retry_after, std::to_string(std::max<int64_t>(r.retry_after_s, 1)));
      return send(std::move(res));
    }
    int status = rt->status;
    if (rt->op == "sync" && r.body.is_object() && r.body.value("joined", false)) status = 200;
    if (status == 204) return send(make(204, nullptr));
    send(make(status, r.body.is_null() ? json::object() : r.body));
  }

  void serve_file(const std::string& target) {
    auto path = target.substr(0, target.find('?'));
    auto it = st_->files.find(path);
    if (it == st_->files.end())
      return send_error(404, "not_found", "no page at " + path, "the API lives under /api/v1");
    if (req_.method() != http::verb::get) {
      response res = make(405, error_json("method_not_allowed", "only GET serves pages", ""));
      res.set(http::field::allow, "GET");
      return send(std::move(res));
    }
    response res{http::status::ok, req_.version()};
    res.set(http::field::content_type, it->second.content_type);
    res.body() = it->second.body;
    send(std::move(res));
  }

  response make(int status, const json& body) {
    response res{static_cast<http::status>(status), req_.version()};
    res.set(http::field::server, "ledgersync");
    res.set(http::field::cache_control, "no-store");
    if (!body.is_null()) {
      res.set(http::field::content_type, "application/json");
      res.body() = body.dump();
    }
    return res;
  }

  void send_error(const api_error& e) {
    response res = make(e.status, error_json(e.code, e.message, e.hint));
    if (!e.allow.empty()) res.set(http::field::allow, e.allow);
    send(std::move(res));
  }
  void send_error(int status, const std::string& code, const std::string& message,
                  const std::string& hint, bool then_close = false) {
    send(make(status, error_json(code, message, hint)), then_close);
  }

  void send(response res, bool then_close = false) {
    res.keep_alive(!then_close && req_.keep_alive());
    res.prepare_payload();
    res_ = std::make_shared<response>(std::move(res));
    lowest().expires_after(st_->cfg.write_timeout);
    http::async_write(stream_, *res_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        bool again = !ec && self->res_->keep_alive();
                        self->res_.reset();
                        if (again) return self->await_next();
                        if (ec) return self->close();
                        self->drain();
                      });
  }

  // Closing with an unread request body in the socket would reset the connection, and the
  // client could lose the answer (a 413) before reading it. So: stop sending, then read and
  // drop what still comes, until the client closes or the body deadline passes.
  void drain() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().expires_after(st_->cfg.body_timeout);
    drain_more();
  }
  void drain_more() {
    buffer_.clear();
    lowest().async_read_some(buffer_.prepare(16384),
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->close();
                               self->drain_more();
                             });
  }

  // --- server-sent events: after the header, frames are written one at a time from a queue.
  class sink : public event_sink {
   public:
    explicit sink(std::weak_ptr<session> s) : s_(std::move(s)) {}
    bool send(const std::string& event, const json& data) override {
      auto s = s_.lock();
      if (!s || s->gone()) return false;
      s->push_frame(sse_frame(event, data));
      return true;
    }
    bool closed() const override {
      auto s = s_.lock();
      return !s || s->gone();
    }

   private:
    std::weak_ptr<session> s_;
  };

  void start_events(const principal& who) {
    sse_header_ = std::make_shared<http::response<http::empty_body>>(http::status::ok, 11);
    sse_header_->set(http::field::server, "ledgersync");
    sse_header_->set(http::field::content_type, "text/event-stream");
    sse_header_->set(http::field::cache_control, "no-store");
    sse_header_->keep_alive(true);
    sse_ser_ = std::make_shared<http::response_serializer<http::empty_body>>(*sse_header_);
    writing_ = true;
    lowest().expires_after(st_->cfg.write_timeout);
    http::async_write_header(stream_, *sse_ser_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               self->writing_ = false;
                               if (ec) return self->close();
                               self->heartbeat();
                               self->write_frames();
                             });
    st_->gw->subscribe(who, std::make_shared<sink>(this->weak_from_this()));
  }

  void heartbeat() {
    if (!timer_) timer_.emplace(stream_.get_executor());
    timer_->expires_after(st_->cfg.sse_heartbeat);
    timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->gone_) return;
      self->enqueue(": heartbeat\n\n");
      self->heartbeat();
    });
  }

  void enqueue(std::string frame) {
    if (gone_) return;
    frames_.push_back(std::move(frame));
    write_frames();
  }

  void write_frames() {
    if (writing_ || frames_.empty() || !sse_ser_) return;
    writing_ = true;
    lowest().expires_after(st_->cfg.write_timeout);
    net::async_write(stream_, net::buffer(frames_.front()),
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->close();
                       self->frames_.pop_front();
                       self->write_frames();
                     });
  }

  void close() {
    if (gone_) return;
    gone_ = true;
    if (timer_) timer_->cancel();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  std::shared_ptr<shared_state> st_;
  Stream stream_;
  bool over_limit_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  std::shared_ptr<response> res_;
  const route* route_ = nullptr;
  std::shared_ptr<http::response<http::empty_body>> sse_header_;
  std::shared_ptr<http::response_serializer<http::empty_body>> sse_ser_;
  std::deque<std::string> frames_;
  bool writing_ = false;
  std::optional<net::steady_timer> timer_;
  std::atomic<bool> gone_{false};
};

}  // namespace

struct http_server::impl {
  std::shared_ptr<shared_state> st;
  // Before the io_context: sessions still queued in it hold TLS streams made from it.
  std::optional<ssl::context> tls;
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t port = 0;

  void accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        bool over = st->connections.load() >= st->cfg.max_connections;
        beast::tcp_stream plain(std::move(s));
        if (tls)
          std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(
              st, beast::ssl_stream<beast::tcp_stream>(std::move(plain), *tls), over)
              ->start();
        else
          std::make_shared<session<beast::tcp_stream>>(st, std::move(plain), over)->start();
      }
      accept();
    });
  }
};

http_server::http_server(server_config cfg, gateway& gw, authenticator auth,
                         std::map<std::string, static_file> files)
    : impl_(std::make_unique<impl>()) {
  impl_->st = std::make_shared<shared_state>(std::move(cfg), gw, std::move(auth), std::move(files));
}

http_server::~http_server() {
  stop();
}

uint16_t http_server::port() const {
  return impl_->port;
}

bool http_server::start(std::string& error) {
  auto& cfg = impl_->st->cfg;
  auto colon = cfg.listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : cfg.listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(cfg.listen.substr(colon + 1), &used);
    if (used != cfg.listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (colon == std::string::npos || ec || port < 0 || port > 65535) {
    error = "listen address '" + cfg.listen +
            "' is not IP:PORT (for example 127.0.0.1:7421 or [::1]:7421)";
    return false;
  }
  bool has_cert = !cfg.tls_cert_pem.empty(), has_key = !cfg.tls_key_pem.empty();
  if (has_cert != has_key) {
    error = "TLS needs both a certificate and its key; only the " +
            std::string(has_cert ? "certificate" : "key") + " is configured";
    return false;
  }
  if (!addr.is_loopback() && !has_cert) {
    error = "refusing to listen on " + cfg.listen +
            " without TLS: beyond loopback the API needs a certificate and key "
            "(or listen on 127.0.0.1)";
    return false;
  }
  if (has_cert) {
    impl_->tls.emplace(ssl::context::tls_server);
    impl_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
    impl_->tls->use_certificate_chain(net::buffer(cfg.tls_cert_pem), ec);
    if (!ec) impl_->tls->use_private_key(net::buffer(cfg.tls_key_pem), ssl::context::pem, ec);
    if (ec) {
      error = "the TLS certificate or key cannot be used: " + ec.message();
      impl_->tls.reset();
      return false;
    }
  }
  tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  auto& acc = impl_->acceptor.emplace(impl_->ioc);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + cfg.listen + ": " + ec.message();
    impl_->acceptor.reset();
    return false;
  }
  impl_->port = acc.local_endpoint().port();
  impl_->accept();
  for (int i = 0; i < std::clamp(cfg.threads, 1, 8); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return true;
}

void http_server::stop() {
  if (!impl_ || impl_->threads.empty()) return;
  impl_->st->stopped = true;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  beast::error_code ignored;
  if (impl_->acceptor) impl_->acceptor->close(ignored);
}

}  // namespace ledgersync::api
