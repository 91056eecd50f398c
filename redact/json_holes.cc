#include "redact/json_holes.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "redact/base64_alphabet.h"
#include "redact/json_parse.h"

namespace relaytap::redact {
namespace {

#if defined(__SSE2__)
// Bit i set if byte i of `v` is < 0x20, > 0x7e, '"' or '\\'. Signed compares: bytes >= 0x80 are
// negative, so "< 0x20" catches them too.
unsigned SpecialMask16(__m128i v) {
  const __m128i low_or_high = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return static_cast<unsigned>(_mm_movemask_epi8(
      _mm_or_si128(_mm_or_si128(low_or_high, del), _mm_or_si128(quote, backslash))));
}
#else
// True if any byte of `w` is < 0x20, > 0x7e, '"' or '\\' (exact "any" tests from Bit Twiddling
// Hacks: haszero and hasless with n <= 128 have no false positives for the word as a whole).
bool HasSpecialByte(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return ((w & kHigh) | below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\')) |
          has_zero(w ^ (kOnes * 0x7f))) != 0;
}
#endif

struct StringToken {
  size_t end = std::string_view::npos;  // one past the closing quote; npos: unterminated
  bool clean = true;         // every byte inside is printable ASCII other than '"' and '\\'
  int64_t base64_chars = 0;  // alphabet characters inside (exact when clean)
};

// Scans the string token whose opening quote is at `open`. While it reads the bytes it counts
// their base64 alphabet characters (for audio sizes: no second pass over the string), and it sets
// *nul_escape (never clears it) if the token holds the escape "\u0000", checked at the
// backslashes the scan stops at anyway instead of in a pass over the whole text.
StringToken ScanString(std::string_view t, size_t open, bool* nul_escape) {
  static constexpr std::string_view kNulEscape = "\\u0000";
  StringToken token;
  Base64AlphabetCounter counter;
  size_t i = open + 1;
  while (i < t.size()) {
#if defined(__SSE2__)
    // 16 bytes a step (the bulk of a base64 string), then straight to the next special byte.
    if (t.size() - i >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + i));
      const unsigned mask = SpecialMask16(v);
      if (mask == 0) {
        counter.AddBlock(v);
        i += 16;
        continue;
      }
      const size_t plain = static_cast<size_t>(__builtin_ctz(mask));
      for (size_t k = 0; k < plain; ++k) counter.AddByte(t[i + k]);
      i += plain;
    }
#else
    if (t.size() - i >= 8) {  // 8 plain bytes at a time: the bulk of a base64 string
      uint64_t w;
      std::memcpy(&w, t.data() + i, sizeof(w));
      if (!HasSpecialByte(w)) {
        for (size_t k = 0; k < 8; ++k) counter.AddByte(t[i + k]);
        i += 8;
        continue;
      }
    }
#endif
    const auto c = static_cast<unsigned char>(t[i]);
    if (c == '"') {
      token.end = i + 1;
      token.base64_chars = counter.Total();
      return token;
    }
    if (c == '\\') {
      token.clean = false;
      if (t.compare(i, kNulEscape.size(), kNulEscape) == 0) *nul_escape = true;
      i += 2;  // the escaped character cannot end the string
      continue;
    }
    if (c < 0x20 || c > 0x7e) token.clean = false;
    counter.AddByte(t[i]);
    ++i;
  }
  return token;
}

// True if the token ending before `i` is an object key (the next non-blank byte is ':').
bool IsKey(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i < t.size() && t[i] == ':';
}

nlohmann::ordered_json ParseText(std::string_view text, bool* over_budget) {
  return ParseOrderedJson(text, kMaxJsonValues, over_budget);
}

}  // namespace

const JsonHoles::Span* JsonHoles::FindSpan(const std::string& s) const {
  if (spans_.empty() || s.size() < 2 || s[0] != '\0') return nullptr;
  size_t index = 0;
  auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), index);
  if (ec != std::errc() || end != s.data() + s.size() || index >= spans_.size()) return nullptr;
  return &spans_[index];
}

std::string_view JsonHoles::ResolveMarker(const std::string& s) const {
  const Span* span = FindSpan(s);
  return span == nullptr ? std::string_view(s) : source_.substr(span->offset, span->length);
}

std::optional<int64_t> JsonHoles::Base64AlphabetChars(const std::string& s) const {
  const Span* span = FindSpan(s);
  if (span == nullptr) return std::nullopt;
  return span->base64_chars;
}

ParsedJson ParsedJson::Parse(std::string_view text) {
  ParsedJson out;
  if (text.size() < JsonHoles::kMinHoleBytes) {
    out.doc = ParseText(text, &out.over_budget);
    return out;
  }
  std::vector<JsonHoles::Span> spans;
  std::string reduced;
  size_t copied = 0;  // text[0, copied) is in `reduced` already
  size_t i = 0;
  bool nul_escape = false;
  for (;;) {
    const size_t open = text.find('"', i);
    if (open == std::string_view::npos) break;
    const StringToken token = ScanString(text, open, &nul_escape);
    const size_t end = token.end;
    // Unterminated: nlohmann rejects the text, with or without holes (the rest is copied as is).
    if (end == std::string_view::npos) break;
    const size_t len = end - open - 2;
    if (token.clean && len >= JsonHoles::kMinHoleBytes && !IsKey(text, end)) {
      if (reduced.empty()) reduced.reserve(1024);
      reduced.append(text.substr(copied, open - copied));
      reduced.append("\"\\u0000");
      char digits[24];
      auto [p, ec] = std::to_chars(digits, digits + sizeof(digits), spans.size());
      reduced.append(digits, p);
      reduced.push_back('"');
      spans.push_back(JsonHoles::Span{open + 1, len, token.base64_chars});
      copied = end;
    }
    i = end;
  }
  // A real string could decode to a marker only through "\u0000". Outside string tokens a
  // backslash is not JSON at all, so scanning the tokens is enough.
  if (spans.empty() || nul_escape) {
    out.doc = ParseText(text, &out.over_budget);
    return out;
  }
  reduced.append(text.substr(copied));
  out.doc = ParseText(reduced, &out.over_budget);
  out.holes.source_ = text;
  out.holes.spans_ = std::move(spans);
  return out;
}

}  // namespace relaytap::redact
