#pragma once
// OpenSSL checks for tests of relaytap's CA: a leaf minted by hand with a CA's key (whatever the
// CA would agree to mint), and X509_verify_cert with a CA certificate as the only trust anchor.

#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>

namespace relaytap::testing {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

// The bytes of `path` ("" if unreadable).
std::string ReadFileForTest(const std::filesystem::path& path);

// The first certificate in `pem` (null if none).
X509Ptr ParseCertPem(const std::string& pem);

// A leaf for `host` (a DNS SAN, or an IP SAN for an IP literal) signed with the key in
// `ca_dir`/relaytap-ca.key and issued by `ca_dir`/relaytap-ca.pem, built here with OpenSSL
// directly, bypassing every check relaytap makes before minting. Null on failure.
X509Ptr HandMintLeaf(const std::filesystem::path& ca_dir, const std::string& host);

// Verifies `leaf` with `ca` as the only trust anchor, strictly (X509_V_FLAG_X509_STRICT, purpose
// sslserver), checking `host` (as an IP when `is_ip`). "" or OpenSSL's error text.
std::string VerifyWithAnchor(X509* ca, X509* leaf, const std::string& host, bool is_ip);

}  // namespace relaytap::testing
