// The one HTTP(S) client every connector goes through. Async on Asio: `fetch` returns at once
// and the callback runs later on an I/O thread, so actors never block on the network.
#pragma once

#include <functional>
#include <memory>

#include "connectors/http_types.hpp"
#include "connectors/tls.hpp"

namespace ledgersync {

class http_transport {
 public:
  using callback = std::function<void(http_response)>;
  virtual ~http_transport() = default;
  // Calls `done` exactly once, on some other thread, with an answer or a transport error.
  virtual void fetch(http_request req, callback done) = 0;
};

// Owns the io_context and its threads. Stopping joins the threads; pending fetches complete
// with an error. Not copyable.
class io_runtime {
 public:
  explicit io_runtime(int threads = 2);
  ~io_runtime();
  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  // A transport with one keep-alive connection of its own (one per integration), with
  // connect/read timeouts and the request's body-size limit; TLS verifies the peer against the
  // system's CAs plus the integration's own, and presents its client certificate if it has one.
  std::shared_ptr<http_transport> make_transport(const tls_options& tls = {});
  // TLS contexts alive: one per distinct CA/client-certificate setting in use, shared by the
  // transports that have it and built at their first https request.
  size_t tls_contexts() const;
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace ledgersync
