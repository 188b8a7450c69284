// Beast HTTP/1.1 client: one handler object per exchange, a timeout before every operation,
// and one idle keep-alive connection per transport, reused when the next request goes to the
// same scheme/host/port. All state of a transport lives on its strand.
#include "connectors/http_client.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace ledgersync {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// SHA-256 over the settings a TLS context is made of, each with its length before it.
std::string settings_digest(const tls_options& o) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (auto* part : {&o.ca_pem, &o.client_cert_pem, &o.client_key_pem}) {
    auto size = std::to_string(part->size()) + ":";
    EVP_DigestUpdate(ctx.get(), size.data(), size.size());
    EVP_DigestUpdate(ctx.get(), part->data(), part->size());
  }
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace

// A TLS client context and why it cannot be used (empty when it can).
struct shared_tls {
  ssl::context ctx{ssl::context::tls_client};
  std::string error;
};

struct io_runtime::impl {
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::vector<std::thread> threads;

  // One TLS context per distinct setting, shared by every transport that has it, and built at
  // the first https request. A context holds the parsed system CA store: one per integration
  // made 9,000 idle integrations hold 8.1 GB. A context is only read once built, which OpenSSL
  // allows from several threads at once.
  std::mutex tls_mutex;
  std::map<std::string, std::weak_ptr<shared_tls>> tls_contexts;

  std::shared_ptr<shared_tls> tls_for(const tls_options& o) {
    // The server name is the stream's business (SNI, host check), not the context's. A digest,
    // so that the map keeps no copy of a private key.
    auto key = settings_digest(o);
    std::lock_guard<std::mutex> lock(tls_mutex);
    std::erase_if(tls_contexts, [](auto& e) { return e.second.expired(); });
    if (auto it = tls_contexts.find(key); it != tls_contexts.end())
      if (auto live = it->second.lock()) return live;
    auto made = std::make_shared<shared_tls>();
    // Saved settings were checked (check_tls_options); this catches a document edited by hand,
    // and every https request then fails with the reason instead of trusting less or more.
    beast::error_code ec;
    made->ctx.set_default_verify_paths(ec);
    made->ctx.set_verify_mode(ssl::verify_peer);
    if (!o.ca_pem.empty() && made->ctx.add_certificate_authority(net::buffer(o.ca_pem), ec))
      made->error = "the TLS CA bundle is unreadable: " + ec.message();
    if (!o.client_cert_pem.empty() && made->error.empty()) {
      if (made->ctx.use_certificate_chain(net::buffer(o.client_cert_pem), ec) ||
          made->ctx.use_private_key(net::buffer(o.client_key_pem), ssl::context::pem, ec))
        made->error = "the TLS client certificate or key is unusable: " + ec.message();
    }
    tls_contexts[key] = made;
    return made;
  }
};

namespace {

struct target {
  std::string scheme, host, port, path;
  std::string key() const { return scheme + "://" + host + ":" + port; }
  std::string host_header() const { return host_header_for(scheme, host, port); }
};

std::optional<target> split_url(const std::string& url, std::string& error) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) {
    error = "invalid URL '" + url + "'";
    return std::nullopt;
  }
  target t;
  t.scheme = u->scheme();
  t.host = u->host();
  t.port = u->port();
  if (t.port.empty()) t.port = t.scheme == "https" ? "443" : "80";
  t.path = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) t.path += "?" + std::string(u->encoded_query());
  return t;
}

http_response transport_error(error_category c, std::string msg) {
  http_response r;
  r.error = make_error_info(c, std::move(msg), true);
  return r;
}

// `connecting`: no connection was ever made (DNS, refused, TLS handshake), which users see as
// Disconnected; a failure once connected is the upstream's answer going wrong. `tls`, when
// given, is what the handshake saw: a certificate problem becomes a `tls` error.
error_info map_error(const beast::error_code& ec, const std::string& step, const target& t,
                     bool connecting, int64_t body_limit = 0, tls_failure* tls = nullptr) {
  std::string where = step + " " + t.key();
  if (tls) {
    // With TLS 1.3 the server judges the client certificate after the client's handshake has
    // finished, so its alert arrives on the first read: any step may carry one.
    if (ec.category() == net::error::get_ssl_category())
      tls->alert_reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    else if (!connecting && ec != beast::error::timeout)
      tls->closed_after_handshake = true;
    tls->where = where;
    if (auto e = classify_tls_failure(*tls)) return *e;
  }
  if (ec == beast::error::timeout)
    return make_error_info(error_category::timeout, "timed out during " + where, true);
  if (ec == http::error::body_limit) {
    auto e = make_error_info(error_category::upstream,
                             "the answer from " + t.key() + " is larger than the limit of " +
                                 std::to_string(body_limit) + " bytes (max_body_bytes)");
    e.permanent = true;
    return e;
  }
  return make_error_info(connecting ? error_category::unreachable : error_category::upstream,
                         where + " failed: " + ec.message(), true);
}

