#pragma once
// Building blocks of relaytap's certificates (OpenSSL calls with their errors as Status): the CA
// certificate, with its name constraints, and the leaves it signs.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proxy/tls/host_name.h"
#include "proxy/tls/name_constraints.h"

namespace relaytap::proxy::tls {

inline constexpr long kDaySeconds = 24 * 60 * 60;

struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::shared_ptr<X509>;
using KeyPtr = std::shared_ptr<EVP_PKEY>;

inline X509Ptr WrapCert(X509* x) { return X509Ptr(x, X509_free); }
inline KeyPtr WrapKey(EVP_PKEY* k) { return KeyPtr(k, EVP_PKEY_free); }

absl::StatusOr<KeyPtr> GenerateP256Key();
absl::StatusOr<std::string> CertToPem(X509* cert);
absl::StatusOr<std::string> KeyToPkcs8Pem(EVP_PKEY* key);

// A self-signed CA certificate for `key`, valid from a day ago for `days` days from now,
// pathlen 0, carrying `constraints` as a critical nameConstraints extension.
absl::StatusOr<X509Ptr> MakeCaCert(EVP_PKEY* key, const NameConstraintSet& constraints, int days);

// A server leaf for `host` with `leaf_key`, signed by the CA, valid from a day ago for `days` days
// from now but never past the CA's own notAfter.
absl::StatusOr<X509Ptr> MakeLeafCert(X509* ca_cert, EVP_PKEY* ca_key, EVP_PKEY* leaf_key,
                                     const HostName& host, int days);

// notAfter as seconds since the epoch.
std::time_t NotAfterOf(const X509* cert);

}  // namespace relaytap::proxy::tls
