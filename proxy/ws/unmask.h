#pragma once
// RFC 6455 masking: XOR with the 4-byte key, a word at a time. Pure.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace relaytap::proxy::ws {

// XORs `n` bytes in place with the masking key; `offset` is the payload position of data[0].
inline void Unmask(uint8_t* data, size_t n, const std::array<uint8_t, 4>& key, uint64_t offset) {
  const size_t rot = static_cast<size_t>(offset & 3);
  uint8_t pattern[8];
  for (size_t j = 0; j < 8; ++j) pattern[j] = key[(rot + j) & 3];
  uint64_t word_mask;
  std::memcpy(&word_mask, pattern, sizeof(word_mask));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, sizeof(word));
    word ^= word_mask;
    std::memcpy(data + i, &word, sizeof(word));
  }
  for (; i < n; ++i) data[i] ^= pattern[i & 7];
}

}  // namespace relaytap::proxy::ws
