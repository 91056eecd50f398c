// FrameTap's accounting: timestamps follow the feed calls, wire bytes and frames are counted,
// and payloads are truncated at the cap (also after inflating) while the tap stays in sync.
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/ws/frame_tap.h"
#include "tests/proxy/ws/frame_tap_test_support.h"

namespace relaytap::proxy::ws::frame_tap_testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// ---- Accounting ----

TEST(FrameTapAccountingTest, TimestampsFollowFeedCallsAndCountsWireBytesAndFrames) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string first = EncodeFrame(0x1, "hello ", {.fin = false, .mask = true});
  const std::string pong = EncodeFrame(0xA, "", {.mask = true});
  const std::string second = EncodeFrame(0x0, "world", {.mask = true});
  tap.Feed(first.substr(0, 1), 1000);  // first byte of the first frame
  tap.Feed(first.substr(1), 2000);
  tap.Feed(pong, 3000);
  tap.Feed(second.substr(0, 4), 4000);
  tap.Feed(second.substr(4), 5000);                                   // completes the last frame
  tap.Feed(EncodeFrame(0x2, "", {.mask = true}).substr(0, 1), 6000);  // unrelated start
  ASSERT_THAT(rec.messages, SizeIs(2));
  const Message& p = rec.messages[0];
  EXPECT_EQ(p.opcode, Opcode::kPong);
  EXPECT_EQ(p.first_frame_us, 3000);
  EXPECT_EQ(p.last_frame_us, 3000);
  EXPECT_EQ(p.wire_bytes, pong.size());
  EXPECT_EQ(p.frame_count, 1u);
  const Message& m = rec.messages[1];
  EXPECT_EQ(m.payload, "hello world");
  EXPECT_EQ(m.first_frame_us, 1000);
  EXPECT_EQ(m.last_frame_us, 5000);
  EXPECT_EQ(m.wire_bytes, first.size() + second.size());
  EXPECT_EQ(m.frame_count, 2u);
}

TEST(FrameTapAccountingTest, TruncatesPayloadAtCapButCountsAllWireBytes) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec, /*observed_payload_cap=*/1000);
  const std::string payload = FakeAudio(5000, 12);
  const std::string wire = EncodeFragmented(0x2, payload, 3, /*mask=*/true);
  tap.Feed(wire, 1);
  tap.Feed(EncodeFrame(0x1, "small", {.mask = true}), 2);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_TRUE(rec.messages[0].truncated);
  EXPECT_EQ(rec.messages[0].payload, payload.substr(0, 1000));
  EXPECT_EQ(rec.messages[0].wire_bytes, wire.size());
  EXPECT_EQ(rec.messages[0].frame_count, 3u);
  EXPECT_FALSE(rec.messages[1].truncated);
  EXPECT_EQ(rec.messages[1].payload, "small");
}

TEST(FrameTapAccountingTest, TruncatesInflatedPayloadAndStaysInSyncWithContextTakeover) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(), rec, /*observed_payload_cap=*/1000);
  Deflater deflater(15, false);
  const std::string big = AudioDeltaEvent(13);
  tap.Feed(EncodeFrame(0x1, deflater.Compress(big), {.rsv1 = true}), 1);
  tap.Feed(EncodeFrame(0x1, deflater.Compress("{\"type\":\"response.done\"}"), {.rsv1 = true}), 2);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_TRUE(rec.messages[0].truncated);
  EXPECT_EQ(rec.messages[0].payload, big.substr(0, 1000));
  EXPECT_FALSE(rec.messages[1].truncated);
  EXPECT_EQ(rec.messages[1].payload, "{\"type\":\"response.done\"}");
}

TEST(FrameTapAccountingTest, TruncatesInflatedPayloadWithNoContextTakeover) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, Deflate(15, 15, true), rec, 1000);
  Deflater deflater(15, true);
  const std::string big = AudioAppendEvent(14);
  tap.Feed(EncodeFrame(0x1, deflater.Compress(big), {.rsv1 = true, .mask = true}), 1);
  tap.Feed(EncodeFrame(0x1, deflater.Compress("{}"), {.rsv1 = true, .mask = true}), 2);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_TRUE(rec.messages[0].truncated);
  EXPECT_EQ(rec.messages[0].payload, big.substr(0, 1000));
  EXPECT_EQ(rec.messages[1].payload, "{}");
}

}  // namespace
}  // namespace relaytap::proxy::ws::frame_tap_testing
