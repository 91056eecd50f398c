#include "base/byte_size.h"

#include "gtest/gtest.h"

namespace relaytap {
namespace {

TEST(ByteSizeTest, ParsesBinaryUnitsInAnyCase) {
  EXPECT_EQ(*ParseByteSize("65536"), 65536u);
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("12B"), 12u);
  EXPECT_EQ(*ParseByteSize("64k"), 64u << 10);
  EXPECT_EQ(*ParseByteSize("64 KiB"), 64u << 10);
  EXPECT_EQ(*ParseByteSize("500M"), 500ull << 20);
  EXPECT_EQ(*ParseByteSize("500mb"), 500ull << 20);
  EXPECT_EQ(*ParseByteSize("4GiB"), 4ull << 30);
  EXPECT_EQ(*ParseByteSize(" 1g "), 1ull << 30);
  EXPECT_EQ(*ParseByteSize("2TiB"), 2ull << 40);
}

TEST(ByteSizeTest, RejectsWhatIsNotASize) {
  for (const char* bad : {"", "GiB", "-1", "4 GB x", "4.5GiB", "4PiB", "lots", "99999999999T"}) {
    absl::StatusOr<uint64_t> v = ParseByteSize(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_NE(v.status().message().find(bad), std::string::npos) << v.status();
    }
  }
}

TEST(ByteSizeTest, FormatsWithOneDecimal) {
  EXPECT_EQ(FormatByteSize(512), "512 B");
  EXPECT_EQ(FormatByteSize(64u << 10), "64.0 KiB");
  EXPECT_EQ(FormatByteSize((3ull << 30) / 2), "1.5 GiB");
  EXPECT_EQ(FormatByteSize(4ull << 30), "4.0 GiB");
}

}  // namespace
}  // namespace relaytap
