#include "proxy/tls/cert_authority.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/tls/openssl_error.h"

namespace relaytap::proxy::tls {
namespace {

namespace fs = std::filesystem;

constexpr long kDaySeconds = 24 * 60 * 60;
constexpr int kCaValidityDays = 3652;   // ~10 years
constexpr int kLeafValidityDays = 396;  // counted from the backdated notBefore; <= 397 in total
constexpr size_t kMaxCommonNameLength = 64;
constexpr size_t kMaxHostLength = 253;

struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct NameFree {
  void operator()(X509_NAME* n) const { X509_NAME_free(n); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
struct GenNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::shared_ptr<X509>;
using KeyPtr = std::shared_ptr<EVP_PKEY>;

absl::Status SslInternal(std::string_view what) { return absl::InternalError(OpenSslError(what)); }

X509Ptr WrapCert(X509* x) { return X509Ptr(x, X509_free); }
KeyPtr WrapKey(EVP_PKEY* k) { return KeyPtr(k, EVP_PKEY_free); }

absl::StatusOr<KeyPtr> GenerateP256Key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return SslInternal("generating ECDSA P-256 key");
  return WrapKey(key);
}

std::string ErrnoText() { return std::strerror(errno); }

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path.string(), ": ", ErrnoText()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(StrCat("error reading ", path.string()));
  return ss.str();
}

// Creates `path` exclusively with `mode` (no window with looser permissions) and writes `data`.
absl::Status WriteNewFile(const fs::path& path, std::string_view data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(StrCat("creating ", path.string(), ": ", ErrnoText()));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = ErrnoText();
      ::close(fd);
      ::unlink(path.c_str());
      return absl::InternalError(StrCat("writing ", path.string(), ": ", err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string err = ErrnoText();
    ::unlink(path.c_str());
    return absl::InternalError(StrCat("writing ", path.string(), ": ", err));
  }
  return absl::OkStatus();
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len > 0 ? len : 0));
}

absl::StatusOr<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return SslInternal("encoding certificate");
  return BioContents(bio.get());
}

absl::StatusOr<std::string> KeyToPkcs8Pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return SslInternal("encoding private key");
  }
  return BioContents(bio.get());
}

// A random positive 128-bit serial (top bit clear, second bit set so it is always 16 bytes).
absl::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return SslInternal("generating serial");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  std::unique_ptr<BIGNUM, BnFree> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return SslInternal("setting serial");
  }
  return absl::OkStatus();
}

absl::Status AddNameEntry(X509_NAME* name, const char* field, std::string_view value) {
  std::string v(value.substr(0, kMaxCommonNameLength));
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1,
                                 0) != 1) {
    return SslInternal(StrCat("setting subject ", field));
  }
  return absl::OkStatus();
}

absl::Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return SslInternal(StrCat("adding extension ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

// Common skeleton: v3, serial, validity from now-1d for `days` days after that, subject, pubkey.
absl::StatusOr<X509Ptr> NewCert(X509_NAME* subject, EVP_PKEY* pubkey, int days) {
  X509Ptr cert = WrapCert(X509_new());
  if (!cert) return SslInternal("X509_new");
  if (X509_set_version(cert.get(), 2) != 1) return SslInternal("setting version");
  RELAYTAP_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  std::time_t not_before = std::time(nullptr) - kDaySeconds;
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &not_before) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &not_before) == nullptr) {
    return SslInternal("setting validity");
  }
  if (X509_set_subject_name(cert.get(), subject) != 1 || X509_set_pubkey(cert.get(), pubkey) != 1) {
    return SslInternal("setting subject/public key");
  }
  return cert;
}

std::string CaCommonName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char date[16];
  std::strftime(date, sizeof(date), "%Y-%m-%d", &tm);
  return StrCat("relaytap local CA ", host, " ", date);
}

absl::StatusOr<X509Ptr> MakeCaCert(EVP_PKEY* key) {
  std::unique_ptr<X509_NAME, NameFree> name(X509_NAME_new());
  if (!name) return SslInternal("X509_NAME_new");
  RELAYTAP_RETURN_IF_ERROR(AddNameEntry(name.get(), "CN", CaCommonName()));
  RELAYTAP_RETURN_IF_ERROR(AddNameEntry(name.get(), "O", "relaytap"));
  RELAYTAP_ASSIGN_OR_RETURN(X509Ptr cert, NewCert(name.get(), key, kCaValidityDays));
  if (X509_set_issuer_name(cert.get(), name.get()) != 1) return SslInternal("setting issuer");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  RELAYTAP_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  // OpenSSL 3 omits a self-signed AKID unless forced with "always".
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return SslInternal("signing CA certificate");
  return cert;
}

