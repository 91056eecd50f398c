#include "proxy/tls/cert_authority.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/tls/ca_files.h"
#include "proxy/tls/leaf_cache.h"
#include "proxy/tls/openssl_error.h"
#include "proxy/tls/x509_build.h"

namespace relaytap::proxy::tls {
namespace {

namespace fs = std::filesystem;

// A CA issued for longer than this (our own lifetime plus the backdated day and some slack) comes
// from an older relaytap: re-issued.
constexpr long kLongestAcceptedCaSeconds = (kCaValidityDays + 2) * kDaySeconds;

std::string Date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

std::time_t NotBeforeOf(const X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) != 1) return 0;
  return ::timegm(&tm);
}

std::string PatternList(const NameConstraintSet& set) {
  std::string out;
  for (const std::string& p : PatternsFor(set)) out += StrCat(out.empty() ? "" : " ", p);
  return out;
}

}  // namespace

struct CertAuthority::Impl {
  explicit Impl(size_t capacity) : cache(capacity) {}

  fs::path cert_path;
  fs::path key_path;
  std::string cert_pem;
  bool created = false;
  bool reissued = false;
  std::string reissue_reason;
  NameConstraintSet constraints;
  bool constraints_known = true;  // false: the loaded CA has constraints relaytap does not make
  X509Ptr ca_cert;
  KeyPtr ca_key;
  KeyPtr leaf_key;
  std::time_t not_after = 0;

  mutable absl::Mutex mu;
  LeafCache cache ABSL_GUARDED_BY(mu);

  absl::Status Load();
  absl::Status Create(const NameConstraintSet& set);
  std::string ReissueReason(const CaOptions& options, const NameConstraintSet& wanted) const;
  absl::Status Reissue(const CaOptions& options, const NameConstraintSet& wanted,
                       std::string reason);
};

absl::Status CertAuthority::Impl::Load() {
  RELAYTAP_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(cert_path));
  BioPtr cert_bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ca_cert = WrapCert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert) {
    return absl::DataLossError(OpenSslError(StrCat("no PEM certificate in ", cert_path.string())));
  }
  RELAYTAP_RETURN_IF_ERROR(CheckKeyFilePermissions(key_path));
  RELAYTAP_ASSIGN_OR_RETURN(std::string key_pem, ReadWholeFile(key_path));
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  ca_key = WrapKey(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  if (!ca_key) {
    return absl::DataLossError(OpenSslError(StrCat("no PEM private key in ", key_path.string())));
  }
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    return absl::FailedPreconditionError(OpenSslError(
        StrCat("CA key ", key_path.string(), " does not match certificate ", cert_path.string())));
  }
  absl::StatusOr<NameConstraintSet> set = ConstraintsOf(ca_cert.get());
  constraints_known = set.ok();
  constraints = set.ok() ? *std::move(set) : NameConstraintSet{};
  not_after = NotAfterOf(ca_cert.get());
  RELAYTAP_ASSIGN_OR_RETURN(cert_pem, CertToPem(ca_cert.get()));
  return absl::OkStatus();
}

