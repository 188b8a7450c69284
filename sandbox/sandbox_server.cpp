// Synchronous Beast server, a thread per connection: the sandbox serves a handful of clients,
// and plain blocking code makes "slow" and "reset" faults easy to produce faithfully.
#include "sandbox/sandbox_server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <condition_variable>
#include <deque>
#include <thread>

#include "sandbox/sandbox_data.hpp"
#include "sandbox/vendor_bank.hpp"
#include "sandbox/vendor_ecb.hpp"
#include "sandbox/vendor_oauth.hpp"
#include "sandbox/vendor_odata.hpp"
#include "sandbox/vendor_quickbooks.hpp"
#include "sandbox/vendor_sage.hpp"
#include "sandbox/vendor_stripe.hpp"
#include "sandbox/vendor_xero.hpp"

namespace ledgersync::sandbox {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct fault {
  std::string kind;
  size_t remaining = 1;
  int retry_after = 1;
  int delay_ms = 3000;
};

struct server::impl : std::enable_shared_from_this<server::impl> {
  server_options opts;
  dataset data;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread, churn_thread;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::deque<fault> faults;
  std::atomic<uint64_t> requests{0}, faults_served{0};

  oauth_server oauth;
  // Declared before the vendors, which count their writes in it.
  effect_log effects;
  xero_api xero;
  stripe_api stripe;
  sage_api sage;
  quickbooks_api quickbooks;
  ecb_feed ecb;
  odata_api odata;

  explicit impl(server_options o)
      : opts(std::move(o)),
        data(opts.records, opts.seed),
        oauth(
            [&] {
              auto a = oauth_options::defaults();
              a.seed = opts.seed;
              return a;
            }(),
            &wall_ms),
        xero(
            [&] {
              xero_options x;
              x.records = opts.records;
              x.seed = opts.seed;
              return x;
            }(),
            oauth, &wall_ms, effects),
        stripe(
            [&] {
              stripe_options s;
              s.records = opts.records;
              s.seed = opts.seed;
              s.api_key = opts.api_key;
              return s;
            }(),
            &wall_ms, effects),
        sage(
            [&] {
              sage_options s;
              s.records = opts.records;
              s.seed = opts.seed;
              return s;
            }(),
            oauth, &wall_ms, effects),
        quickbooks(
            [&] {
              quickbooks_options q;
              q.records = opts.records;
              q.seed = opts.seed;
              return q;
            }(),
            oauth, &wall_ms, effects),
        ecb(opts.seed, &wall_ms),
        odata(
            [&] {
              odata_options d;
              d.records = opts.records;
              d.seed = opts.seed;
              d.api_key = opts.api_key;
              return d;
            }(),
            oauth, &wall_ms) {}

  static int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::optional<fault> take_fault() {
    std::lock_guard lock(mu);
    if (faults.empty()) return std::nullopt;
    auto f = faults.front();
    if (--faults.front().remaining == 0) faults.pop_front();
    ++faults_served;
    return f;
  }

