#pragma once
// relaytap's local CA: loaded from (or created in) a directory, then used to mint one leaf
// certificate per host name, cached (LRU, bounded). One ECDSA P-256 leaf key pair is generated
// once per process and shared by every leaf. Certificates pass strict verifiers
// (X509_V_FLAG_X509_STRICT, Python's VERIFY_X509_STRICT, Go, Node, curl).
//
// The CA can only vouch for the intercepted names: it carries critical X.509 name constraints
// made from the intercept patterns (name_constraints.h), lives kCaValidityDays, and is re-issued
// (the old files kept as *.previous, with a warning naming the file to trust) when the patterns
// change, when it nears its end, or when it was issued for longer than that. Leaves name exactly
// one host (no wildcards) and live kLeafValidityDays.
//
// Thread-safe: LeafFor() may be called from any io thread (the cache takes a mutex; minting
// happens outside it). Key generation happens only in LoadOrCreate().

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/tls/name_constraints.h"

namespace relaytap::proxy::tls {

inline constexpr std::string_view kCaCertFileName = "relaytap-ca.pem";
inline constexpr std::string_view kCaKeyFileName = "relaytap-ca.key";
inline constexpr std::string_view kBundleFileName = "relaytap-bundle.pem";

inline constexpr int kCaValidityDays = 90;
inline constexpr int kCaRenewDaysBeforeEnd = 14;  // re-issued at start when fewer days are left
inline constexpr int kLeafValidityDays = 7;
inline constexpr size_t kDefaultLeafCacheCapacity = 1024;

// A minted leaf. Immutable once built; shared between connections.
struct Leaf {
  std::shared_ptr<X509> cert;     // owns the X509
  std::shared_ptr<EVP_PKEY> key;  // the process-wide leaf key
  std::string cert_pem;
  std::time_t not_after = 0;
};

struct CaOptions {
  // The intercept patterns ("*.example.com", "api.example.com", "127.0.0.1", "*") the CA's name
  // constraints are made from.
  std::vector<std::string> patterns;
  // True (the proxy): an existing CA made for other patterns is re-issued for these. False
  // (tools that only mint from the CA): an existing CA is used with the constraints it has, and
  // `patterns` only shape a new one.
  bool follow_patterns = true;
  // `relaytap ca rotate`: re-issue whatever the existing CA is.
  bool force_reissue = false;
  size_t leaf_cache_capacity = kDefaultLeafCacheCapacity;
};

class CertAuthority {
 public:
  // Loads `dir/relaytap-ca.pem` and `dir/relaytap-ca.key`, or creates both (dir 0700, key 0600)
  // when neither exists, re-issuing as described above. One existing without the other, an
  // unreadable file, or a key that does not match the certificate is an error that names the
  // file; so is a pattern that cannot become a name constraint.
  static absl::StatusOr<std::unique_ptr<CertAuthority>> LoadOrCreate(
      const std::filesystem::path& dir, const CaOptions& options);

  ~CertAuthority();
  CertAuthority(const CertAuthority&) = delete;
  CertAuthority& operator=(const CertAuthority&) = delete;

  const std::filesystem::path& cert_path() const;
  const std::string& cert_pem() const;
  bool created() const;   // true when LoadOrCreate made a new CA (fresh or re-issued)
  bool reissued() const;  // true when it replaced an existing one (kept as *.previous)
  // Why it was re-issued, for the operator ("the intercept patterns changed: ..."); else empty.
  const std::string& reissue_reason() const;
  std::filesystem::path previous_cert_path() const;
  const NameConstraintSet& constraints() const;
  std::time_t not_after() const;

  // The leaf for `host` (a DNS name, or an IPv4/IPv6 literal which gets an IP SAN). Minted on
  // first use and cached; host names are lower-cased. InvalidArgument for a wildcard or a name
  // that is no DNS name or IP literal; PermissionDenied for a host the constraints exclude.
  absl::StatusOr<std::shared_ptr<const Leaf>> LeafFor(std::string_view host);

  size_t cached_leaves_for_test() const;
  std::vector<std::string> cached_hosts_for_test() const;  // most recently used first

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