class beast_transport;

// One request/response exchange. Owns its stream until it finishes, then hands a reusable
// connection back to the transport.
template <class Stream>
class exchange : public std::enable_shared_from_this<exchange<Stream>> {
 public:
  exchange(std::shared_ptr<beast_transport> owner, std::unique_ptr<Stream> stream, bool reused,
           target t, http_request req, http_transport::callback done)
      : owner_(std::move(owner)),
        stream_(std::move(stream)),
        reused_(reused),
        t_(std::move(t)),
        req_(std::move(req)),
        done_(std::move(done)),
        resolver_(lowest().get_executor()) {}

  void start();
  void set_peer(cert_facts p) { peer_ = std::move(p); }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(*stream_); }
  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(req_.timeout_ms); }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return finish(map_error(ec, "resolving", t_, true));
    lowest().expires_after(timeout());
    lowest().async_connect(
        results, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          self->on_connect(ec);
        });
  }

  void on_connect(beast::error_code ec);
  void write() {
    wire_.version(11);
    wire_.method(http::string_to_verb(req_.method));
    wire_.target(t_.path);
    wire_.set(http::field::host, t_.host_header());
    wire_.set(http::field::user_agent, "ledgersync/0.1");
    wire_.keep_alive(true);
    for (auto& [k, v] : req_.headers) wire_.set(k, v);
    if (!req_.body.empty()) {
      wire_.body() = req_.body;
      wire_.prepare_payload();
    }
    lowest().expires_after(timeout());
    http::async_write(
        *stream_, wire_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }
  void on_write(beast::error_code ec) {
    if (ec) return retry_or_fail(ec, "sending to");
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(req_.max_body_bytes));
    parser_->header_limit(64 * 1024);
    // Beast reads as much as the buffer has room for; a flat_buffer left at its default
    // capacity reads a 1 MB page ~2 KB at a time (measured: 460 recvmsg per page, half the
    // fetch time). 256 KiB of room makes it a handful.
    buffer_.reserve(256 * 1024);
    lowest().expires_after(timeout());
    http::async_read(
        *stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }
  void on_read(beast::error_code ec) {
    if (ec) return retry_or_fail(ec, "reading from");
    auto msg = parser_->release();
    http_response r;
    r.status = static_cast<int>(msg.result_int());
    for (auto& f : msg)
      r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(msg.body());
    r.peer_subject = peer_.subject;
    r.peer_issuer = peer_.issuer;
    r.peer_not_after = peer_.not_after;
    bool keep = msg.keep_alive();
    finish_ok(std::move(r), keep);
  }
  // A reused keep-alive connection may have been closed by the server while idle; that is not
  // the upstream's fault, so the request goes once more on a fresh connection.
  void retry_or_fail(beast::error_code ec, const char* step);
  void finish(error_info e) {
    http_response r;
    r.error = std::move(e);
    auto done = std::move(done_);
    done(std::move(r));
  }
  void finish_ok(http_response r, bool keep_alive);

  std::shared_ptr<beast_transport> owner_;
  std::unique_ptr<Stream> stream_;
  bool reused_;
  target t_;
  http_request req_;
  http_transport::callback done_;
  // Filled by the verify callback during the handshake (on this exchange's strand).
  tls_failure tls_seen_;
  cert_facts peer_;
  tcp::resolver resolver_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> wire_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

class beast_transport : public http_transport,
                        public std::enable_shared_from_this<beast_transport> {
 public:
  beast_transport(io_runtime::impl& rt, tls_options tls)
      : rt_(rt), strand_(net::make_strand(rt.ioc)), tls_opts_(std::move(tls)) {}

  const tls_options& tls_settings() const { return tls_opts_; }

  void fetch(http_request req, callback done) override {
    net::post(strand_,
              [self = shared_from_this(), req = std::move(req), done = std::move(done)]() mutable {
                self->start(std::move(req), std::move(done), true);
              });
  }

  void start(http_request req, callback done, bool allow_reuse) {
    std::string err;
    if (req.url.rfind("file:", 0) == 0) {
      if (!req.allow_file)
        return done(transport_error(error_category::config,
                                    "refused a file: URL: local files are read only from a "
                                    "source the administrator configured"));
      return read_file(req, std::move(done));
    }
    if (!req.allowed_origin.empty() && origin_of(req.url) != req.allowed_origin) {
      auto where = origin_of(req.url);
      return done(transport_error(error_category::config,
                                  "refused to send a request to " +
                                      (where.empty() ? "'" + req.url + "'" : where) +
                                      ": only the configured " + req.allowed_origin +
                                      " is contacted with the credentials"));
    }
    auto t = split_url(req.url, err);
    if (!t) return done(transport_error(error_category::config, err));
    if (t->scheme != "http" && t->scheme != "https")
      return done(transport_error(error_category::config, "unsupported scheme in " + req.url));
    bool reuse = allow_reuse && idle_key_ == t->key();
    if (t->scheme == "https") {
      std::unique_ptr<tls_stream> s;
      if (reuse && idle_tls_) s = std::move(idle_tls_);
      bool reused = s != nullptr;
      auto peer = idle_peer_;
      if (!tls_) tls_ = rt_.tls_for(tls_opts_);
      if (!tls_->error.empty()) {
        auto e = make_error_info(error_category::tls, tls_->error, true);
        e.specific_hint = "fix the integration's TLS settings";
        http_response r;
        r.error = std::move(e);
        return done(std::move(r));
      }
      if (!s) s = std::make_unique<tls_stream>(strand_, tls_->ctx);
      drop_idle();
      auto x = std::make_shared<exchange<tls_stream>>(shared_from_this(), std::move(s), reused, *t,
                                                      std::move(req), std::move(done));
      if (reused) x->set_peer(std::move(peer));
      x->start();
    } else {
      std::unique_ptr<beast::tcp_stream> s;
      if (reuse && idle_plain_) s = std::move(idle_plain_);
      bool reused = s != nullptr;
      if (!s) s = std::make_unique<beast::tcp_stream>(strand_);
      drop_idle();
      std::make_shared<exchange<beast::tcp_stream>>(shared_from_this(), std::move(s), reused, *t,
                                                    std::move(req), std::move(done))
          ->start();
    }
  }

  void park(std::unique_ptr<beast::tcp_stream> s, const std::string& key) {
    drop_idle();
    idle_plain_ = std::move(s);
    idle_key_ = key;
  }
  void park(std::unique_ptr<tls_stream> s, const std::string& key, cert_facts peer) {
    drop_idle();
    idle_tls_ = std::move(s);
    idle_key_ = key;
    idle_peer_ = std::move(peer);
  }

  io_runtime::impl& runtime() { return rt_; }

 private:
  void drop_idle() {
    idle_plain_.reset();
    idle_tls_.reset();
    idle_key_.clear();
    idle_peer_ = {};
  }

  // file:// URLs serve drop folders the admin configured: the same paging code reads a file the
  // way it reads a page. Only regular files (a FIFO would block an I/O thread, a device never
  // ends), and the size limit holds while reading, not after (/proc files report size 0).
  static void read_file(const http_request& req, const callback& done) {
    auto u = boost::urls::parse_uri(req.url);
    std::string path = u ? std::string(u->path()) : "";
    http_response r;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
      r.status = 404;
      r.body = R"({"error":{"message":"no such file in the configured folder"}})";
      return done(std::move(r));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return done(transport_error(error_category::config, "not a regular file: " + path));
    }
    char buf[64 * 1024];
    for (;;) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (static_cast<int64_t>(r.body.size()) + n > req.max_body_bytes) {
        ::close(fd);
        auto e = make_error_info(error_category::upstream, path + " is larger than the limit of " +
                                                               std::to_string(req.max_body_bytes) +
                                                               " bytes (max_body_bytes)");
        e.permanent = true;
        http_response big;
        big.error = e;
        return done(std::move(big));
      }
      r.body.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    r.status = 200;
    done(std::move(r));
  }

  io_runtime::impl& rt_;
  net::strand<net::io_context::executor_type> strand_;
  tls_options tls_opts_;
  // Declared before the idle stream: a stream must not outlive the context it was made from.
  std::shared_ptr<shared_tls> tls_;  // at the first https request
  cert_facts idle_peer_;  // a reused connection has no handshake to read the certificate from
  std::unique_ptr<beast::tcp_stream> idle_plain_;
  std::unique_ptr<tls_stream> idle_tls_;
  std::string idle_key_;
};