// A validated, normalized host: lower-cased DNS name, or an IP literal (brackets removed).
struct HostName {
  std::string text;
  bool is_ip = false;
  unsigned char ip[16] = {};
  int ip_len = 0;
};

absl::StatusOr<HostName> NormalizeHost(std::string_view host) {
  HostName out;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string h(host);
  if (::inet_pton(AF_INET, h.c_str(), out.ip) == 1) {
    out.is_ip = true;
    out.ip_len = 4;
  } else if (::inet_pton(AF_INET6, h.c_str(), out.ip) == 1) {
    out.is_ip = true;
    out.ip_len = 16;
  }
  if (out.is_ip) {
    out.text = std::move(h);
    return out;
  }
  if (!h.empty() && h.back() == '.') h.pop_back();  // absolute form "example.com."
  if (h.empty() || h.size() > kMaxHostLength) {
    return absl::InvalidArgumentError(StrCat("invalid host name '", host, "'"));
  }
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == '*';
    if (!ok) return absl::InvalidArgumentError(StrCat("invalid host name '", host, "'"));
  }
  absl::AsciiStrToLower(&h);
  out.text = std::move(h);
  return out;
}

absl::Status AddSubjectAltName(X509* cert, const HostName& host) {
  std::unique_ptr<GENERAL_NAMES, GenNamesFree> names(GENERAL_NAMES_new());
  GENERAL_NAME* gn = GENERAL_NAME_new();
  if (!names || gn == nullptr || sk_GENERAL_NAME_push(names.get(), gn) == 0) {
    GENERAL_NAME_free(gn);
    return SslInternal("allocating subjectAltName");
  }
  ASN1_STRING* value = host.is_ip ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
  int set = 0;
  if (value != nullptr) {
    set = host.is_ip ? ASN1_STRING_set(value, host.ip, host.ip_len)
                     : ASN1_STRING_set(value, host.text.data(), static_cast<int>(host.text.size()));
  }
  if (set != 1) {
    ASN1_STRING_free(value);
    return SslInternal("setting subjectAltName");
  }
  GENERAL_NAME_set0_value(gn, host.is_ip ? GEN_IPADD : GEN_DNS, value);
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return SslInternal("adding subjectAltName");
  }
  return absl::OkStatus();
}

absl::Status CheckKeyFilePermissions(const fs::path& key_path) {
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0) {
    return absl::NotFoundError(StrCat("cannot stat ", key_path.string(), ": ", ErrnoText()));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(StrCat("CA key ", key_path.string(),
                                                " is accessible by group/other; run: chmod 600 '",
                                                key_path.string(), "'"));
  }
  return absl::OkStatus();
}

}  // namespace

struct CertAuthority::Impl {
  fs::path cert_path;
  std::string cert_pem;
  bool created = false;
  X509Ptr ca_cert;
  KeyPtr ca_key;
  KeyPtr leaf_key;

  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::shared_ptr<const Leaf>> leaves ABSL_GUARDED_BY(mu);

  absl::Status Load(const fs::path& key_path);
  absl::Status Create(const fs::path& key_path);
  absl::StatusOr<std::shared_ptr<const Leaf>> Mint(const HostName& host) const;
};

absl::Status CertAuthority::Impl::Load(const fs::path& key_path) {
  RELAYTAP_ASSIGN_OR_RETURN(std::string pem, ReadFile(cert_path));
  BioPtr cert_bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ca_cert = WrapCert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert) {
    return absl::DataLossError(OpenSslError(StrCat("no PEM certificate in ", cert_path.string())));
  }
  RELAYTAP_RETURN_IF_ERROR(CheckKeyFilePermissions(key_path));
  RELAYTAP_ASSIGN_OR_RETURN(std::string key_pem, ReadFile(key_path));
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
  if (X509_cmp_current_time(X509_get0_notAfter(ca_cert.get())) <= 0) {
    return absl::FailedPreconditionError(StrCat("CA certificate ", cert_path.string(),
                                                " has expired; delete it and its key to renew"));
  }
  RELAYTAP_ASSIGN_OR_RETURN(cert_pem, CertToPem(ca_cert.get()));
  return absl::OkStatus();
}

