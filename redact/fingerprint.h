#pragma once
// Keyed fingerprints: equal values give equal fingerprints (so a recording can show "the same key
// was used on both connections") without the value being readable or guessable offline.

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace relaytap::redact {

// HMAC-SHA-256 under a per-install key, shown as "hmac:" + the first 12 hex digits (48 bits:
// plenty to correlate values within one store, too short to be a useful oracle).
// Bulk content (audio: kilobytes per message, dozens of messages a second per session) has a
// faster fingerprint of its own, "siphash:" + 12 hex (BulkOf): a different prefix, so that the
// two kinds are never compared as equal or unequal.
// Thread rule: immutable after construction; Of() and BulkOf() are const and safe from any
// thread. Copies share the precomputed state.
class Fingerprinter {
 public:
  static constexpr size_t kMinKeyBytes = 16;
  static constexpr size_t kHexChars = 12;
  static constexpr std::string_view kPrefix = "hmac:";
  static constexpr std::string_view kBulkPrefix = "siphash:";

  // Returns InvalidArgument if `key` is shorter than kMinKeyBytes.
  static absl::StatusOr<Fingerprinter> Create(std::string key);

  // Precondition: key.size() >= kMinKeyBytes (checked; aborts otherwise). Prefer Create() for
  // keys that come from configuration.
  explicit Fingerprinter(std::string key);

  // "hmac:" + 12 lowercase hex chars of HMAC-SHA-256(key, value).
  std::string Of(std::string_view value) const;

  // Appends Of(value) to `out` (no temporary string).
  void AppendOf(std::string& out, std::string_view value) const;

  // "siphash:" + 12 lowercase hex chars of SipHash-2-4 (64-bit output, little-endian bytes as
  // OpenSSL gives them) of `value` under a 16-byte subkey: the first 16 bytes of
  // HMAC-SHA-256(key, kBulkKeyLabel). For large values whose fingerprint is compared only with
  // other bulk fingerprints (audio), at about 0.6 of HMAC-SHA-256's cost per byte.
  std::string BulkOf(std::string_view value) const;
  void AppendBulkOf(std::string& out, std::string_view value) const;
  static constexpr std::string_view kBulkKeyLabel = "relaytap bulk fingerprint: siphash-2-4";

  // Full 64-hex HMAC-SHA-256, for tests against published vectors.
  std::string FullHexForTest(std::string_view value) const;

 private:
  struct WipeKey {};
  // Derives the HMAC pads from `key`, then overwrites `key` with zeros.
  Fingerprinter(WipeKey, std::string& key);
  struct State;
  std::array<unsigned char, 32> Mac(std::string_view value) const;
  std::shared_ptr<const State> state_;
};

// Lowercase hex SHA-256 of `data` (64 chars). Not keyed: use only for non-secret data such as the
// canonical policy text.
std::string Sha256Hex(std::string_view data);

}  // namespace relaytap::redact
