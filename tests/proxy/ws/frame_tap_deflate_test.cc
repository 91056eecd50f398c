// FrameTap with permessage-deflate (RFC 7692): inflating with and without context takeover,
// window bits, compressed fragments, and parsing the negotiated Sec-WebSocket-Extensions.
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/ws/frame_tap.h"
#include "tests/proxy/ws/frame_tap_test_support.h"
#include "tests/testing/status_matchers.h"

namespace relaytap::proxy::ws::frame_tap_testing {
namespace {

using ::relaytap::testing::StatusIs;

using ::testing::HasSubstr;
using ::testing::SizeIs;

// ---- permessage-deflate ----

TEST(FrameTapDeflateTest, InflatesSeveralMessagesWithContextTakeover) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(), rec);
  Deflater deflater(15, false);
  std::vector<std::string> events;
  std::vector<size_t> compressed_sizes;
  for (uint32_t i = 0; i < 4; ++i) {
    events.push_back(AudioDeltaEvent(i % 2));  // repeats: later messages reuse the window
    const std::string compressed = deflater.Compress(events.back());
    compressed_sizes.push_back(compressed.size());
    tap.Feed(EncodeFrame(0x1, compressed, {.rsv1 = true}), i);
  }
  EXPECT_LT(compressed_sizes[2], compressed_sizes[0] / 4);  // the window really is shared
  ASSERT_THAT(rec.messages, SizeIs(4));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_TRUE(rec.messages[i].compressed);
    EXPECT_EQ(rec.messages[i].payload, events[i]) << i;
  }
  EXPECT_TRUE(rec.errors.empty());
}

TEST(FrameTapDeflateTest, InflatesWithClientNoContextTakeover) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, Deflate(15, 15, /*client_nct=*/true), rec);
  Deflater deflater(15, /*no_context_takeover=*/true);
  for (uint32_t i = 0; i < 3; ++i) {
    tap.Feed(EncodeFrame(0x1, deflater.Compress(AudioAppendEvent(7)), {.rsv1 = true, .mask = true}),
             i);
  }
  ASSERT_THAT(rec.messages, SizeIs(3));
  for (const Message& m : rec.messages) EXPECT_EQ(m.payload, AudioAppendEvent(7));
  EXPECT_TRUE(rec.errors.empty());
}

TEST(FrameTapDeflateTest, InflatesWithServerNoContextTakeover) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(15, 15, false, /*server_nct=*/true), rec);
  Deflater deflater(15, /*no_context_takeover=*/true);
  for (uint32_t i = 0; i < 3; ++i) {
    tap.Feed(EncodeFrame(0x1, deflater.Compress(AudioDeltaEvent(8)), {.rsv1 = true}), i);
  }
  ASSERT_THAT(rec.messages, SizeIs(3));
  for (const Message& m : rec.messages) EXPECT_EQ(m.payload, AudioDeltaEvent(8));
  EXPECT_TRUE(rec.errors.empty());
}

TEST(FrameTapDeflateTest, InflatesWithTenWindowBits) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(15, /*server_bits=*/10), rec);
  Deflater deflater(10, false);
  for (uint32_t i = 0; i < 4; ++i) {
    tap.Feed(EncodeFrame(0x1, deflater.Compress(AudioDeltaEvent(i % 2)), {.rsv1 = true}), i);
  }
  ASSERT_THAT(rec.messages, SizeIs(4));
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(rec.messages[i].payload, AudioDeltaEvent(i % 2));
  EXPECT_TRUE(rec.errors.empty());
}

TEST(FrameTapDeflateTest, InflatesCompressedFragmentedMessageWithRsv1OnFirstFrameOnly) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, Deflate(), rec);
  Deflater deflater(15, false);
  const std::string event = AudioAppendEvent(11);
  const std::string wire =
      EncodeFragmented(0x1, deflater.Compress(event), 5, /*mask=*/true, /*rsv1=*/true);
  tap.Feed(wire, 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_TRUE(rec.messages[0].compressed);
  EXPECT_EQ(rec.messages[0].frame_count, 5u);
  EXPECT_EQ(rec.messages[0].wire_bytes, wire.size());
  EXPECT_EQ(rec.messages[0].payload, event);
}

