#include "redact/base64_alphabet.h"

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

}  // namespace relaytap::redact
