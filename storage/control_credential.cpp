#include "storage/control_credential.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>

namespace ledgersync {

namespace {

template <class T, void (*Free)(T*)>
struct ossl_deleter {
  void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, ossl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, ossl_deleter<X509, X509_free>>;

// Writes through a temporary file created 0600 and renamed into place, so a reader never sees
// half a key and a crash leaves either the old state or the whole file.
bool write_pem(const std::string& path, const std::function<bool(FILE*)>& emit) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return false;
  }
  bool ok = emit(f) && std::fflush(f) == 0 && ::fsync(fd) == 0;
  ok = std::fclose(f) == 0 && ok;
  return ok && ::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

control_credential control_credential_paths(const std::string& dir) {
  return {dir + "/control.crt", dir + "/control.key"};
}

std::string ensure_control_credential(const std::string& dir) {
  auto c = control_credential_paths(dir);
  if (::access(c.certificate.c_str(), F_OK) == 0 && ::access(c.key.c_str(), F_OK) == 0) return "";
  pkey_ptr key(EVP_EC_gen("P-256"));
  x509_ptr cert(X509_new());
  if (!key || !cert) return "cannot create the control-plane key";
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ledgersync control plane"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  // It is its own CA: the one certificate both ends present and trust.
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (auto* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE")) {
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) return "cannot sign the control certificate";
  if (!write_pem(c.key, [&](FILE* f) {
        return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
      }))
    return "cannot write " + c.key + ": " + std::strerror(errno);
  if (!write_pem(c.certificate, [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; }))
    return "cannot write " + c.certificate + ": " + std::strerror(errno);
  return "";
}

std::string check_control_credential(const control_credential& c) {
  for (auto* path : {&c.certificate, &c.key}) {
    int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return "cannot read " + *path + " (" + std::strerror(errno) +
             "): the service admits only users who can read its data dir";
    ::close(fd);
  }
  return "";
}

}  // namespace ledgersync
