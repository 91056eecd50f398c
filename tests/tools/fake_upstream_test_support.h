#pragma once
// Helpers for fake_upstream_test: a bounded coroutine runner, hashing, and a throwaway
// self-signed TLS leaf for 127.0.0.1 / localhost.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream::testing {

// Like ASSERT_TRUE, for coroutines (gtest's ASSERT_* use `return`).
#define CO_ASSERT_TRUE(cond)                     \
  do {                                           \
    if (!(cond)) {                               \
      ADD_FAILURE() << "CO_ASSERT_TRUE: " #cond; \
      co_return;                                 \
    }                                            \
  } while (0)

// Runs the coroutine `make()` on a private io_context for at most `timeout`. `make` must outlive
// the call (it does: it is a parameter).
template <class MakeCoroutine>
void RunClient(MakeCoroutine&& make, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  net::io_context ioc;
  bool done = false;
  std::exception_ptr error;
  net::co_spawn(ioc, make(), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  ioc.run_for(timeout);
  ASSERT_TRUE(done) << "client coroutine did not finish in time";
  if (error) std::rethrow_exception(error);
}

inline std::string Sha256HexForTest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

inline std::string Deterministic(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7) % 251);
  return s;
}

struct TestLeaf {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed P-256 leaf with SAN DNS:localhost, IP:127.0.0.1, valid for a day.
inline TestLeaf MakeSelfSignedLeaf() {
  TestLeaf leaf;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  const std::pair<int, const char*> extensions[] = {
      {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
  };
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<size_t>(n));
    BIO_free(bio);
    return s;
  };
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, x);
  leaf.cert_pem = to_string(cert_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  leaf.key_pem = to_string(key_bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return leaf;
}

}  // namespace relaytap::tools::fake_upstream::testing