template <class Stream>
void exchange<Stream>::start() {
  if (reused_) return write();
  resolver_.async_resolve(
      t_.host, t_.port,
      [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
        self->on_resolve(ec, std::move(r));
      });
}

template <>
void exchange<beast::tcp_stream>::on_connect(beast::error_code ec) {
  if (ec) return finish(map_error(ec, "connecting to", t_, true));
  write();
}

template <>
void exchange<tls_stream>::on_connect(beast::error_code ec) {
  if (ec) return finish(map_error(ec, "connecting to", t_, true));
  auto& opts = owner_->tls_settings();
  std::string name = opts.server_name.empty() ? t_.host : opts.server_name;
  if (!name.empty() && name.front() == '[') name = name.substr(1, name.size() - 2);
  tls_seen_.name = name;
  tls_seen_.client_cert_configured = !opts.client_cert_pem.empty();
  SSL* ssl = stream_->native_handle();
  beast::error_code ip_ec;
  net::ip::make_address(name, ip_ec);
  bool is_ip = !ip_ec;
  // OpenSSL checks the name itself, so a mismatch comes back as X509_V_ERR_HOSTNAME_MISMATCH
  // with the certificate, which the callback below records for the message.
  auto* param = SSL_get0_param(ssl);
  bool set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1
                   : SSL_set1_host(ssl, name.c_str()) == 1;
  if (!set || (!is_ip && !SSL_set_tlsext_host_name(ssl, name.c_str())))
    return finish(
        make_error_info(error_category::config, "TLS: cannot verify the name " + name, true));
  // The callbacks below point into this exchange, which a parked connection outlives: no
  // renegotiation, so they never run after this handshake.
  SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
  // Called on a client only when the server sends a CertificateRequest.
  SSL_set_cert_cb(
      ssl,
      [](SSL*, void* seen) {
        static_cast<tls_failure*>(seen)->cert_requested = true;
        return 1;
      },
      &tls_seen_);
  stream_->set_verify_mode(ssl::verify_peer);
  // `this`, not shared_from_this(): the stream keeps the callback, and a parked stream must not
  // keep its first exchange alive. The callback runs only during this exchange's handshake.
  stream_->set_verify_callback([self = this](bool ok, ssl::verify_context& vc) {
    auto* store = vc.native_handle();
    int depth = X509_STORE_CTX_get_error_depth(store);
    if (!ok && self->tls_seen_.verify_error == 0) {
      self->tls_seen_.verify_error = X509_STORE_CTX_get_error(store);
      self->tls_seen_.depth = depth;
      self->tls_seen_.cert = facts_of_x509(X509_STORE_CTX_get_current_cert(store));
    }
    if (ok && depth == 0) self->peer_ = facts_of_x509(X509_STORE_CTX_get_current_cert(store));
    return ok;
  });
  lowest().expires_after(timeout());
  stream_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](
                                                         beast::error_code ec) {
    if (ec)
      return self->finish(map_error(ec, "TLS handshake with", self->t_, true, 0, &self->tls_seen_));
    self->write();
  });
}

