// TLS settings of one integration and what a certificate problem means to a user. Plain OpenSSL,
// no Asio: the transport feeds it what the handshake saw, unit tests feed it made-up facts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/errors.hpp"

struct x509_st;  // OpenSSL's X509, declared here so this header does not pull OpenSSL in

namespace ledgersync {

struct tls_options {
  std::string ca_pem;           // trusted in addition to the system's CAs
  std::string client_cert_pem;  // mutual TLS: the chain presented to the server
  std::string client_key_pem;   // its private key (sealed at rest)
  std::string server_name;      // verified (and sent as SNI) instead of the URL's host
  bool operator==(const tls_options&) const = default;
};

struct cert_facts {
  std::string subject, issuer;
  std::string not_before, not_after;  // ISO 8601 UTC
  int64_t not_after_ms = 0;
  bool empty() const { return subject.empty() && issuer.empty(); }
};

cert_facts facts_of_x509(::x509_st* x);
// The first certificate of a PEM text; nullopt with `error` when there is none or it is unreadable.
std::optional<cert_facts> read_certificate(const std::string& pem, std::string& error);
// Why these settings cannot work (unreadable PEM, key not matching the certificate, a key without
// a certificate); empty when they can.
std::string check_tls_options(const tls_options& o);

// What a failed TLS exchange saw.
struct tls_failure {
  int verify_error = 0;  // X509_V_ERR_* of the first certificate that failed, 0 if none did
  int depth = 0;         // its place in the chain (0 = the server's own certificate)
  cert_facts cert;       // that certificate
  std::string name;      // the name verified against the certificate
  int alert_reason = 0;  // ERR_GET_REASON of an SSL error (an alert the server sent), 0 if none
  bool client_cert_configured = false;
  // The server asked for a client certificate, and then reset or closed the connection on the
  // first request: with TLS 1.3 it judges the certificate after the client's handshake is done,
  // and its alert is often lost to the reset that follows it.
  bool cert_requested = false;
  bool closed_after_handshake = false;
  std::string where;  // "TLS handshake with https://host:443"
};

// A `tls` error with the cause and its own hint; nullopt when the failure is not about a
// certificate (a plain-HTTP server on an https URL, a reset), which stays `unreachable`.
std::optional<error_info> classify_tls_failure(const tls_failure& f);

}  // namespace ledgersync
