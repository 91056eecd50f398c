#include "proxy/tls/x509_build.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstring>

#include "absl/status/status.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/tls/openssl_error.h"

namespace relaytap::proxy::tls {
namespace {

constexpr size_t kMaxCommonNameLength = 64;

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
using NamePtr = std::unique_ptr<X509_NAME, NameFree>;

absl::Status SslInternal(std::string_view what) { return absl::InternalError(OpenSslError(what)); }

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len > 0 ? len : 0));
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

// Common skeleton: v3, serial, validity from now-1d to now+`days`d (capped at `cap` when not 0),
// subject, pubkey.
absl::StatusOr<X509Ptr> NewCert(X509_NAME* subject, EVP_PKEY* pubkey, int days,
                                std::time_t cap = 0) {
  X509Ptr cert = WrapCert(X509_new());
  if (!cert) return SslInternal("X509_new");
  if (X509_set_version(cert.get(), 2) != 1) return SslInternal("setting version");
  RELAYTAP_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  const std::time_t now = std::time(nullptr);
  std::time_t not_before = now - kDaySeconds;
  std::time_t not_after = now + days * kDaySeconds;
  if (cap != 0 && not_after > cap) not_after = cap;
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &not_before) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, &not_after) == nullptr) {
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

}  // namespace

absl::StatusOr<KeyPtr> GenerateP256Key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return SslInternal("generating ECDSA P-256 key");
  return WrapKey(key);
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

absl::StatusOr<X509Ptr> MakeCaCert(EVP_PKEY* key, const NameConstraintSet& constraints, int days) {
  NamePtr name(X509_NAME_new());
  if (!name) return SslInternal("X509_NAME_new");
  RELAYTAP_RETURN_IF_ERROR(AddNameEntry(name.get(), "CN", CaCommonName()));
  RELAYTAP_RETURN_IF_ERROR(AddNameEntry(name.get(), "O", "relaytap"));
  RELAYTAP_ASSIGN_OR_RETURN(X509Ptr cert, NewCert(name.get(), key, days));
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
  RELAYTAP_RETURN_IF_ERROR(AddNameConstraints(cert.get(), constraints));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return SslInternal("signing CA certificate");
  return cert;
}

absl::StatusOr<X509Ptr> MakeLeafCert(X509* ca_cert, EVP_PKEY* ca_key, EVP_PKEY* leaf_key,
                                     const HostName& host, int days) {
  NamePtr name(X509_NAME_new());
  if (!name) return SslInternal("X509_NAME_new");
  // An IP leaf carries no CN: verifiers check a DNS-like CN ("127.0.0.1") against the CA's DNS
  // name constraints. The SAN is what clients match.
  RELAYTAP_RETURN_IF_ERROR(host.is_ip ? AddNameEntry(name.get(), "O", "relaytap")
                                      : AddNameEntry(name.get(), "CN", host.text));
  RELAYTAP_ASSIGN_OR_RETURN(X509Ptr cert, NewCert(name.get(), leaf_key, days, NotAfterOf(ca_cert)));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert)) != 1) {
    return SslInternal("setting issuer");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert, cert.get(), nullptr, nullptr, 0);
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  RELAYTAP_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
  RELAYTAP_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  RELAYTAP_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  RELAYTAP_RETURN_IF_ERROR(AddSubjectAltName(cert.get(), host));
  if (X509_sign(cert.get(), ca_key, EVP_sha256()) <= 0) {
    return SslInternal(StrCat("signing leaf for ", host.text));
  }
  return cert;
}

std::time_t NotAfterOf(const X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return ::timegm(&tm);
}

}  // namespace relaytap::proxy::tls