  // Returns false when the connection must be dropped without an answer (reset fault).
  bool handle(const http::request<http::string_body>& req, http::response<http::string_body>& res,
              tcp::socket& sock) {
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::content_type, "application/json");
    res.set(http::field::server, "ledgersync-sandbox");
    // The url_view points into `target`, which must outlive it.
    const std::string target = escape_brackets(req.target());
    auto u = boost::urls::parse_origin_form(target);
    if (!u) {
      res.result(http::status::bad_request);
      res.body() = R"({"error":{"type":"invalid_request_error","message":"bad request target"}})";
      return true;
    }
    std::string path = u->path();
    auto param = [&](const char* k, std::string def = "") {
      auto it = u->params().find(k);
      return it == u->params().end() ? def : std::string((*it).value);
    };
    auto num = [&](const char* k, long def) {
      try {
        return std::stol(param(k, std::to_string(def)));
      } catch (...) {
        return def;
      }
    };
    if (path.rfind("/_sandbox/", 0) == 0) return control(path, param, num, res);
    ++requests;
    if (vendor(req, target, path, res)) return true;
    auto expected = "Bearer " + opts.api_key;
    auto auth = std::string(req[http::field::authorization]);
    // An access token from the sandbox's own OAuth server is as good as the key: a generic
    // (rest) integration that signs in with settings.oauth is tested against these streams.
    bool signed_in = auth.rfind("Bearer ", 0) == 0 &&
                     oauth.check_access(auth.substr(7)) == oauth_server::token_state::valid;
    if (auth != expected && !signed_in) {
      res.result(http::status::unauthorized);
      res.body() =
          R"({"error":{"type":"invalid_request_error","code":"api_key_invalid","message":"Invalid API Key provided"}})";
      return true;
    }
    if (auto f = take_fault()) {
      if (f->kind == "401") {
        res.result(http::status::unauthorized);
        res.body() =
            R"({"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}})";
        return true;
      }
      if (f->kind == "429") {
        res.result(http::status::too_many_requests);
        res.set(http::field::retry_after, std::to_string(f->retry_after));
        res.body() =
            R"({"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly."}})";
        return true;
      }
      if (f->kind == "500") {
        res.result(http::status::internal_server_error);
        res.body() = R"({"error":{"type":"api_error","message":"An unexpected error occurred."}})";
        return true;
      }
      if (f->kind == "reset") {
        beast::error_code ec;
        sock.set_option(net::socket_base::linger(true, 0), ec);
        sock.close(ec);
        return false;
      }
      if (f->kind == "slow") {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(f->delay_ms), [&] { return stopping.load(); });
      }
      if (f->kind == "malformed") {
        res.result(http::status::ok);
        res.body() = R"({"object":"list","data":[{"id":"cus_00000001","name":)";
        return true;
      }
    }
    page_query q;
    long limit = 0;
    read_list_target(target, q, limit);  // it parsed above
    if (!data.has_stream(q.stream)) {
      res.result(http::status::not_found);
      res.body() =
          R"({"error":{"type":"invalid_request_error","message":"Unrecognized request URL"}})";
      return true;
    }
    if (limit < 1 || static_cast<size_t>(limit) > opts.max_page) {
      res.result(http::status::bad_request);
      res.body() =
          R"({"error":{"type":"invalid_request_error","param":"limit","message":"limit must be between 1 and )" +
          std::to_string(opts.max_page) + "\"}}";
      return true;
    }
    q.limit = static_cast<size_t>(limit);
    bool ok = data.page(q, res.body());
    res.result(ok ? http::status::ok : http::status::bad_request);
    return true;
  }

  // The vendor formats (sandbox/vendor_*.hpp) at their own prefixes; false for any other path.
  bool vendor(const http::request<http::string_body>& req, const std::string& target,
              const std::string& path, http::response<http::string_body>& res) {
    static const std::string xero_prefix = "/xero/api.xro/2.0", stripe_prefix = "/stripe/v1",
                             sage_prefix = "/sage/v3.1", qbo_prefix = "/quickbooks/v3/company";
    auto under = [&](const std::string& p) {
      return path.rfind(p, 0) == 0 && (path.size() == p.size() || path[p.size()] == '/');
    };
    bool is_xero = under(xero_prefix), is_stripe = under(stripe_prefix), is_oauth = under("/oauth");
    bool is_sage = under(sage_prefix), is_qbo = under(qbo_prefix), is_ecb = under("/ecb");
    bool is_odata = under("/odata");
    if (!is_xero && !is_stripe && !is_oauth && !is_sage && !is_qbo && !is_ecb && !is_odata)
      return false;
    vendor_request vr;
    make_request(std::string(req.method_string()), target, vr);  // it parsed in handle()
    for (const auto& f : req) {
      std::string k(f.name_string());
      for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      vr.headers[k] = std::string(f.value());
    }
    vr.body = req.body();
    vendor_response out;
    if (is_xero) {
      vr.path = vr.path.substr(xero_prefix.size());
      out = xero.handle(vr);
    } else if (is_odata) {
      vr.path = vr.path.substr(6);
      out = odata.handle(vr);
    } else if (is_ecb) {
      vr.path = vr.path.substr(4);
      out = ecb.handle(vr);
    } else if (is_qbo) {
      vr.path = vr.path.substr(qbo_prefix.size());
      out = quickbooks.handle(vr);
    } else if (is_sage) {
      vr.path = vr.path.substr(sage_prefix.size());
      out = sage.handle(vr);
    } else if (is_stripe) {
      vr.path = vr.path.substr(stripe_prefix.size());
      out = stripe.handle(vr);
    } else {
      out = oauth.handle(vr);
    }
    res.result(static_cast<http::status>(out.status));
    res.set(http::field::content_type, out.content_type);
    for (const auto& [k, v] : out.headers) res.set(k, v);
    res.body() = std::move(out.body);
    return true;
  }

  // /_sandbox/{mutate,invalid,repair,remove}?stream=xero/Invoices|stripe/customers
  void vendor_control(const std::string& path, const std::string& stream, size_t count,
                      http::response<http::string_body>& res) {
    vendor_collection::action a{};
    read_action(path.substr(std::string("/_sandbox/").size()), a);
    auto slash = stream.find('/');
    auto vendor = stream.substr(0, slash), coll = stream.substr(slash + 1);
    long n = vendor == "xero"         ? xero.control(a, coll, count)
             : vendor == "stripe"     ? stripe.control(a, coll, count)
             : vendor == "sage"       ? sage.control(a, coll, count)
             : vendor == "quickbooks" ? quickbooks.control(a, coll, count)
             : vendor == "odata"      ? odata.control(a, coll, count)
                                      : -1;
    if (n < 0) {
      res.result(http::status::bad_request);
      res.body() =
          R"({"error":{"message":"unknown stream; vendor streams are xero/<Collection> , stripe/<collection>, sage/<collection> or quickbooks/<Entity> or odata/<EntitySet>"}})";
      return;
    }
    res.body() = "{\"changed\":" + std::to_string(n) + "}";
  }

  template <class Param, class Num>
  bool control(const std::string& path, Param& param, Num& num,
               http::response<http::string_body>& res) {
    res.result(http::status::ok);
    if (path == "/_sandbox/fault") {
      fault f;
      f.kind = param("kind");
      f.remaining = static_cast<size_t>(std::max(1L, num("count", 1)));
      f.retry_after = static_cast<int>(num("retry_after", 1));
      f.delay_ms = static_cast<int>(num("delay_ms", 3000));
      static const std::set<std::string> kinds{"401", "429", "500", "slow", "malformed", "reset"};
      if (!kinds.count(f.kind)) {
        res.result(http::status::bad_request);
        res.body() =
            R"({"error":{"message":"kind must be 401, 429, 500, slow, malformed or reset"}})";
        return true;
      }
      std::lock_guard lock(mu);
      faults.push_back(f);
      res.body() = "{\"queued\":\"" + f.kind + "\",\"count\":" + std::to_string(f.remaining) + "}";
    } else if (path == "/_sandbox/mutate" || path == "/_sandbox/invalid" ||
               path == "/_sandbox/repair" || path == "/_sandbox/remove") {
      auto stream = param("stream", "customers");
      auto count = static_cast<size_t>(std::max(0L, num("count", 1)));
      if (stream.find('/') != std::string::npos) {
        vendor_control(path, stream, count, res);
        return true;
      }
      size_t n = path == "/_sandbox/mutate"    ? data.mutate(stream, count, wall_ms())
                 : path == "/_sandbox/invalid" ? data.invalidate(stream, count, wall_ms())
                 : path == "/_sandbox/remove"  ? data.remove(stream, count)
                                               : data.repair(stream, count, wall_ms());
      res.body() = "{\"changed\":" + std::to_string(n) + "}";
    } else if (path == "/_sandbox/xero/fault" || path == "/_sandbox/stripe/fault") {
      auto kind = param("kind");
      auto count = static_cast<size_t>(std::max(1L, num("count", 1)));
      bool ok = path == "/_sandbox/stripe/fault"
                    ? stripe.fault(kind, count)
                    : kind == "day_limit" || kind == "day_remaining" || xero.fault(kind, count);
      bool to_xero = ok && path == "/_sandbox/xero/fault";
      if (to_xero && kind == "day_limit") xero.fault_day_limit(count);
      if (to_xero && kind == "day_remaining") xero.spend_day_limit(count);
      if (!ok) {
        res.result(http::status::bad_request);
        res.body() =
            path == "/_sandbox/xero/fault"
                ? R"({"error":{"message":"kind must be day_limit, day_remaining, write_500, write_lost or write_429"}})"
                : R"({"error":{"message":"kind must be rate_limit, lock_timeout, write_500, write_lost or write_429"}})";
        return true;
      }
      res.body() = "{\"queued\":\"" + kind + "\",\"count\":" + std::to_string(count) + "}";
    } else if (path == "/_sandbox/sage/fault") {
      auto kind = param("kind");
      auto count = static_cast<size_t>(std::max(1L, num("count", 1)));
      if (!sage.fault(kind, count)) {
        res.result(http::status::bad_request);
        res.body() = R"({"error":{"message":"kind must be write_500, write_lost or write_429"}})";
        return true;
      }
      res.body() = "{\"queued\":\"" + kind + "\",\"count\":" + std::to_string(count) + "}";
    } else if (path == "/_sandbox/oauth/fail_next_refresh") {
      oauth.fail_next_refresh();
      res.body() = R"({"queued":"fail_next_refresh"})";
    } else if (path == "/_sandbox/oauth/expire") {
      oauth.expire_access_tokens();
      res.body() = R"({"expired":"access_tokens"})";
    } else if (path == "/_sandbox/oauth/revoke_all") {
      oauth.revoke_all();
      res.body() = R"({"revoked":"all_grants"})";
    } else if (path == "/_sandbox/quickbooks/fault") {
      auto kind = param("kind");
      auto count = static_cast<size_t>(std::max(1L, num("count", 1)));
      if (!quickbooks.fault(kind, count)) {
        res.result(http::status::bad_request);
        res.body() = R"({"error":{"message":"kind must be throttle, fault_in_200, write_500, )"
                     R"(write_lost or write_429"}})";
        return true;
      }
      res.body() = "{\"queued\":\"" + kind + "\",\"count\":" + std::to_string(count) + "}";
    } else if (path == "/_sandbox/statements") {
      if (opts.statements_dir.empty()) {
        res.result(http::status::bad_request);
        res.body() = R"({"error":{"message":"start the sandbox with --statements-dir DIR"}})";
        return true;
      }
      std::string error;
      auto written = write_statement(opts.statements_dir, param("format", "camt053"), opts.seed,
                                     static_cast<int>(std::clamp(num("n", 1), 0L, 100000L)), error);
      if (written.empty()) {
        res.result(http::status::bad_request);
        res.body() = "{\"error\":{\"message\":\"" + json_escape(error) + "\"}}";
        return true;
      }
      res.body() = "{\"written\":\"" + json_escape(written) + "\"}";
    } else if (path == "/_sandbox/quickbooks/realm") {
      res.body() = "{\"realm\":\"" + quickbooks.realm() + "\"}";
    } else if (path == "/_sandbox/sage/business") {
      res.body() = "{\"business_id\":\"" + sage.business_id() + "\"}";
    } else if (path == "/_sandbox/xero/tenant") {
      res.body() = "{\"tenant_id\":\"" + xero.tenant_id() + "\"}";
    } else if (path == "/_sandbox/effects") {
      res.body() = effects.to_json();
    } else if (path == "/_sandbox/stats") {
      std::lock_guard lock(mu);
      res.body() = "{\"requests\":" + std::to_string(requests.load()) +
                   ",\"faults_served\":" + std::to_string(faults_served.load()) +
                   ",\"faults_pending\":" + std::to_string(faults.size()) + "}";
    } else {
      res.result(http::status::not_found);
      res.body() = R"({"error":{"message":"unknown control endpoint"}})";
    }
    return true;
  }

  void session(tcp::socket sock) {
    beast::flat_buffer buf;
    beast::error_code ec;
    for (;;) {
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec) break;
      http::response<http::string_body> res;
      if (!handle(req, res, sock)) return;
      res.prepare_payload();
      http::write(sock, res, ec);
      if (ec || !res.keep_alive()) break;
    }
    sock.shutdown(tcp::socket::shutdown_send, ec);
  }
};

