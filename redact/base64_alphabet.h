#pragma once
// Counting base64 alphabet characters (standard and URL-safe) 16 bytes a step. The recorder
// measures every audio delta and append (~8 KB each): JsonHoles counts while its string scan
// reads the bytes anyway (the first read of a payload waits on memory, so the extra arithmetic
// is nearly free there), and recorder::Base64DecodedSize counts the strings it is given.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace relaytap::redact {

inline constexpr auto kIsBase64Alphabet = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<size_t>(c)] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
                                c == '_';
  }
  return t;
}();

// Base64 alphabet characters in `s` (padding, whitespace and any other byte are not counted).
int64_t CountBase64Alphabet(std::string_view s);

// How many bytes at the start of `s` are all alphabet characters, in whole blocks of 32 (a
// lower bound of the alphabet prefix; 0 where the CPU has no AVX2). A base64 string is alphabet
// up to its padding, so a scan takes this first and then goes on byte block by byte block; an
// alphabet byte is never one a JSON string scan stops at.
size_t Base64AlphabetBlocksPrefix(std::string_view s);

#if defined(__SSE2__)
// 0xff in each byte of `v` that is an alphabet character. Ranges are tested with one signed
// compare each (SSE2 has no unsigned one): adding 128 - lo moves [lo, lo + n) to the bottom of
// the signed bytes, [-128, -128 + n), and every other byte value above it. Letters first fold
// A-Z onto a-z with | 0x20, which maps nothing else into a-z.
inline __m128i Base64AlphabetMask(__m128i v) {
  const auto in_range = [](__m128i x, int lo, int n) {  // lo <= x < lo + n, as unsigned bytes
    const __m128i shifted = _mm_add_epi8(x, _mm_set1_epi8(static_cast<char>(128 - lo)));
    return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(-128 + n)));
  };
  const auto is = [&v](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
  const __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26);
  const __m128i digit = in_range(v, '0', 10);
  const __m128i sym = _mm_or_si128(_mm_or_si128(is('+'), is('/')), _mm_or_si128(is('-'), is('_')));
  return _mm_or_si128(_mm_or_si128(letter, digit), sym);
}
#endif

// Sums alphabet characters over whole 16-byte blocks and single bytes, in any order: per-byte
// counters (subtracting a 0xff mask adds one) folded into the total before they can wrap.
class Base64AlphabetCounter {
 public:
#if defined(__SSE2__)
  void AddBlock(__m128i v) {
    counts_ = _mm_sub_epi8(counts_, Base64AlphabetMask(v));
    if (++blocks_ == 255) Fold();
  }
#endif
  void AddByte(char c) { bytes_ += kIsBase64Alphabet[static_cast<unsigned char>(c)]; }
  // `n` bytes known to be alphabet characters (Base64AlphabetBlocksPrefix).
  void AddAlphabetRun(size_t n) { total_ += static_cast<int64_t>(n); }
  int64_t Total() {
#if defined(__SSE2__)
    Fold();
#endif
    return total_ + bytes_;
  }

 private:
#if defined(__SSE2__)
  void Fold() {
    const __m128i sums = _mm_sad_epu8(counts_, _mm_setzero_si128());  // two 64-bit lane sums
    total_ += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
    counts_ = _mm_setzero_si128();
    blocks_ = 0;
  }
  __m128i counts_ = _mm_setzero_si128();
  int blocks_ = 0;
#endif
  int64_t total_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace relaytap::redact
