#pragma once
// The shape of a body that cannot be redacted field by field (not JSON, SDP, binary): content
// type, length and fingerprint only. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "redact/fingerprint.h"

namespace relaytap::redact {

// {"redacted":"body","content_type":"…","len":N,"fp":"hmac:…"}. Never contains body bytes.
std::string BodyShape(std::string_view content_type, std::string_view bytes,
                      const Fingerprinter& fp);

// What is stored for a payload past a limit (the limit's name, e.g. "expansion_ratio"):
// {"redacted":"over_limit","limit":"…","len":N} and, when `whole` is the complete payload, its
// "fp". A prefix is never fingerprinted: equal fingerprints must mean equal content.
std::string OverLimitShape(std::string_view limit, uint64_t len, const Fingerprinter& fp,
                           const std::string_view* whole = nullptr);

// Keeps only "type/subtype" and a "; charset=…" parameter, from [A-Za-z0-9.+/-;= ], at most 100
// chars. Anything else (boundaries, unknown parameters, odd characters) is dropped; an unusable
// media type gives "".
std::string SanitizeContentType(std::string_view content_type);

}  // namespace relaytap::redact
