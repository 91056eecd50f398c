#pragma once
// Turns the recorder's redaction placeholders back into content of the same shape and length, so
// a replayed message meets the app's parsers in the form the real one had. Pure functions; no I/O.
//
//   {"redacted":"audio","bytes":N,...}   -> base64 of N zero bytes (silence), valid padding
//   {"redacted":"string","len":N,...}    -> a string of N filler bytes
//   {"redacted":"opaque","len":N,...}    -> a string whose JSON serialization is N bytes long
//   {"redacted":"number"}                -> 0
//   {"redacted":"body","len":N,...}      -> (inside JSON) a string of N filler bytes
// Every other value (ids, types, status, numbers, kept strings) is copied verbatim.

#include <cstdint>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace relaytap::tools::replay {

// Base64 (standard alphabet, '=' padded) of `decoded_bytes` zero bytes: 16-bit PCM silence.
std::string SilenceBase64(uint64_t decoded_bytes);

// `n` printable ASCII filler bytes ("relaytap replay filler " repeated, cut at n).
std::string FillerText(uint64_t n);

// True for an object the redactor wrote in place of a value (see the table above).
bool IsPlaceholder(const nlohmann::json& v);

// The document with every placeholder expanded (recursively).
nlohmann::json ExpandPlaceholders(const nlohmann::json& redacted);

// A stored payload or body (redacted JSON text, or a body shape): the bytes to send. A top-level
// body shape {"redacted":"body","len":N} (non-JSON content) becomes N filler bytes; a truncated
// sample {"total_bytes":N,"truncated":true,...} becomes N filler bytes too (its content is not
// recorded). Text that is not JSON at all is returned as is.
std::string ExpandStoredText(std::string_view stored);

}  // namespace relaytap::tools::replay
