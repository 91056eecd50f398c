#pragma once
// Small helpers for the fake upstream: hashing, ids, deterministic payloads, query parsing and the
// Azure-style response headers. Pure except for the random ids.

#include <openssl/evp.h>

#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace relaytap::tools::fake_upstream {

// Seconds since the Unix epoch, as the API's created / expires_at fields carry them.
int64_t NowSeconds();

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  std::string FinalHex();  // lower-case hex; the hasher is spent afterwards

 private:
  EVP_MD_CTX* ctx_;
};

std::string Sha256Hex(std::string_view data);

// Random UUID v4, lower-case, 8-4-4-4-12.
std::string NewUuid();
// `prefix` followed by `length` random alphanumerics, e.g. RandomId("sess_", 22).
std::string RandomId(std::string_view prefix, size_t length = 22);
std::string Base64(std::string_view data);
// Standard base64 (with padding) decoded; nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(std::string_view text);

// Byte i of the deterministic stream is (i * 7) mod 251.
inline unsigned char DeterministicByte(uint64_t i) {
  return static_cast<unsigned char>(((i % 251) * 7) % 251);
}
void FillDeterministic(uint64_t offset, unsigned char* out, size_t size);

struct Target {
  std::string path;
  std::map<std::string, std::string> query;  // last value wins; %XX and '+' decoded
};
Target ParseTarget(std::string_view target);
// The query value as an unsigned integer, or `fallback` if absent or malformed.
uint64_t QueryUint(const Target& t, const std::string& key, uint64_t fallback);

// The Azure deployment a request names: `deployment=` (preview), `model=` (GA), or the {d} of
// /openai/deployments/{d}/...; empty if none.
std::string DeploymentOf(const Target& t);

// apim-request-id, x-request-id, x-ms-region and x-ratelimit-remaining-* (the last two only if
// not set already).
void AddAzureHeaders(boost::beast::http::fields& fields);

}  // namespace relaytap::tools::fake_upstream