absl::Status CertAuthority::Impl::Create(const NameConstraintSet& set) {
  RELAYTAP_ASSIGN_OR_RETURN(ca_key, GenerateP256Key());
  RELAYTAP_ASSIGN_OR_RETURN(ca_cert, MakeCaCert(ca_key.get(), set, kCaValidityDays));
  RELAYTAP_ASSIGN_OR_RETURN(cert_pem, CertToPem(ca_cert.get()));
  RELAYTAP_ASSIGN_OR_RETURN(std::string key_pem, KeyToPkcs8Pem(ca_key.get()));
  absl::Status st = WriteNewFile(key_path, key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  RELAYTAP_RETURN_IF_ERROR(st);
  st = WriteNewFile(cert_path, cert_pem, 0644);
  if (!st.ok()) ::unlink(key_path.c_str());  // never leave a key without its certificate
  RELAYTAP_RETURN_IF_ERROR(st);
  created = true;
  constraints = set;
  constraints_known = true;
  not_after = NotAfterOf(ca_cert.get());
  return absl::OkStatus();
}

std::string CertAuthority::Impl::ReissueReason(const CaOptions& options,
                                               const NameConstraintSet& wanted) const {
  const std::time_t now = std::time(nullptr);
  if (options.force_reissue) return "a rotation was asked for (relaytap ca rotate)";
  if (not_after <= now) return StrCat("it expired on ", Date(not_after));
  if (not_after - now < kCaRenewDaysBeforeEnd * kDaySeconds) {
    return StrCat("it expires on ", Date(not_after), ", in fewer than ", kCaRenewDaysBeforeEnd,
                  " days");
  }
  if (not_after - NotBeforeOf(ca_cert.get()) > kLongestAcceptedCaSeconds) {
    return StrCat("it was issued for ", (not_after - NotBeforeOf(ca_cert.get())) / kDaySeconds,
                  " days, and relaytap's CAs now live ", kCaValidityDays);
  }
  if (!constraints_known) return "its name constraints are not ones relaytap makes";
  if (options.follow_patterns && constraints != wanted) {
    return StrCat("the intercept patterns changed: it was issued for '", PatternList(constraints),
                  "', the patterns in effect are '", PatternList(wanted), "'");
  }
  return {};
}

absl::Status CertAuthority::Impl::Reissue(const CaOptions& options, const NameConstraintSet& wanted,
                                          std::string reason) {
  const NameConstraintSet next =
      options.follow_patterns || !constraints_known ? wanted : constraints;
  RELAYTAP_RETURN_IF_ERROR(SetAsidePrevious(cert_path, key_path));
  absl::Status st = Create(next);
  if (!st.ok()) {
    RestorePrevious(cert_path, key_path);
    return absl::InternalError(
        StrCat("re-issuing the CA (", reason, "): ", std::string(st.message())));
  }
  reissued = true;
  reissue_reason = std::move(reason);
  RELAYTAP_LOG(kWarn, "re-issued relaytap's CA because ", reissue_reason,
               ". Apps must now trust the new CA ", cert_path.string(),
               " (eval \"$(relaytap ca env --ca-dir '", cert_path.parent_path().string(),
               "')\"); the previous one is kept as ", PreviousPath(cert_path).string(),
               " (with its key) and signs nothing any more. Name constraints: ",
               DescribeConstraints(next), "; valid until ", Date(not_after));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CertAuthority>> CertAuthority::LoadOrCreate(
    const fs::path& dir, const CaOptions& options) {
  RELAYTAP_ASSIGN_OR_RETURN(NameConstraintSet wanted, ConstraintsForPatterns(options.patterns));
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InternalError(
          StrCat("creating CA directory ", dir.string(), ": ", std::strerror(errno)));
    }
  }
  auto impl = std::make_unique<Impl>(options.leaf_cache_capacity);
  impl->cert_path = dir / kCaCertFileName;
  impl->key_path = dir / kCaKeyFileName;
  bool has_cert = fs::exists(impl->cert_path, ec);
  bool has_key = fs::exists(impl->key_path, ec);
  if (has_cert != has_key) {
    const fs::path& present = has_cert ? impl->cert_path : impl->key_path;
    const fs::path& missing = has_cert ? impl->key_path : impl->cert_path;
    return absl::FailedPreconditionError(
        StrCat("CA file ", present.string(), " exists but ", missing.string(),
               " is missing; restore it or delete both to create a new CA"));
  }
  if (!has_cert) {
    RELAYTAP_RETURN_IF_ERROR(impl->Create(wanted));
  } else {
    RELAYTAP_RETURN_IF_ERROR(impl->Load());
    if (std::string reason = impl->ReissueReason(options, wanted); !reason.empty()) {
      RELAYTAP_RETURN_IF_ERROR(impl->Reissue(options, wanted, std::move(reason)));
    }
  }
  if (impl->constraints.unconstrained) {
    RELAYTAP_LOG(kWarn, "relaytap's CA ", impl->cert_path.string(),
                 " carries no name constraints (intercept pattern '*'): an app that trusts it "
                 "accepts relaytap's certificate for any name");
  }
  RELAYTAP_ASSIGN_OR_RETURN(impl->leaf_key, GenerateP256Key());
  return std::unique_ptr<CertAuthority>(new CertAuthority(std::move(impl)));
}

