#pragma once
// Small JSON text helpers for the redactor: output is written straight into a string (no second
// DOM), strings are escaped with invalid UTF-8 replaced, and whole subtrees are serialized with an
// explicit stack so hostile nesting depth cannot overflow the call stack.

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "redact/json_holes.h"

namespace relaytap::redact {

// Appends `s` as a quoted JSON string. Invalid UTF-8 bytes become \ufffd.
void AppendQuoted(std::string& out, std::string_view s);

// Appends a scalar (string, number, bool, null, binary) in compact JSON form.
void AppendScalar(std::string& out, const nlohmann::ordered_json& v);

// Compact serialization equal to v.dump() for valid UTF-8 input, but iterative: any depth is safe.
// With `holes`, marker strings are written as the text they stand for (json_holes.h). With
// `sorted_keys`, object keys are written in sorted order (as nlohmann::json would), so values
// that are equal whatever their key order serialize alike (for fingerprints).
std::string SerializeCompact(const nlohmann::ordered_json& v, const JsonHoles* holes = nullptr,
                             bool sorted_keys = false);

// The longest prefix of `s` of at most `max_bytes` bytes that does not split a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

}  // namespace relaytap::redact
