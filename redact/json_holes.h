#pragma once
// Fast parsing of realtime messages whose bulk is one long base64 string (audio deltas of ~8 KB,
// input_audio_buffer.append of up to ~300 KB). nlohmann's lexer copies every string byte by byte,
// so long "clean" string values are cut out before parsing: the DOM holds a short marker for each,
// and Resolve() gives back the original bytes, which for a clean string are exactly its decoded
// value. Everything else is parsed by nlohmann (json_parse.h: keys in document order), so a text
// is valid exactly when nlohmann::json::parse accepts it, and the DOM differs from
// ParseOrderedJson(text) only by the markers.
//
// Clean: 128+ bytes, all printable ASCII (0x20..0x7e) without '"' and '\\', in a value position
// (object keys are never cut). Marker: "\u0000" + decimal index. Text with a string token that
// holds the escape "\u0000" is parsed without holes, so a marker never collides with a real string.
// Thread rule: plain values; ParsedJson borrows the text it was parsed from.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace relaytap::redact {

class JsonHoles {
 public:
  static constexpr size_t kMinHoleBytes = 128;

  // The text the DOM string `s` stands for: the original bytes for a marker, else `s`.
  std::string_view Resolve(const std::string& s) const {
    if (spans_.empty() || s.size() < 2 || s[0] != '\0') return s;
    return ResolveMarker(s);
  }
  // Base64 alphabet characters (standard and URL-safe) in the text the marker `s` stands for,
  // counted while the string was scanned; nullopt if `s` is not a marker. Equal to
  // redact::CountBase64Alphabet(Resolve(s)) (base64_alphabet.h), without another pass.
  std::optional<int64_t> Base64AlphabetChars(const std::string& s) const;
  bool empty() const { return spans_.empty(); }
  size_t size() const { return spans_.size(); }

 private:
  friend struct ParsedJson;
  struct Span {
    size_t offset;  // in source_
    size_t length;
    int64_t base64_chars;
  };
  const Span* FindSpan(const std::string& s) const;
  std::string_view ResolveMarker(const std::string& s) const;
  std::string_view source_;
  std::vector<Span> spans_;
};

struct ParsedJson {
  nlohmann::ordered_json doc;  // keys in document order; discarded when the text is not JSON
  JsonHoles holes;
  bool over_budget = false;  // the text has more than kMaxJsonValues values (doc is discarded)

  // Parses `text` without exceptions. `text` must outlive the result (holes point into it).
  static ParsedJson Parse(std::string_view text);
};

}  // namespace relaytap::redact
