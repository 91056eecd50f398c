#include "recorder/base64_size.h"

#include <array>
#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace relaytap::recorder {
namespace {

constexpr auto kIsB64 = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '-' || c == '_';
  }
  return t;
}();

#if defined(__SSE2__)
// 0xff in each byte of the 16 at `p` that is an alphabet character. Ranges are tested with one
// signed compare each (SSE2 has no unsigned one): adding 128 - lo moves [lo, lo + n) to the
// bottom of the signed bytes, [-128, -128 + n), and every other byte value above it. Letters
// first fold A-Z onto a-z with | 0x20, which maps nothing else into a-z. 14 operations a block
// where three two-sided range tests took 19: this runs over every audio delta.
__m128i AlphabetMask(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
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

// Alphabet characters in the first `blocks` * 16 bytes at `p`: per-byte counters (subtracting
// the 0xff masks adds one), folded into the total before they can wrap at 255.
int64_t CountBlocks(const char* p, size_t blocks) {
  int64_t n = 0;
  while (blocks > 0) {
    const size_t run = blocks < 255 ? blocks : 255;
    __m128i counts = _mm_setzero_si128();
    for (size_t b = 0; b < run; ++b) counts = _mm_sub_epi8(counts, AlphabetMask(p + b * 16));
    const __m128i sums = _mm_sad_epu8(counts, _mm_setzero_si128());  // two 64-bit lane sums
    n += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
    p += run * 16;
    blocks -= run;
  }
  return n;
}
#endif

}  // namespace

int64_t Base64DecodedSize(std::string_view b64) {
  int64_t n = 0;
  size_t i = 0;
#if defined(__SSE2__)
  n = CountBlocks(b64.data(), b64.size() / 16);
  i = b64.size() / 16 * 16;
#endif
  for (; i < b64.size(); ++i) n += kIsB64[static_cast<unsigned char>(b64[i])];
  return n * 3 / 4;
}

}  // namespace relaytap::recorder
