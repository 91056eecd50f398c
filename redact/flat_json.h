#pragma once
// The realtime events that arrive at audio rates are flat JSON objects: a few short ids and one
// long base64 string ({"type":"input_audio_buffer.append","event_id":"…","audio":"…"}). For
// them the recorder needs no DOM: ParseFlatObject reads such a text in one pass over its bytes
// (the string scan of json_holes.h) and gives its members in document order.
//
// It accepts only a strict subset of JSON on which nlohmann::json::parse gives the same values:
// one object, members with distinct keys, each value a string of printable ASCII without escapes
// (bytes 0x20..0x7e other than '"' and '\\'), an integer of at most 18 digits in canonical form
// (no leading zero, not "-0"), true, false or null; whitespace between tokens. Anything else
// (nested values, escapes, other bytes, fractions, exponents, duplicate keys, more than
// kMaxFlatMembers members, invalid JSON) gives nullopt, and the caller parses the text the usual
// way (json_holes.h). So a flat object is always valid JSON, and every value it holds is the
// value nlohmann reads. Thread rule: plain values; FlatObject borrows the text it was read from.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace relaytap::redact {

struct FlatMember {
  enum class Kind : uint8_t { kString, kInteger, kTrue, kFalse, kNull };
  std::string_view key;
  Kind kind = Kind::kNull;
  std::string_view text;     // a string's bytes (its value: no escapes), an integer's digits
  int64_t base64_chars = 0;  // strings: base64 alphabet characters (base64_alphabet.h)
};

struct FlatObject {
  std::vector<FlatMember> members;  // document order, distinct keys

  const FlatMember* Find(std::string_view key) const;
};

inline constexpr size_t kMaxFlatMembers = 32;

// `text` must outlive the result.
std::optional<FlatObject> ParseFlatObject(std::string_view text);

}  // namespace relaytap::redact
