#pragma once
// Reading a PEM certificate file in the loopback tests (to check what the proxy says about it).

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace relaytap::testing {

using UniqueX509 = std::unique_ptr<X509, decltype(&X509_free)>;

inline std::string ReadFileBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first certificate of a PEM file; null if there is none.
inline UniqueX509 ReadCertFile(const std::filesystem::path& pem_file) {
  const std::string text = ReadFileBytes(pem_file);
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return UniqueX509(cert, &X509_free);
}

}  // namespace relaytap::testing
