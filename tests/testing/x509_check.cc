#include "tests/testing/x509_check.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace relaytap::testing {
namespace {

bool AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

std::string ReadFileForTest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

X509Ptr ParseCertPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(x, X509_free);
}

X509Ptr HandMintLeaf(const std::filesystem::path& ca_dir, const std::string& host) {
  X509Ptr none(nullptr, X509_free);
  X509Ptr ca = ParseCertPem(ReadFileForTest(ca_dir / "relaytap-ca.pem"));
  std::string key_pem = ReadFileForTest(ca_dir / "relaytap-ca.key");
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_key(
      PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr), EVP_PKEY_free);
  BIO_free(bio);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  X509Ptr leaf(X509_new(), X509_free);
  if (!ca || !ca_key || !key || !leaf) return none;
  unsigned char ip[16];
  const bool is_ip =
      ::inet_pton(AF_INET, host.c_str(), ip) == 1 || ::inet_pton(AF_INET6, host.c_str(), ip) == 1;
  const std::string san = (is_ip ? "IP:" : "DNS:") + host;
  std::time_t not_before = std::time(nullptr) - 3600;
  bool ok = X509_set_version(leaf.get(), 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(leaf.get()), 4242) == 1 &&
            X509_time_adj_ex(X509_getm_notBefore(leaf.get()), 0, 0, &not_before) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(leaf.get()), 7, 0, &not_before) != nullptr &&
            X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf.get()), "O", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>("hand minted"), -1,
                                       -1, 0) == 1 &&
            X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get())) == 1 &&
            X509_set_pubkey(leaf.get(), key.get()) == 1 &&
            AddExt(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") &&
            AddExt(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature") &&
            AddExt(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth") &&
            AddExt(leaf.get(), ca.get(), NID_subject_key_identifier, "hash") &&
            AddExt(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always") &&
            AddExt(leaf.get(), ca.get(), NID_subject_alt_name, san.c_str()) &&
            X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) > 0;
  ERR_clear_error();
  return ok ? std::move(leaf) : std::move(none);
}

std::string VerifyWithAnchor(X509* ca, X509* leaf, const std::string& host, bool is_ip) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  std::string result;
  if (X509_verify_cert(ctx) != 1) {
    result = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return result;
}

}  // namespace relaytap::testing
