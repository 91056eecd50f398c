#include "redact/fingerprint.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "base/str_cat.h"

namespace relaytap::redact {
namespace {

constexpr size_t kBlock = 64;  // SHA-256 block size.

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

MdCtx NewCtx() {
  MdCtx c(EVP_MD_CTX_new());
  if (!c || EVP_DigestInit_ex(c.get(), EVP_sha256(), nullptr) != 1) std::abort();
  return c;
}

void Update(EVP_MD_CTX* c, const void* p, size_t n) {
  if (EVP_DigestUpdate(c, p, n) != 1) std::abort();
}

std::array<unsigned char, 32> Final(EVP_MD_CTX* c) {
  std::array<unsigned char, 32> out{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(c, out.data(), &n) != 1 || n != out.size()) std::abort();
  return out;
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

}  // namespace

// HMAC (RFC 2104) with the inner and outer pad blocks hashed once at construction. Each Of()
// copies those contexts (EVP_MD_CTX_copy_ex only reads its source), so calls never share state.
struct Fingerprinter::State {
  MdCtx inner;
  MdCtx outer;
};

absl::StatusOr<Fingerprinter> Fingerprinter::Create(std::string key) {
  if (key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(StrCat("fingerprint key must be at least ", kMinKeyBytes,
                                             " bytes, got ", key.size()));
  }
  return Fingerprinter(std::move(key));
}

Fingerprinter::Fingerprinter(std::string key) {
  if (key.size() < kMinKeyBytes) {
    std::fputs("relaytap: Fingerprinter key shorter than 16 bytes\n", stderr);
    std::abort();
  }
  std::array<unsigned char, kBlock> k{};
  if (key.size() > kBlock) {
    MdCtx c = NewCtx();
    Update(c.get(), key.data(), key.size());
    auto d = Final(c.get());
    std::copy(d.begin(), d.end(), k.begin());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  auto state = std::make_shared<State>();
  state->inner = NewCtx();
  state->outer = NewCtx();
  std::array<unsigned char, kBlock> pad{};
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
  Update(state->inner.get(), pad.data(), pad.size());
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  Update(state->outer.get(), pad.data(), pad.size());
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  OPENSSL_cleanse(key.data(), key.size());
  state_ = std::move(state);
}

std::string Fingerprinter::FullHexForTest(std::string_view value) const {
  MdCtx c(EVP_MD_CTX_new());
  if (!c || EVP_MD_CTX_copy_ex(c.get(), state_->inner.get()) != 1) std::abort();
  Update(c.get(), value.data(), value.size());
  auto inner = Final(c.get());
  if (EVP_MD_CTX_copy_ex(c.get(), state_->outer.get()) != 1) std::abort();
  Update(c.get(), inner.data(), inner.size());
  auto mac = Final(c.get());
  return Hex(mac.data(), mac.size());
}

std::string Fingerprinter::Of(std::string_view value) const {
  std::string full = FullHexForTest(value);
  return StrCat("hmac:", std::string_view(full).substr(0, kHexChars));
}

std::string Sha256Hex(std::string_view data) {
  MdCtx c = NewCtx();
  Update(c.get(), data.data(), data.size());
  auto d = Final(c.get());
  return Hex(d.data(), d.size());
}

}  // namespace relaytap::redact
