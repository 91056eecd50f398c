#pragma once
// The string-token scan that json_holes.cc and flat_json.cc share: one pass that finds a JSON
// string token's end, says whether its bytes are all plain printable ASCII, and counts its base64
// alphabet characters on the way. Internal to redact/. Pure.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "redact/base64_alphabet.h"

namespace relaytap::redact::internal {

#if defined(__SSE2__)
// Bit i set if byte i of `v` is < 0x20, > 0x7e, '"' or '\\'. Signed compares: bytes >= 0x80 are
// negative, so "< 0x20" catches them too.
inline unsigned SpecialMask16(__m128i v) {
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
inline bool HasSpecialByte(uint64_t w) {
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
inline StringToken ScanString(std::string_view t, size_t open, bool* nul_escape) {
  static constexpr std::string_view kNulEscape = "\\u0000";
  StringToken token;
  Base64AlphabetCounter counter;
  size_t i = open + 1;
  // The bulk of a base64 string, 32 bytes a step where the CPU allows.
  const size_t run = Base64AlphabetBlocksPrefix(t.substr(i));
  counter.AddAlphabetRun(run);
  i += run;
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

}  // namespace relaytap::redact::internal
