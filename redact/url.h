#pragma once
// Request-target and URL redaction (shared/realtime-protocol.md §9.2). Pure; thread-safe.

#include <string>
#include <string_view>

#include "redact/fingerprint.h"
#include "redact/policy.h"

namespace relaytap::redact {

// Redacts an origin-form target ("/openai/realtime?api-version=…&deployment=…") or an absolute URL.
//  - Path segments are structural and kept, except a segment holding a secret pattern or userinfo
//    ('@'), which becomes its fingerprint.
//  - Query parameter names are kept when identifier-like ([A-Za-z0-9_.-]{1,64}, no secret);
//    otherwise name and value are fingerprinted.
//  - A value is kept verbatim only if its name is in policy.keep_query_params(), it is at most
//    max_kept_string_chars after decoding and holds no secret pattern. Otherwise it becomes
//    FingerprintCredential(percent-decoded value), so `?api-key=K` and the header `api-key: K`
//    (or `?Authorization=Bearer%20T` and `Authorization: Bearer T`) give the same fingerprint.
//    api-key, authorization, key, token, sig, code and a few more are never kept, whatever the
//    policy says.
//  - A fragment is fingerprinted.
std::string RedactTarget(std::string_view target, const Policy& policy, const Fingerprinter& fp);

// RFC 3986 percent-decoding. Malformed escapes are left as they are; '+' is not a space.
std::string PercentDecode(std::string_view s);

}  // namespace relaytap::redact