TEST(FrameTapDeflateTest, PassesUncompressedMessagesThroughWhenDeflateNegotiated) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(), rec);
  tap.Feed(EncodeFrame(0x1, R"({"type":"response.done"})"), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_FALSE(rec.messages[0].compressed);
  EXPECT_EQ(rec.messages[0].payload, R"({"type":"response.done"})");
}

// ---- ParseNegotiatedExtensions ----

TEST(FrameTapExtensionsTest, EmptyMeansNoDeflate) {
  absl::StatusOr<PerMessageDeflate> pmd = ParseNegotiatedExtensions("");
  ASSERT_TRUE(pmd.ok());
  EXPECT_FALSE(pmd->enabled);
}

TEST(FrameTapExtensionsTest, PlainDeflateUsesDefaults) {
  absl::StatusOr<PerMessageDeflate> pmd = ParseNegotiatedExtensions("permessage-deflate");
  ASSERT_TRUE(pmd.ok());
  EXPECT_TRUE(pmd->enabled);
  EXPECT_EQ(pmd->client_max_window_bits, 15);
  EXPECT_EQ(pmd->server_max_window_bits, 15);
  EXPECT_FALSE(pmd->client_no_context_takeover);
  EXPECT_FALSE(pmd->server_no_context_takeover);
}

TEST(FrameTapExtensionsTest, ReadsParameters) {
  absl::StatusOr<PerMessageDeflate> pmd = ParseNegotiatedExtensions(
      "permessage-deflate; client_max_window_bits=10; server_max_window_bits=12;"
      " server_no_context_takeover;client_no_context_takeover");
  ASSERT_TRUE(pmd.ok()) << pmd.status();
  EXPECT_EQ(pmd->client_max_window_bits, 10);
  EXPECT_EQ(pmd->server_max_window_bits, 12);
  EXPECT_TRUE(pmd->server_no_context_takeover);
  EXPECT_TRUE(pmd->client_no_context_takeover);
}

TEST(FrameTapExtensionsTest, AcceptsQuotedValuesAndBareClientWindowBits) {
  absl::StatusOr<PerMessageDeflate> quoted =
      ParseNegotiatedExtensions("permessage-deflate; server_max_window_bits=\"9\"");
  ASSERT_TRUE(quoted.ok()) << quoted.status();
  EXPECT_EQ(quoted->server_max_window_bits, 9);
  absl::StatusOr<PerMessageDeflate> bare =
      ParseNegotiatedExtensions("permessage-deflate; client_max_window_bits");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->client_max_window_bits, 15);
}

TEST(FrameTapExtensionsTest, RejectsWindowBitsOutOfRange) {
  for (const char* value :
       {"permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=ten",
        "permessage-deflate; server_max_window_bits", "permessage-deflate; bogus_param"}) {
    absl::StatusOr<PerMessageDeflate> pmd = ParseNegotiatedExtensions(value);
    EXPECT_THAT(pmd, StatusIs(absl::StatusCode::kInvalidArgument)) << value;
  }
}

TEST(FrameTapExtensionsTest, IgnoresOtherExtensions) {
  absl::StatusOr<PerMessageDeflate> other =
      ParseNegotiatedExtensions("x-webkit-deflate-frame; max_window_bits=99");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->enabled);
  absl::StatusOr<PerMessageDeflate> both =
      ParseNegotiatedExtensions("x-custom; a=1, permessage-deflate; server_no_context_takeover");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_TRUE(both->enabled);
  EXPECT_TRUE(both->server_no_context_takeover);
}

}  // namespace
}  // namespace relaytap::proxy::ws::frame_tap_testing