template <class Stream>
void exchange<Stream>::retry_or_fail(beast::error_code ec, const char* step) {
  if (reused_ && ec != beast::error::timeout) {
    auto owner = owner_;
    owner->start(std::move(req_), std::move(done_), false);
    return;
  }
  // Once an answer has begun, the server accepted this client: a later reset is the upstream's.
  bool answered = parser_ && parser_->is_header_done();
  if constexpr (std::is_same_v<Stream, tls_stream>)
    finish(map_error(ec, step, t_, false, req_.max_body_bytes, answered ? nullptr : &tls_seen_));
  else
    finish(map_error(ec, step, t_, false, req_.max_body_bytes));
}

template <class Stream>
void exchange<Stream>::finish_ok(http_response r, bool keep_alive) {
  if (keep_alive && buffer_.size() == 0) {
    lowest().expires_never();
    if constexpr (std::is_same_v<Stream, tls_stream>)
      owner_->park(std::move(stream_), t_.key(), peer_);
    else
      owner_->park(std::move(stream_), t_.key());
  }
  auto done = std::move(done_);
  done(std::move(r));
}

}  // namespace

io_runtime::io_runtime(int threads) : impl_(std::make_unique<impl>()) {
  for (int i = 0; i < threads; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

io_runtime::~io_runtime() {
  stop();
}

void io_runtime::stop() {
  if (!impl_) return;
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

size_t io_runtime::tls_contexts() const {
  std::lock_guard<std::mutex> lock(impl_->tls_mutex);
  return std::count_if(impl_->tls_contexts.begin(), impl_->tls_contexts.end(),
                       [](auto& e) { return !e.second.expired(); });
}

std::shared_ptr<http_transport> io_runtime::make_transport(const tls_options& tls) {
  return std::make_shared<beast_transport>(*impl_, tls);
}

}  // namespace ledgersync
