#pragma once
// HTTP header redaction (shared/realtime-protocol.md §9.2). Pure; thread-safe.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redact/fingerprint.h"
#include "redact/policy.h"

namespace relaytap::redact {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Names are kept as given, in order. Values, by the first rule that applies (names compared
// case-insensitively):
//   1. policy.secret_headers()  -> FingerprintCredential(value) ("Bearer hmac:…" / "hmac:…")
//   2. Sec-WebSocket-Protocol   -> RedactSubprotocols(value)
//   3. Location                 -> RedactTarget(value)
//   4. policy.keep_headers()    -> value verbatim
//   5. anything else            -> fp.Of(value)
HeaderList RedactHeaders(const HeaderList& headers, const Policy& policy, const Fingerprinter& fp);

std::string RedactHeaderValue(std::string_view name, std::string_view value, const Policy& policy,
                              const Fingerprinter& fp);

}  // namespace relaytap::redact
