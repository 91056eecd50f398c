#include "redact/json_holes.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace relaytap::redact {
namespace {

using Json = nlohmann::json;

#if defined(__SSE2__)
// Bit i set if byte i of the 16 at `p` is < 0x20, > 0x7e, '"' or '\\'. Signed compares: bytes
// >= 0x80 are negative, so "< 0x20" catches them too.
unsigned SpecialMask16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
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
  return ((w & kHigh) | below_space | has_zero(w ^ (kOnes * '"')) |
          has_zero(w ^ (kOnes * '\\')) | has_zero(w ^ (kOnes * 0x7f))) != 0;
}
#endif

// Index one past the closing quote of the string token whose opening quote is at `open`, or npos
// if it is unterminated. *clean: every byte inside is printable ASCII other than '"' and '\\'.
// *nul_escape is set (never cleared) if the token holds the escape "\u0000": checked here, at the
// backslashes the scan stops at anyway, instead of in a second pass over the whole text.
size_t StringEnd(std::string_view t, size_t open, bool* clean, bool* nul_escape) {
  static constexpr std::string_view kNulEscape = "\\u0000";
  *clean = true;
  size_t i = open + 1;
  while (i < t.size()) {
#if defined(__SSE2__)
    // 16 bytes a step (the bulk of a base64 string), then straight to the next special byte.
    if (t.size() - i >= 16) {
      const unsigned mask = SpecialMask16(t.data() + i);
      if (mask == 0) {
        i += 16;
        continue;
      }
      i += static_cast<size_t>(__builtin_ctz(mask));
    }
#else
    if (t.size() - i >= 8) {  // 8 plain bytes at a time: the bulk of a base64 string
      uint64_t w;
      std::memcpy(&w, t.data() + i, sizeof(w));
      if (!HasSpecialByte(w)) {
        i += 8;
        continue;
      }
    }
#endif
    const auto c = static_cast<unsigned char>(t[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      *clean = false;
      if (t.compare(i, kNulEscape.size(), kNulEscape) == 0) *nul_escape = true;
      i += 2;  // the escaped character cannot end the string
      continue;
    }
    if (c < 0x20 || c > 0x7e) *clean = false;
    ++i;
  }
  return std::string_view::npos;
}

// True if the token ending before `i` is an object key (the next non-blank byte is ':').
bool IsKey(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i < t.size() && t[i] == ':';
}

Json ParseText(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

std::string_view JsonHoles::ResolveMarker(const std::string& s) const {
  size_t index = 0;
  auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), index);
  if (ec != std::errc() || end != s.data() + s.size() || index >= spans_.size()) return s;
  return source_.substr(spans_[index].first, spans_[index].second);
}

ParsedJson ParsedJson::Parse(std::string_view text) {
  ParsedJson out;
  if (text.size() < JsonHoles::kMinHoleBytes) {
    out.doc = ParseText(text);
    return out;
  }
  std::vector<std::pair<size_t, size_t>> spans;
  std::string reduced;
  size_t copied = 0;  // text[0, copied) is in `reduced` already
  size_t i = 0;
  bool nul_escape = false;
  for (;;) {
    const size_t open = text.find('"', i);
    if (open == std::string_view::npos) break;
    bool clean = false;
    const size_t end = StringEnd(text, open, &clean, &nul_escape);
    // Unterminated: nlohmann rejects the text, with or without holes (the rest is copied as is).
    if (end == std::string_view::npos) break;
    const size_t len = end - open - 2;
    if (clean && len >= JsonHoles::kMinHoleBytes && !IsKey(text, end)) {
      if (reduced.empty()) reduced.reserve(1024);
      reduced.append(text.substr(copied, open - copied));
      reduced.append("\"\\u0000");
      char digits[24];
      auto [p, ec] = std::to_chars(digits, digits + sizeof(digits), spans.size());
      reduced.append(digits, p);
      reduced.push_back('"');
      spans.emplace_back(open + 1, len);
      copied = end;
    }
    i = end;
  }
  // A real string could decode to a marker only through "\u0000". Outside string tokens a
  // backslash is not JSON at all, so scanning the tokens is enough.
  if (spans.empty() || nul_escape) {
    out.doc = ParseText(text);
    return out;
  }
  reduced.append(text.substr(copied));
  out.doc = ParseText(reduced);
  out.holes.source_ = text;
  out.holes.spans_ = std::move(spans);
  return out;
}

}  // namespace relaytap::redact
