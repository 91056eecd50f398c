#pragma once
// Allowlist redaction of JSON documents (realtime events, HTTP bodies), per
// shared/realtime-protocol.md §9.1. Pure functions: no I/O, no logging, no shared state; safe to
// call from any thread with a shared const Policy and Fingerprinter.
//
// Output (compact JSON) keeps the document's shape, its key order and the JSON type of every
// value (booleans and null are kept as they are). Replacements:
//   other strings  {"redacted":"string","len":BYTES,"fp":"hmac:…"}
//   base64 audio   {"redacted":"audio","bytes":DECODED_BYTES,"fp":"siphash:…"} (bulk fingerprint)
//   opaque keys and subtrees deeper than max_depth
//                  {"redacted":"opaque","type":"object|array|string|number|boolean|null",
//                   "len":SERIALIZED_BYTES,"fp":"hmac:…"} (len and fp of the value serialized
//                   with sorted keys, so equal values have equal fingerprints whatever their
//                   key order)
//   hidden numbers {"redacted":"number"}
// Object keys are kept if they look like identifiers ([A-Za-z0-9_.:-]{1,64}, no secret pattern),
// otherwise replaced by their fingerprint.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "redact/fingerprint.h"
#include "redact/flat_json.h"
#include "redact/json_holes.h"
#include "redact/policy.h"

namespace relaytap::redact {

struct RedactStats {
  size_t strings_kept = 0;      // allowed strings, ids and scrubbed messages written as text
  size_t strings_redacted = 0;  // strings replaced by a placeholder (audio included)
  size_t secrets_scrubbed = 0;  // secret spans replaced inside scrub_keys text
  size_t audio_values = 0;
  uint64_t audio_bytes = 0;  // decoded bytes of all audio values
  size_t opaque_values = 0;  // opaque-key and depth-limited subtrees
  size_t depth_limited = 0;
  size_t numbers_redacted = 0;
  size_t keys_fingerprinted = 0;
};

// Redacts `doc`. Never throws for any document (invalid UTF-8 in strings is replaced). Counts are
// added to *stats when given. (A nlohmann::json argument converts; its keys come sorted.)
std::string RedactJson(const nlohmann::ordered_json& doc, const Policy& policy,
                       const Fingerprinter& fp, RedactStats* stats = nullptr);

// The same for a document parsed with cut-out long strings (json_holes.h): the output equals
// RedactJson of the fully parsed document.
std::string RedactJson(const ParsedJson& parsed, const Policy& policy, const Fingerprinter& fp,
                       RedactStats* stats = nullptr);

// The largest redacted document that is stored as such. A realtime event redacts to well under
// this (audio and free text become placeholders); a larger one is stored as its over-limit
// shape (body_shape.h), so one message cannot write a row of many megabytes.
inline constexpr size_t kMaxStoredJsonBytes = size_t{1} << 20;

// The stored form of `text`, parsed as `parsed` (ParsedJson::Parse(text)): redacted as above;
// text that is not JSON yields BodyShape("", text, fp), so raw bytes never come through; text
// with more than kMaxJsonValues values, or whose redacted form passes kMaxStoredJsonBytes,
// yields OverLimitShape("element_budget" or "stored_cap", its size, fp, the text).
std::string RedactParsedText(const ParsedJson& parsed, std::string_view text, const Policy& policy,
                             const Fingerprinter& fp, RedactStats* stats = nullptr);

// RedactJsonText(text) for a `text` that ParseFlatObject read as `flat` (flat_json.h), without a
// DOM: the same bytes, or nullopt where the flat path does not apply (an opaque key, a policy
// whose max_depth is 0); then use RedactJsonText.
std::optional<std::string> RedactFlatText(const FlatObject& flat, std::string_view text,
                                          const Policy& policy, const Fingerprinter& fp);

// Parses `text` (without exceptions) and returns RedactParsedText.
std::string RedactJsonText(std::string_view text, const Policy& policy, const Fingerprinter& fp,
                           RedactStats* stats = nullptr);

// Decoded size of base64 text without decoding: (len - padding) * 3 / 4.
uint64_t Base64DecodedLength(std::string_view b64);

}  // namespace relaytap::redact