CertAuthority::CertAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertAuthority::~CertAuthority() = default;

const fs::path& CertAuthority::cert_path() const { return impl_->cert_path; }
const std::string& CertAuthority::cert_pem() const { return impl_->cert_pem; }
bool CertAuthority::created() const { return impl_->created; }
bool CertAuthority::reissued() const { return impl_->reissued; }
const std::string& CertAuthority::reissue_reason() const { return impl_->reissue_reason; }
fs::path CertAuthority::previous_cert_path() const { return PreviousPath(impl_->cert_path); }
const NameConstraintSet& CertAuthority::constraints() const { return impl_->constraints; }
std::time_t CertAuthority::not_after() const { return impl_->not_after; }

absl::StatusOr<std::shared_ptr<const Leaf>> CertAuthority::LeafFor(std::string_view host) {
  RELAYTAP_ASSIGN_OR_RETURN(HostName name, ParseHostName(host));
  if (!Permits(impl_->constraints, name)) {
    return absl::PermissionDeniedError(
        StrCat("refusing a certificate for '", name.text, "': the CA's name constraints (",
               DescribeConstraints(impl_->constraints), ") do not cover it"));
  }
  // A cached leaf is used while it has a day left (or until the CA itself ends).
  const std::time_t fresh_until = std::min(std::time(nullptr) + kDaySeconds, impl_->not_after);
  {
    absl::MutexLock lock(&impl_->mu);
    if (std::shared_ptr<const Leaf> leaf = impl_->cache.Find(name.text, fresh_until)) return leaf;
  }
  // Mint outside the lock; if another thread won the race, keep its leaf so callers share one.
  RELAYTAP_ASSIGN_OR_RETURN(
      X509Ptr cert, MakeLeafCert(impl_->ca_cert.get(), impl_->ca_key.get(), impl_->leaf_key.get(),
                                 name, kLeafValidityDays));
  auto leaf = std::make_shared<Leaf>();
  RELAYTAP_ASSIGN_OR_RETURN(leaf->cert_pem, CertToPem(cert.get()));
  leaf->not_after = NotAfterOf(cert.get());
  leaf->cert = std::move(cert);
  leaf->key = impl_->leaf_key;
  absl::MutexLock lock(&impl_->mu);
  return impl_->cache.Insert(name.text, std::move(leaf), fresh_until);
}

size_t CertAuthority::cached_leaves_for_test() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->cache.size();
}

std::vector<std::string> CertAuthority::cached_hosts_for_test() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->cache.HostsForTest();
}

absl::StatusOr<fs::path> WriteTrustBundle(const CertAuthority& ca, const fs::path& dir) {
  const fs::path system_file = X509_get_default_cert_file();
  std::string bundle;
  if (absl::StatusOr<std::string> roots = ReadWholeFile(system_file); roots.ok()) {
    bundle = std::move(*roots);
    if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
  } else {
    bundle = StrCat("# note: system trust store ", system_file.string(),
                    " not found; this bundle holds only the relaytap CA\n");
  }
  bundle += StrCat("# relaytap local CA (", ca.cert_path().string(), ")\n", ca.cert_pem());

  const fs::path path = dir / kBundleFileName;
  const fs::path tmp = dir / StrCat(kBundleFileName, ".tmp.", static_cast<long>(::getpid()));
  ::unlink(tmp.c_str());
  RELAYTAP_RETURN_IF_ERROR(WriteNewFile(tmp, bundle, 0644));
  // Public data: widen to exactly 0644 whatever the umask.
  if (::chmod(tmp.c_str(), 0644) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return absl::InternalError(StrCat("writing ", path.string(), ": ", err));
  }
  return path;
}

}  // namespace relaytap::proxy::tls