absl::Status CertAuthority::Impl::Create(const fs::path& key_path) {
  RELAYTAP_ASSIGN_OR_RETURN(ca_key, GenerateP256Key());
  RELAYTAP_ASSIGN_OR_RETURN(ca_cert, MakeCaCert(ca_key.get()));
  RELAYTAP_ASSIGN_OR_RETURN(cert_pem, CertToPem(ca_cert.get()));
  RELAYTAP_ASSIGN_OR_RETURN(std::string key_pem, KeyToPkcs8Pem(ca_key.get()));
  absl::Status st = WriteNewFile(key_path, key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  RELAYTAP_RETURN_IF_ERROR(st);
  st = WriteNewFile(cert_path, cert_pem, 0644);
  if (!st.ok()) ::unlink(key_path.c_str());  // never leave a key without its certificate
  created = st.ok();
  return st;
}

absl::StatusOr<std::shared_ptr<const Leaf>> CertAuthority::Impl::Mint(const HostName& host) const {
  std::unique_ptr<X509_NAME, NameFree> name(X509_NAME_new());
  if (!name) return SslInternal("X509_NAME_new");
  RELAYTAP_RETURN_IF_ERROR(AddNameEntry(name.get(), "CN", host.text));
  RELAYTAP_ASSIGN_OR_RETURN(X509Ptr cert, NewCert(name.get(), leaf_key.get(), kLeafValidityDays));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    return SslInternal("setting issuer");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert.get(), cert.get(), nullptr, nullptr, 0);
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  RELAYTAP_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
  RELAYTAP_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  RELAYTAP_RETURN_IF_ERROR(AddSubjectAltName(cert.get(), host));
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) {
    return SslInternal(StrCat("signing leaf for ", host.text));
  }
  auto leaf = std::make_shared<Leaf>();
  RELAYTAP_ASSIGN_OR_RETURN(leaf->cert_pem, CertToPem(cert.get()));
  leaf->cert = std::move(cert);
  leaf->key = leaf_key;
  return std::shared_ptr<const Leaf>(std::move(leaf));
}

absl::StatusOr<std::unique_ptr<CertAuthority>> CertAuthority::LoadOrCreate(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InternalError(StrCat("creating CA directory ", dir.string(), ": ", ErrnoText()));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->cert_path = dir / kCaCertFileName;
  const fs::path key_path = dir / kCaKeyFileName;
  bool has_cert = fs::exists(impl->cert_path, ec);
  bool has_key = fs::exists(key_path, ec);
  if (has_cert != has_key) {
    const fs::path& present = has_cert ? impl->cert_path : key_path;
    const fs::path& missing = has_cert ? key_path : impl->cert_path;
    return absl::FailedPreconditionError(
        StrCat("CA file ", present.string(), " exists but ", missing.string(),
               " is missing; restore it or delete both to create a new CA"));
  }
  RELAYTAP_RETURN_IF_ERROR(has_cert ? impl->Load(key_path) : impl->Create(key_path));
  RELAYTAP_ASSIGN_OR_RETURN(impl->leaf_key, GenerateP256Key());
  return std::unique_ptr<CertAuthority>(new CertAuthority(std::move(impl)));
}

CertAuthority::CertAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertAuthority::~CertAuthority() = default;

const fs::path& CertAuthority::cert_path() const { return impl_->cert_path; }
const std::string& CertAuthority::cert_pem() const { return impl_->cert_pem; }
bool CertAuthority::created() const { return impl_->created; }

absl::StatusOr<std::shared_ptr<const Leaf>> CertAuthority::LeafFor(std::string_view host) {
  RELAYTAP_ASSIGN_OR_RETURN(HostName name, NormalizeHost(host));
  {
    absl::ReaderMutexLock lock(&impl_->mu);
    auto it = impl_->leaves.find(name.text);
    if (it != impl_->leaves.end()) return it->second;
  }
  // Mint outside the lock; if another thread won the race, keep its leaf so callers share one.
  RELAYTAP_ASSIGN_OR_RETURN(std::shared_ptr<const Leaf> leaf, impl_->Mint(name));
  absl::MutexLock lock(&impl_->mu);
  auto [it, inserted] = impl_->leaves.try_emplace(name.text, std::move(leaf));
  return it->second;
}

absl::StatusOr<fs::path> WriteTrustBundle(const CertAuthority& ca, const fs::path& dir) {
  const fs::path system_file = X509_get_default_cert_file();
  std::string bundle;
  if (absl::StatusOr<std::string> roots = ReadFile(system_file); roots.ok()) {
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
    std::string err = ErrnoText();
    ::unlink(tmp.c_str());
    return absl::InternalError(StrCat("writing ", path.string(), ": ", err));
  }
  return path;
}

}  // namespace relaytap::proxy::tls
