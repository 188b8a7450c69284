// `ledgersync connect NAME`: signs an integration in with OAuth 2.0 the way RFC 8252 asks of a
// native app. The CLI listens on 127.0.0.1 on a free port, asks the service to begin a sign-in
// for the redirect http://127.0.0.1:PORT/callback (the service makes the PKCE verifier and the
// state and keeps the verifier), prints the authorize URL (and opens a browser unless
// --no-browser), accepts the one redirect that carries the code, checks its state, shows a page
// saying how it went, and asks the service to finish (exchange the code, store the refresh token
// sealed). `--client-credentials` signs in with the client id and secret alone, no browser.
#pragma once

#include <string>

#include "cli/client.hpp"

namespace ledgersync::cli {

struct connect_options {
  bool no_browser = false;
  bool client_credentials = false;
  int wait_s = 300;  // how long the loopback listener waits for the redirect
  bool json_out = false;
};

int run_connect(service_client& c, const std::string& name, const connect_options& o);

// The redirect's query (path "/callback?code=…&state=…" or "?error=…"), read; `error` set when
// the target is not the callback or the vendor refused.
struct callback_result {
  bool is_callback = false;
  std::string code, state, error;
};
callback_result read_callback(const std::string& target);

}  // namespace ledgersync::cli
