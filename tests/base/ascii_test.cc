#include "base/ascii.h"

#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relaytap {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(AsciiTest, LowerFoldsOnlyAsciiLetters) {
  EXPECT_EQ(AsciiStrToLower("Content-Type: X-AZ@[`{"), "content-type: x-az@[`{");
  EXPECT_EQ(AsciiStrToLower("\xC3\x84"), "\xC3\x84");  // UTF-8 bytes are left as they are
}

TEST(AsciiTest, CompareIgnoringAsciiCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Sec-WebSocket-Protocol", "sec-websocket-protocol"));
  EXPECT_FALSE(EqualsIgnoreCase("location", "locations"));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 and 0x60 differ only in the case bit
  EXPECT_TRUE(StartsWithIgnoreCase("BEARER abc", "bearer "));
  EXPECT_FALSE(StartsWithIgnoreCase("bear", "bearer"));
}

TEST(AsciiTest, StripAsciiWhitespaceStripsAllSixSpaceCharacters) {
  EXPECT_EQ(StripAsciiWhitespace(" \t\n\v\f\rx y\r\n"), "x y");
  EXPECT_EQ(StripAsciiWhitespace(" \r\n"), "");
}

TEST(AsciiTest, TrimOwsStripsOnlySpaceAndTab) {
  EXPECT_EQ(TrimOws(" \tgzip \t"), "gzip");
  EXPECT_EQ(TrimOws("\r\nx\f"), "\r\nx\f");
  EXPECT_EQ(TrimOws(" \t "), "");
  EXPECT_EQ(TrimOws(""), "");
}

TEST(AsciiTest, SplitHttpListTrimsAndDropsEmptyElements) {
  EXPECT_THAT(SplitHttpList(" a ,b,\t, ,c\t"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(SplitHttpList("realtime"), ElementsAre("realtime"));
  EXPECT_THAT(SplitHttpList(" , ,"), IsEmpty());
  EXPECT_THAT(SplitHttpList(""), IsEmpty());
}

TEST(AsciiTest, SplitHttpListViewsPointIntoTheInput) {
  constexpr std::string_view kValue = "keep-alive, Upgrade";
  const std::vector<std::string_view> parts = SplitHttpList(kValue);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].data(), kValue.data() + 12);
}

}  // namespace
}  // namespace relaytap
