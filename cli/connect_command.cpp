#include "cli/connect_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <iostream>

#include "cli/errors.hpp"

extern char** environ;

namespace ledgersync::cli {

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using net::ip::tcp;
using nlohmann::json;

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string page(const std::string& title, const std::string& text) {
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>ledgersync: " +
         html_escape(title) +
         "</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">"
         "<h1>" +
         html_escape(title) + "</h1><p>" + html_escape(text) + "</p></body></html>";
}

void answer(tcp::socket& sock, http::status status, const std::string& body) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::connection, "close");
  res.body() = body;
  res.prepare_payload();
  boost::beast::error_code ec;
  http::write(sock, res, ec);
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

// Best effort: a desktop's URL opener; the URL is printed either way.
void open_browser(const std::string& url) {
  for (const char* opener : {"xdg-open", "open"}) {
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char* argv[] = {const_cast<char*>(opener), const_cast<char*>(url.c_str()), nullptr};
    int rc = posix_spawnp(&pid, opener, &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc == 0) return;  // not waited for: the opener may outlive the sign-in
  }
}

int finish(const reply& r, const connect_options& o, const std::string& name) {
  if (r.code != 0) {
    print_error(r);
    return r.code;
  }
  if (o.json_out)
    std::cout << r.body.dump() << "\n";
  else
    std::cout << "connected " << name << " ("
              << (r.body.value("grant", "") == "client_credentials" ? "client credentials"
                                                                    : "refresh token stored sealed")
              << "); the next sync signs in with it\n";
  return ok;
}

}  // namespace

callback_result read_callback(const std::string& target) {
  callback_result out;
  auto u = boost::urls::parse_origin_form(target);
  if (!u || u->path() != "/callback") return out;
  out.is_callback = true;
  auto get = [&](const char* k) {
    auto it = u->params().find(k);
    return it == u->params().end() ? std::string() : std::string((*it).value);
  };
  out.code = get("code");
  out.state = get("state");
  if (auto e = get("error"); !e.empty()) {
    auto d = get("error_description");
    out.error = "the vendor refused the sign-in: " + e.substr(0, 64) +
                (d.empty() ? "" : " (" + d.substr(0, 200) + ")");
  } else if (out.code.empty()) {
    out.error = "the redirect carries no code";
  }
  return out;
}

int run_connect(service_client& c, const std::string& name, const connect_options& o) {
  if (o.client_credentials)
    return finish(c.call("connect", name, {{"step", "client_credentials"}}), o, name);

  // RFC 8252 7.3: the loopback interface, any free port, named by IP literal.
  net::io_context ioc;
  tcp::acceptor acceptor(ioc);
  boost::system::error_code ec;
  acceptor.open(tcp::v4(), ec);
  if (!ec) acceptor.bind({net::ip::make_address("127.0.0.1"), 0}, ec);
  if (!ec) acceptor.listen(4, ec);
  if (ec)
    die(failed, "connect: cannot listen on 127.0.0.1 for the sign-in's redirect: " + ec.message());
  auto redirect =
      "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/callback";
  auto begun = c.call("connect", name, {{"step", "begin"}, {"redirect_uri", redirect}});
  if (begun.code != 0) {
    print_error(begun);
    return begun.code;
  }
  auto url = begun.body.value("authorize_url", "");
  auto state = begun.body.value("state", "");
  if (o.json_out) {
    std::cout << json{{"authorize_url", url}, {"redirect_uri", redirect}}.dump() << std::endl;
  } else {
    std::cout << "Sign in to " << name << " in a browser at:\n  " << url << "\n"
              << "Waiting for the redirect to " << redirect << " (up to " << o.wait_s << " s)...\n"
              << std::flush;
  }
  if (!o.no_browser) open_browser(url);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_s);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{acceptor.native_handle(), POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
      die(failed, "connect: no redirect came back within " + std::to_string(o.wait_s) + " s",
          "run `ledgersync connect " + name + "` again and finish signing in in the browser");
    tcp::socket sock(ioc);
    acceptor.accept(sock, ec);
    if (ec) continue;
    timeval tv{10, 0};  // a connection that sends nothing does not hold the sign-in
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    boost::beast::flat_buffer buf;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    http::read(sock, buf, parser, ec);
    if (ec) continue;
    auto cb = read_callback(std::string(parser.get().target()));
    if (!cb.is_callback) {  // a favicon, a probe: not the redirect, keep waiting
      answer(sock, http::status::not_found, page("Not found", "This is not the sign-in page."));
      continue;
    }
    // Only the redirect that carries this sign-in's state is acted on: any other local process
    // or web page can reach this port, and must not end (or abort) the sign-in.
    if (cb.state != state) {
      answer(sock, http::status::bad_request,
             page("Sign-in refused",
                  "This redirect does not belong to the sign-in that "
                  "ledgersync started; nothing was stored."));
      continue;
    }
    if (!cb.error.empty()) {
      // The vendor's words, without what a terminal would interpret.
      std::string said;
      for (char ch : cb.error.substr(0, 300))
        said += static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f ? ' ' : ch;
      answer(sock, http::status::bad_request, page("Sign-in failed", said + "."));
      die(failed, "connect: " + said, "run `ledgersync connect " + name + "` again");
    }
    auto r = c.call("connect", name, {{"step", "finish"}, {"code", cb.code}, {"state", cb.state}});
    if (r.code == 0)
      answer(sock, http::status::ok,
             page("Signed in", "ledgersync is connected to " + name +
                                   ". You can close this tab and return to the terminal."));
    else
      answer(
          sock, http::status::bad_gateway,
          page("Sign-in failed", r.body.value("error", "the code could not be exchanged") + "."));
    return finish(r, o, name);
  }
}

}  // namespace ledgersync::cli
