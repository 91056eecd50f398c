#include "redact/fingerprint.h"

// The low-level SHA-256 API is deprecated in OpenSSL 3 but kept there; Of() uses it for speed:
// the writer fingerprints every audio delta, and an EVP_MD_CTX copy allocates a provider context
// per copy (two per HMAC), while a SHA256_CTX is a plain struct copied by assignment. The hash
// itself is the same OpenSSL code (the provider calls SHA256_Update too).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

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

void AppendHex(std::string& out, const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
}

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

constexpr size_t kSipKeyBytes = 16;
constexpr size_t kSipOutBytes = 8;  // SipHash-2-4 as published (the 128-bit variant is not it)

// SipHash-2-4 keyed with `key`, ready for EVP_MAC_update on a copy (EVP_MAC_CTX_dup).
MacCtx NewSipHash(const unsigned char* key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  if (mac == nullptr) std::abort();
  MacCtx c(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);
  size_t size = kSipOutBytes;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                               OSSL_PARAM_construct_end()};
  if (!c || EVP_MAC_init(c.get(), key, kSipKeyBytes, params) != 1) std::abort();
  return c;
}

std::string Hex(const unsigned char* p, size_t n) {
  std::string s;
  s.reserve(n * 2);
  AppendHex(s, p, n);
  return s;
}

}  // namespace

// HMAC (RFC 2104) with the inner and outer pad blocks hashed once at construction. Each call
// copies those states (plain structs) onto its stack, so calls never share state.
//
// Bulk fingerprints use SipHash-2-4 (Aumasson and Bernstein, 2012), a pseudorandom function with
// a 128-bit key, here a subkey derived from the same per-install secret. Why it may stand in for
// HMAC-SHA-256 on audio: a fingerprint must (1) be equal for equal content, within a store and
// across the stores that share the key (a deterministic function of key and content), and (2)
// not let anyone who holds the store but not the key test a guess of the content (a PRF: without
// the key its outputs cannot be told from random, which is what HMAC-SHA-256 gave too). Collision
// resistance against the key's holder was never on offer: the stored fingerprint is 48 bits. Only
// the function changes, so a bulk fingerprint carries a prefix of its own ("siphash:") and is
// never taken for an "hmac:" one. SipHash was made for short inputs, but it stays faster than
// SHA-256 with SHA-NI on long ones here (OpenSSL's EVP_MAC "SIPHASH"; see BENCHMARKS.md).
struct Fingerprinter::State {
  SHA256_CTX inner;
  SHA256_CTX outer;
  MacCtx bulk;  // keyed; each call updates a copy
};

namespace {

std::array<unsigned char, 32> Hmac(const SHA256_CTX& inner_pad, const SHA256_CTX& outer_pad,
                                   std::string_view value) {
  SHA256_CTX c = inner_pad;
  std::array<unsigned char, 32> inner{};
  if (SHA256_Update(&c, value.data(), value.size()) != 1 || SHA256_Final(inner.data(), &c) != 1) {
    std::abort();
  }
  c = outer_pad;
  std::array<unsigned char, 32> mac{};
  if (SHA256_Update(&c, inner.data(), inner.size()) != 1 || SHA256_Final(mac.data(), &c) != 1) {
    std::abort();
  }
  OPENSSL_cleanse(&c, sizeof(c));
  OPENSSL_cleanse(inner.data(), inner.size());
  return mac;
}

}  // namespace

absl::StatusOr<Fingerprinter> Fingerprinter::Create(std::string key) {
  if (key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(
        StrCat("fingerprint key must be at least ", kMinKeyBytes, " bytes, got ", key.size()));
  }
  // Not Fingerprinter(std::move(key)): GCC 12 reports the inlined string move as out of bounds
  // (-Warray-bounds, a known false positive), and the key needs no second copy to be wiped.
  return Fingerprinter(WipeKey{}, key);
}

Fingerprinter::Fingerprinter(std::string key) : Fingerprinter(WipeKey{}, key) {}

Fingerprinter::Fingerprinter(WipeKey, std::string& key) {
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
  std::array<unsigned char, kBlock> pad{};
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
  if (SHA256_Init(&state->inner) != 1 || SHA256_Update(&state->inner, pad.data(), kBlock) != 1) {
    std::abort();
  }
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  if (SHA256_Init(&state->outer) != 1 || SHA256_Update(&state->outer, pad.data(), kBlock) != 1) {
    std::abort();
  }
  std::array<unsigned char, 32> subkey = Hmac(state->inner, state->outer, kBulkKeyLabel);
  state->bulk = NewSipHash(subkey.data());
  OPENSSL_cleanse(subkey.data(), subkey.size());
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  OPENSSL_cleanse(key.data(), key.size());
  state_ = std::move(state);
}

std::array<unsigned char, 32> Fingerprinter::Mac(std::string_view value) const {
  return Hmac(state_->inner, state_->outer, value);
}

void Fingerprinter::AppendBulkOf(std::string& out, std::string_view value) const {
  MacCtx c(EVP_MAC_CTX_dup(state_->bulk.get()));
  std::array<unsigned char, kSipOutBytes> mac{};
  size_t n = 0;
  if (!c ||
      EVP_MAC_update(c.get(), reinterpret_cast<const unsigned char*>(value.data()), value.size()) !=
          1 ||
      EVP_MAC_final(c.get(), mac.data(), &n, mac.size()) != 1 || n != mac.size()) {
    std::abort();
  }
  out.append(kBulkPrefix);
  AppendHex(out, mac.data(), kHexChars / 2);
}

std::string Fingerprinter::BulkOf(std::string_view value) const {
  std::string out;
  out.reserve(kBulkPrefix.size() + kHexChars);
  AppendBulkOf(out, value);
  return out;
}

std::string Fingerprinter::FullHexForTest(std::string_view value) const {
  const std::array<unsigned char, 32> mac = Mac(value);
  return Hex(mac.data(), mac.size());
}

void Fingerprinter::AppendOf(std::string& out, std::string_view value) const {
  const std::array<unsigned char, 32> mac = Mac(value);
  out.append(kPrefix);
  AppendHex(out, mac.data(), kHexChars / 2);
}

std::string Fingerprinter::Of(std::string_view value) const {
  std::string out;
  out.reserve(5 + kHexChars);
  AppendOf(out, value);
  return out;
}

std::string Sha256Hex(std::string_view data) {
  MdCtx c = NewCtx();
  Update(c.get(), data.data(), data.size());
  auto d = Final(c.get());
  return Hex(d.data(), d.size());
}

}  // namespace relaytap::redact
