#pragma once
// relaytap's local CA: loaded from (or created in) a directory on first start, then used to mint
// one leaf certificate per host name, cached. One ECDSA P-256 leaf key pair is generated once per
// process and shared by every leaf. Certificates pass strict verifiers (X509_V_FLAG_X509_STRICT,
// Python's VERIFY_X509_STRICT, Go, Node, curl).
//
// Thread-safe: LeafFor() may be called from any io thread (minting takes a mutex; the cache lookup
// is cheap). Key generation happens only in LoadOrCreate().

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace relaytap::proxy::tls {

inline constexpr std::string_view kCaCertFileName = "relaytap-ca.pem";
inline constexpr std::string_view kCaKeyFileName = "relaytap-ca.key";
inline constexpr std::string_view kBundleFileName = "relaytap-bundle.pem";

// A minted leaf. Immutable once built; shared between connections.
struct Leaf {
  std::shared_ptr<X509> cert;     // owns the X509
  std::shared_ptr<EVP_PKEY> key;  // the process-wide leaf key
  std::string cert_pem;
};

class CertAuthority {
 public:
  // Loads `dir/relaytap-ca.pem` and `dir/relaytap-ca.key`, or creates both (dir 0700, key 0600)
  // when neither exists. One existing without the other, an unreadable file, or a key that does not
  // match the certificate is an error that names the file.
  static absl::StatusOr<std::unique_ptr<CertAuthority>> LoadOrCreate(
      const std::filesystem::path& dir);

  ~CertAuthority();
  CertAuthority(const CertAuthority&) = delete;
  CertAuthority& operator=(const CertAuthority&) = delete;

  const std::filesystem::path& cert_path() const;
  const std::string& cert_pem() const;
  bool created() const;  // true when LoadOrCreate made a new CA

  // The leaf for `host` (a DNS name, or an IPv4/IPv6 literal which gets an IP SAN). Minted on
  // first use and cached. Host names are lower-cased.
  absl::StatusOr<std::shared_ptr<const Leaf>> LeafFor(std::string_view host);

 private:
  struct Impl;
  explicit CertAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes `dir/relaytap-bundle.pem`: the system trust store's roots followed by the CA certificate,
// so pointing SSL_CERT_FILE & co at it keeps the app's other HTTPS working. Returns its path.
absl::StatusOr<std::filesystem::path> WriteTrustBundle(const CertAuthority& ca,
                                                       const std::filesystem::path& dir);

}  // namespace relaytap::proxy::tls
