// The dispatcher over real loopback HTTP: the real transport, the real clock and its own
// thread, against a small receiver in the test that checks each signature as an integrator
// would. Retries are shortened to 50 ms so the test takes well under a second.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "notify/dispatcher.hpp"
#include "notify/signing.hpp"
#include "tests/faulty_storage.hpp"

using namespace ledgersync;
using namespace ledgersync::notify;
namespace net = boost::asio;

namespace {

// Answers `answers.size()` requests, one per connection, with the given status lines, and
// checks each request's signature with `secret`.
class receiver {
 public:
  explicit receiver(std::vector<std::string> answers) : answers_(std::move(answers)) {
    server_ = std::thread([this] {
      try {
        serve();
      } catch (const std::exception&) {
        // The test ended early and woke accept() with an empty connection.
      }
      finished_ = true;
    });
  }
  ~receiver() {
    if (!finished_) {
      // A test that failed before every request came: wake accept() so the thread can end.
      net::ip::tcp::socket poke(ioc_);
      boost::system::error_code ec;
      poke.connect(acceptor_.local_endpoint(), ec);
    }
    if (server_.joinable()) server_.join();
  }

 private:
  void serve() {
    for (auto& answer : answers_) {
      net::ip::tcp::socket sock(ioc_);
      acceptor_.accept(sock);
      net::streambuf buf;
      auto n = net::read_until(sock, buf, "\r\n\r\n");
      std::string head(net::buffers_begin(buf.data()), net::buffers_begin(buf.data()) + n);
      buf.consume(n);
      size_t length = std::stoul(field(head, "content-length"));
      if (buf.size() < length) net::read(sock, buf, net::transfer_exactly(length - buf.size()));
      std::string body(net::buffers_begin(buf.data()), net::buffers_begin(buf.data()) + length);
      auto now = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      {
        std::lock_guard lock(mu_);
        heads_.push_back(head);
        bodies_.push_back(body);
        verdicts_.push_back(verify(field(head, "ledgersync-signature"), body, secret_, now));
      }
      auto reply = answer + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      net::write(sock, net::buffer(reply));
    }
  }

 public:
  // Known only once the subscription (whose URL holds the port) exists; before any request.
  void set_secret(std::string s) {
    std::lock_guard lock(mu_);
    secret_ = std::move(s);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::vector<verify_result> verdicts() {
    std::lock_guard lock(mu_);
    return verdicts_;
  }
  std::vector<std::string> heads() {
    std::lock_guard lock(mu_);
    return heads_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  static std::string field(const std::string& head, const std::string& name) {
    std::string lower;
    for (char c : head) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    auto start = at + 3 + name.size();
    auto end = head.find("\r\n", start);
    auto v = head.substr(start, end - start);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  }

  std::vector<std::string> answers_;
  std::string secret_;
  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_{ioc_, {net::ip::make_address("127.0.0.1"), 0}};
  std::mutex mu_;
  std::vector<std::string> heads_, bodies_;
  std::vector<verify_result> verdicts_;
  std::atomic<bool> finished_{false};
  std::thread server_;
};

// Waits for the dispatcher's thread to write `n` attempts, up to 10 s of real time.
std::vector<delivery_record> wait_for_log(subscription_store& store, const std::string& id,
                                          size_t n) {
  notify_error err;
  for (int i = 0; i < 1000; ++i) {
    auto s = store.get(id, err);
    if (s && s->deliveries.size() >= n && s->deliveries.back().outcome != "retrying")
      return s->deliveries;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return store.get(id, err)->deliveries;
}

}  // namespace

TEST_CASE("over loopback: a 500 is retried, the 200 after it ends the delivery, both logged",
          "[loopback]") {
  testing::temp_dir dir;
  auto box = secret_box::with_key(std::string(32, 'k'));
  subscription_store store(dir.path + "/webhooks.json", &box);
  notify_error err;
  receiver rx({"HTTP/1.1 500 Internal Server Error", "HTTP/1.1 200 OK"});
  auto made =
      store.add("http://127.0.0.1:" + std::to_string(rx.port()) + "/hook", {"run_failed"}, err);
  REQUIRE(made);
  rx.set_secret(made->secret);

  io_runtime rt(1);
  auto transport = rt.make_transport();
  system_clock_source clock;
  retry_settings quick;
  quick.first_delay = std::chrono::milliseconds(50);
  dispatcher d(store, box, *transport, clock, quick);
  d.start();
  d.notify("run_failed", {{"integration", "stripe"}, {"error", "timeout"}});

  auto log = wait_for_log(store, made->sub.id, 2);
  d.stop();
  REQUIRE(log.size() == 2);
  CHECK(log[0].attempt == 1);
  CHECK(log[0].status == 500);
  CHECK(log[0].outcome == "retrying");
  CHECK(log[1].attempt == 2);
  CHECK(log[1].status == 200);
  CHECK(log[1].outcome == "delivered");
  CHECK(log[0].delivery_id == log[1].delivery_id);
  CHECK(rx.verdicts() == std::vector<verify_result>{verify_result::ok, verify_result::ok});
  auto heads = rx.heads();
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].rfind("POST /hook HTTP/1.1\r\n", 0) == 0);
  CHECK(heads[0].find("Ledgersync-Event: run_failed\r\n") != std::string::npos);
  CHECK(heads[0].find("Ledgersync-Delivery: " + log[0].delivery_id + "\r\n") != std::string::npos);
  auto bodies = rx.bodies();
  CHECK(bodies[0] == bodies[1]);
  CHECK(nlohmann::json::parse(bodies[0])["data"]["integration"] == "stripe");
}

TEST_CASE("over loopback: a 302 to another host is a failure and the other host is not asked",
          "[loopback]") {
  testing::temp_dir dir;
  auto box = secret_box::with_key(std::string(32, 'k'));
  subscription_store store(dir.path + "/webhooks.json", &box);
  notify_error err;
  net::io_context ioc;
  net::ip::tcp::acceptor elsewhere(ioc, {net::ip::make_address("127.0.0.1"), 0});
  auto target = "http://127.0.0.1:" + std::to_string(elsewhere.local_endpoint().port()) + "/";
  receiver rx({"HTTP/1.1 302 Found\r\nLocation: " + target});
  auto made = store.add("http://127.0.0.1:" + std::to_string(rx.port()) + "/hook", {"*"}, err);
  REQUIRE(made);
  rx.set_secret(made->secret);

  io_runtime rt(1);
  auto transport = rt.make_transport();
  system_clock_source clock;
  retry_settings once;
  once.max_attempts = 1;
  dispatcher d(store, box, *transport, clock, once);
  d.start();
  d.notify("disconnected", {{"integration", "xero"}});
  auto log = wait_for_log(store, made->sub.id, 1);
  d.stop();
  REQUIRE(log.size() == 1);
  CHECK(log[0].status == 302);
  CHECK(log[0].outcome == "failed");
  CHECK(log[0].error.find("not followed") != std::string::npos);
  elsewhere.non_blocking(true);
  net::ip::tcp::socket sock(ioc);
  boost::system::error_code ec;
  elsewhere.accept(sock, ec);
  CHECK(ec == net::error::would_block);  // nobody came to the redirect's target
}