server::server(server_options o) : impl_(std::make_shared<impl>(std::move(o))) {}
server::~server() {
  stop();
}

server::vendor_ids server::ids() const {
  return {impl_->xero.tenant_id(), impl_->sage.business_id(), impl_->quickbooks.realm()};
}

uint16_t server::start(std::string& error) {
  auto& im = *impl_;
  beast::error_code ec;
  auto addr = net::ip::make_address(im.opts.host, ec);
  if (ec) return error = "bad host " + im.opts.host, 0;
  tcp::endpoint ep{addr, im.opts.port};
  im.acceptor.open(ep.protocol(), ec);
  if (!ec) im.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(ep, ec);
  if (!ec) im.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return error = "cannot listen on " + im.opts.host + ":" + std::to_string(im.opts.port) + ": " +
                   ec.message(),
           0;
  for (auto& s : dataset::streams())
    if (im.opts.invalid_stream.empty() || im.opts.invalid_stream == s)
      im.data.invalidate(s, im.opts.invalid_at_start, impl::wall_ms());
  auto self = impl_;
  im.accept_thread = std::thread([self] {
    while (!self->stopping) {
      beast::error_code ec;
      tcp::socket sock(self->ioc);
      self->acceptor.accept(sock, ec);
      if (ec) {
        if (self->stopping) break;
        continue;
      }
      sock.set_option(tcp::no_delay(true), ec);
      std::thread([self, s = std::move(sock)]() mutable { self->session(std::move(s)); }).detach();
    }
  });
  if (im.opts.churn > 0)
    im.churn_thread = std::thread([self] {
      std::unique_lock lock(self->mu);
      while (!self->cv.wait_for(lock, std::chrono::seconds(self->opts.churn_every_s),
                                [&] { return self->stopping.load(); })) {
        lock.unlock();
        for (auto& s : dataset::streams()) self->data.mutate(s, self->opts.churn, impl::wall_ms());
        lock.lock();
      }
    });
  return im.acceptor.local_endpoint().port();
}

void server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->cv.notify_all();
  beast::error_code ec;
  impl_->acceptor.cancel(ec);
  // accept() blocks; shutting the listening socket down wakes it.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor.close(ec);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  if (impl_->churn_thread.joinable()) impl_->churn_thread.join();
}

}  // namespace ledgersync::sandbox
