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
// Thread rule: immutable after construction; Of() is const and safe from any thread. Copies share
// the precomputed state.
class Fingerprinter {
 public:
  static constexpr size_t kMinKeyBytes = 16;
  static constexpr size_t kHexChars = 12;

  // Returns InvalidArgument if `key` is shorter than kMinKeyBytes.
  static absl::StatusOr<Fingerprinter> Create(std::string key);

  // Precondition: key.size() >= kMinKeyBytes (checked; aborts otherwise). Prefer Create() for
  // keys that come from configuration.
  explicit Fingerprinter(std::string key);

  // "hmac:" + 12 lowercase hex chars of HMAC-SHA-256(key, value).
  std::string Of(std::string_view value) const;

  // Appends Of(value) to `out` (no temporary string).
  void AppendOf(std::string& out, std::string_view value) const;

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
