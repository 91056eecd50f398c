#pragma once
// Recognisers for credential-shaped text, shared by every redaction rule. Hand-written scanners
// (no std::regex): linear time on hostile input, no recursion.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace relaytap::redact {

class Fingerprinter;

struct SecretSpan {
  size_t begin = 0;
  size_t end = 0;  // one past the last byte
};

// First credential-shaped span starting at or after `from`:
//   sk-[A-Za-z0-9_-]{20,}   ek_[A-Za-z0-9]{16,}   Bearer\s+\S+ (any case)
//   eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*  (JWT)
//   a run of 32+ hex digits   a run of 64+ base64/base64url characters
std::optional<SecretSpan> FindSecret(std::string_view s, size_t from = 0);

// FindSecret(s).has_value(), in one pass (the redactor asks this of every kept key and value).
bool ContainsSecret(std::string_view s);

// Replaces each secret span with "[" + fingerprint + "]". Sets *count to the number replaced.
std::string ScrubSecrets(std::string_view s, const Fingerprinter& fp, size_t* count = nullptr);

// Credential rendering shared by headers, query strings and subprotocols so that one key gives one
// fingerprint wherever it appears: "Bearer x" -> "Bearer hmac:…" (scheme kept, token hashed),
// anything else -> "hmac:…" of the whole value. Leading/trailing spaces are ignored.
std::string FingerprintCredential(std::string_view value, const Fingerprinter& fp);

}  // namespace relaytap::redact
