#include "recorder/base64_size.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace relaytap::recorder {
namespace {

int64_t ReferenceSize(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    n += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '-' || c == '_';
  }
  return n * 3 / 4;
}

TEST(Base64SizeTest, KnownValues) {
  EXPECT_EQ(Base64DecodedSize(""), 0);
  EXPECT_EQ(Base64DecodedSize("QQ=="), 1);
  EXPECT_EQ(Base64DecodedSize("QUI="), 2);
  EXPECT_EQ(Base64DecodedSize("QUJD"), 3);
  EXPECT_EQ(Base64DecodedSize("QUJD\nREVG\r\n"), 6);     // whitespace is not counted
  EXPECT_EQ(Base64DecodedSize("-_-_-_-_-_-_-_-_"), 12);  // URL-safe, one whole 16-byte block
  EXPECT_EQ(Base64DecodedSize(std::string(6400, 'A')), 4800);
  // More than 255 blocks of 16: the per-byte counters are folded before they wrap.
  EXPECT_EQ(Base64DecodedSize(std::string(16 * 255 * 3 + 16 * 7 + 5, 'z')),
            (16 * 255 * 3 + 16 * 7 + 5) * 3 / 4);
}

TEST(Base64SizeTest, EveryByteValueInEveryBlockPositionMatchesTheReference) {
  // Each byte value at each offset of a 16-byte block and in the scalar tail.
  for (int c = 0; c < 256; ++c) {
    for (size_t pos = 0; pos < 35; ++pos) {
      std::string s(35, 'A');
      s[pos] = static_cast<char>(c);
      ASSERT_EQ(Base64DecodedSize(s), ReferenceSize(s)) << "byte " << c << " at " << pos;
    }
  }
}

TEST(Base64SizeTest, RandomTextsOfEveryLengthMatchTheReference) {
  std::mt19937 rng(12345);  // fixed seed: deterministic
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=\n \"\\\x7f\x80\xff";
  for (size_t len = 0; len < 300; ++len) {
    std::string s(len, '\0');
    for (char& ch : s) {
      ch = rng() % 4 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    ASSERT_EQ(Base64DecodedSize(s), ReferenceSize(s)) << "length " << len;
  }
}

}  // namespace
}  // namespace relaytap::recorder
