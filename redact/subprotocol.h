#pragma once
// Sec-WebSocket-Protocol redaction. Browsers put the API key in a subprotocol token
// ("openai-insecure-api-key.<KEY>"), so the header is a credential carrier. Pure; thread-safe.

#include <string>
#include <string_view>

#include "redact/fingerprint.h"

namespace relaytap::redact {

// Comma-separated tokens, trimmed and re-joined with ", " (empty tokens dropped):
//   "realtime" and "openai-beta.<name>" (name [A-Za-z0-9._-]{1,64}, no secret) are kept;
//   "openai-insecure-api-key.<KEY>" -> "openai-insecure-api-key." + fp.Of(KEY)
//     (the same fingerprint as "Authorization: Bearer KEY" or "api-key: KEY");
//   any other token -> fp.Of(token).
std::string RedactSubprotocols(std::string_view value, const Fingerprinter& fp);

}  // namespace relaytap::redact
