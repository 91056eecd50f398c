#include "redact/base64_alphabet.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace relaytap::redact {

int64_t CountBase64Alphabet(std::string_view s) {
  Base64AlphabetCounter counter;
  size_t i = 0;
#if defined(__SSE2__)
  for (; s.size() - i >= 16; i += 16) {
    counter.AddBlock(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i)));
  }
#endif
  for (; i < s.size(); ++i) counter.AddByte(s[i]);
  return counter.Total();
}

#if defined(__x86_64__)
namespace {

// 0xff in each byte of `v` in [lo, lo + n) (as unsigned bytes); see Base64AlphabetMask.
__attribute__((target("avx2"))) inline __m256i InRange(__m256i v, int lo, int n) {
  const __m256i shifted = _mm256_add_epi8(v, _mm256_set1_epi8(static_cast<char>(128 - lo)));
  return _mm256_cmpgt_epi8(_mm256_set1_epi8(static_cast<char>(-128 + n)), shifted);
}

__attribute__((target("avx2"))) size_t AlphabetBlocksAvx2(const char* p, size_t n) {
  size_t i = 0;
  for (; n - i >= 32; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i letter = InRange(_mm256_or_si256(v, _mm256_set1_epi8(0x20)), 'a', 26);
    const __m256i digit = InRange(v, '0', 10);
    const __m256i sym =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('+')),
                                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8('/'))),
                        _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('-')),
                                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8('_'))));
    const __m256i alphabet = _mm256_or_si256(_mm256_or_si256(letter, digit), sym);
    if (static_cast<unsigned>(_mm256_movemask_epi8(alphabet)) != 0xffffffffu) break;
  }
  return i;
}

}  // namespace
#endif

size_t Base64AlphabetBlocksPrefix(std::string_view s) {
#if defined(__x86_64__)
  static const bool kAvx2 = __builtin_cpu_supports("avx2");
  if (kAvx2) return AlphabetBlocksAvx2(s.data(), s.size());
#endif
  (void)s;
  return 0;
}

}  // namespace relaytap::redact
