#include "connectors/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace ledgersync {

namespace {

struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

bio_ptr mem_bio(const std::string& pem) {
  return bio_ptr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string name_text(X509_NAME* n) {
  if (!n) return "";
  bio_ptr b(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(b.get(), n, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  auto len = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string iso_time(const ASN1_TIME* t, int64_t* ms) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  if (ms) *ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string openssl_error() {
  auto code = ERR_peek_last_error();
  ERR_clear_error();
  if (!code) return "not PEM";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace

cert_facts facts_of_x509(X509* x) {
  cert_facts f;
  if (!x) return f;
  f.subject = name_text(X509_get_subject_name(x));
  f.issuer = name_text(X509_get_issuer_name(x));
  f.not_before = iso_time(X509_get0_notBefore(x), nullptr);
  f.not_after = iso_time(X509_get0_notAfter(x), &f.not_after_ms);
  return f;
}

std::optional<cert_facts> read_certificate(const std::string& pem, std::string& error) {
  auto b = mem_bio(pem);
  x509_ptr x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!x) {
    error = "no readable PEM certificate (" + openssl_error() + ")";
    return std::nullopt;
  }
  return facts_of_x509(x.get());
}

std::string check_tls_options(const tls_options& o) {
  std::string err;
  if (o.server_name.find_first_of(" /:@\r\n") != std::string::npos)
    return "TLS server name '" + o.server_name + "' is not a host name";
  if (!o.ca_pem.empty() && !read_certificate(o.ca_pem, err)) return "TLS CA bundle: " + err;
  if (!o.client_key_pem.empty() && o.client_cert_pem.empty())
    return "a TLS client key needs its client certificate (tls_client_cert_pem)";
  if (o.client_cert_pem.empty()) return "";
  if (o.client_key_pem.empty())
    return "a TLS client certificate needs its private key (tls_client_key)";
  auto cb = mem_bio(o.client_cert_pem);
  x509_ptr cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!cert) return "TLS client certificate: no readable PEM certificate (" + openssl_error() + ")";
  auto kb = mem_bio(o.client_key_pem);
  // An empty passphrase callback: an encrypted key fails here instead of prompting on a tty.
  pkey_ptr key(PEM_read_bio_PrivateKey(
      kb.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key)
    return "TLS client key: no readable unencrypted PEM private key (" + openssl_error() + ")";
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return "TLS client key does not belong to the client certificate";
  }
  return "";
}

// Hints name the settings in plain words; which settings fix it goes with the error
// (fix_settings), for each surface to phrase: the CLI as its flags, the page as its fields.
std::optional<error_info> classify_tls_failure(const tls_failure& f) {
  auto tls = [&](std::string msg, std::string hint, std::vector<std::string> fix = {}) {
    auto e = make_error_info(error_category::tls, f.where + " failed: " + std::move(msg), true);
    e.specific_hint = std::move(hint);
    e.fix_settings = std::move(fix);
    return e;
  };
  std::string whose = f.depth == 0 ? "the server's certificate" : "a CA certificate in its chain";
  std::string subject = f.cert.subject.empty() ? "" : " (" + f.cert.subject + ")";
  switch (f.verify_error) {
    case 0:
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return tls(whose + subject + " is issued by '" + f.cert.issuer +
                     "', which this integration does not trust",
                 "add the server's CA to the integration's TLS settings (trusted CA)",
                 {"tls_ca_pem"});
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return tls(
          "the server's certificate" + subject + " is not valid for the name '" + f.name + "'",
          "use the host name the certificate names in the base URL, or set the name to "
          "verify (TLS server name)",
          {"base_url", "tls_server_name"});
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return tls(whose + subject + " expired on " + f.cert.not_after + " (valid from " +
                     f.cert.not_before + " until " + f.cert.not_after + ")",
                 "the server's certificate expired on " + f.cert.not_after +
                     " — the source system's administrator must renew it; if it was renewed, "
                     "check this machine's clock");
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return tls(whose + subject + " is not valid before " + f.cert.not_before + " (valid from " +
                     f.cert.not_before + " until " + f.cert.not_after + ")",
                 "the server's certificate is valid only from " + f.cert.not_before +
                     " — check this machine's clock, or wait until then");
    default:
      return tls(
          whose + subject + " was rejected: " + X509_verify_cert_error_string(f.verify_error),
          "the server's certificate cannot be verified — check it with the source "
          "system's administrator, and the integration's TLS settings");
  }
  int alert = f.alert_reason;
  if (alert == 0 && f.cert_requested && f.closed_after_handshake)
    alert = f.client_cert_configured ? SSL_R_SSLV3_ALERT_BAD_CERTIFICATE
                                     : SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
  auto alert_text = [&] {
    if (f.alert_reason == 0)
      return std::string("the server asked for it and closed the connection");
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, nullptr);
    auto* text = ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, f.alert_reason));
    return text ? std::string(text) : "TLS error reason " + std::to_string(f.alert_reason);
  };
  switch (alert) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      if (!f.client_cert_configured)
        return tls("the server requires a client certificate and none is configured (" +
                       alert_text() + ")",
                   "configure the client certificate the source system issued, and its key",
                   {"tls_client_cert_pem", "tls_client_key"});
      [[fallthrough]];
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      if (!f.client_cert_configured)
        return tls("the server refused the connection for want of a client certificate (" +
                       alert_text() + ")",
                   "configure the client certificate the source system issued, and its key",
                   {"tls_client_cert_pem", "tls_client_key"});
      return tls("the server refused the client certificate (" + alert_text() + ")",
                 "the client certificate was refused — check that it is the one the source "
                 "system registered, issued by a CA it trusts, and not expired or revoked; "
                 "replace it and its key",
                 {"tls_client_cert_pem", "tls_client_key"});
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace ledgersync
