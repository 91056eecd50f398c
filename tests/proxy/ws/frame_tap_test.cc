// FrameTap, the passive RFC 6455 decoder: framing (fragments, masks, length encodings, feed
// boundaries), close frames, invalid input and names. permessage-deflate is in
// frame_tap_deflate_test.cc, timestamps, byte counts and truncation in
// frame_tap_accounting_test.cc.
#include "proxy/ws/frame_tap.h"

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/proxy/ws/frame_tap_test_support.h"

namespace relaytap::proxy::ws::frame_tap_testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// ---- Framing ----

TEST(FrameTapTest, ReassemblesFragmentedTextMessage) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, {}, rec);
  const std::string event = AudioDeltaEvent(1);
  tap.Feed(EncodeFragmented(0x1, event, 4, /*mask=*/false), 7);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].opcode, Opcode::kText);
  EXPECT_EQ(rec.messages[0].payload, event);
  EXPECT_EQ(rec.messages[0].frame_count, 4u);
  EXPECT_EQ(rec.messages[0].direction, Direction::kServerToClient);
  EXPECT_FALSE(rec.messages[0].compressed);
  EXPECT_FALSE(rec.messages[0].truncated());
  EXPECT_EQ(tap.messages(), 1u);
  EXPECT_TRUE(rec.errors.empty());
}

TEST(FrameTapTest, EmitsPingInterleavedBetweenFragmentsBeforeTheMessage) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string event = AudioAppendEvent(2);
  const std::string frames = EncodeFragmented(0x1, event, 2, /*mask=*/true);
  const std::string first =
      EncodeFrame(0x1, event.substr(0, (event.size() + 1) / 2), {.fin = false, .mask = true});
  const std::string ping = EncodeFrame(0x9, "keepalive", {.mask = true});
  tap.Feed(first + ping + frames.substr(first.size()), 1);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_EQ(rec.messages[0].opcode, Opcode::kPing);
  EXPECT_EQ(rec.messages[0].payload, "keepalive");
  EXPECT_EQ(rec.messages[0].wire_bytes, ping.size());
  EXPECT_EQ(rec.messages[1].opcode, Opcode::kText);
  EXPECT_EQ(rec.messages[1].payload, event);
  EXPECT_EQ(rec.messages[1].wire_bytes, frames.size());
  EXPECT_EQ(rec.messages[1].frame_count, 2u);
}

TEST(FrameTapTest, UnmasksMaskedClientFrames) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string event = AudioAppendEvent(3);
  const std::string wire = EncodeFrame(0x1, event, {.mask = true});
  ASSERT_NE(wire.substr(wire.size() - event.size()), event);
  tap.Feed(wire, 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].payload, event);
}

TEST(FrameTapTest, UnmasksAcrossOddFeedBoundaries) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string payload = FakeAudio(1001, 4);
  const std::string wire = EncodeFrame(0x2, payload, {.mask = true});
  for (size_t at = 0; at < wire.size(); at += 7) tap.Feed(wire.substr(at, 7), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].payload, payload);
}

struct LengthCase {
  size_t size;
  int length_bits;
};

void PrintTo(const LengthCase& c, std::ostream* os) {
  *os << c.size << " bytes as " << c.length_bits << "-bit length";
}

class FrameTapLengthTest : public ::testing::TestWithParam<LengthCase> {};

TEST_P(FrameTapLengthTest, DecodesPayloadLengthEncoding) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string payload = FakeAudio(GetParam().size, 5);
  const std::string wire =
      EncodeFrame(0x2, payload, {.mask = true, .length_bits = GetParam().length_bits});
  tap.Feed(wire, 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].opcode, Opcode::kBinary);
  EXPECT_EQ(rec.messages[0].payload, payload);
  EXPECT_EQ(rec.messages[0].wire_bytes, wire.size());
  EXPECT_TRUE(rec.errors.empty());
}

INSTANTIATE_TEST_SUITE_P(Lengths, FrameTapLengthTest,
                         ::testing::Values(LengthCase{0, 7}, LengthCase{125, 7},
                                           LengthCase{126, 16}, LengthCase{65535, 16},
                                           LengthCase{70 * 1024, 64},
                                           // Non-minimal encodings are accepted.
                                           LengthCase{10, 16}, LengthCase{10, 64}));

TEST(FrameTapTest, Decodes70KilobyteRealtimeEventWith64BitLength) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, {}, rec);
  std::string event = R"({"type":"response.output_audio.delta","delta":")";
  event += Base64(FakeAudio(70 * 1024 * 3 / 4, 6)) + R"("})";
  ASSERT_GT(event.size(), 65535u);
  const std::string wire = EncodeFrame(0x1, event);
  EXPECT_EQ(static_cast<uint8_t>(wire[1]), 127);
  tap.Feed(wire, 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].payload, event);
  EXPECT_EQ(rec.messages[0].wire_bytes, event.size() + 10);
}

TEST(FrameTapTest, Decodes20MegabyteBinaryMessageFedInChunks) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string payload = FakeAudio(20u << 20, 7);
  const std::string wire = EncodeFrame(0x2, payload, {.mask = true});
  for (size_t at = 0; at < wire.size(); at += 65536) tap.Feed(wire.substr(at, 65536), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].payload.size(), payload.size());
  EXPECT_TRUE(rec.messages[0].payload == payload);
  EXPECT_EQ(rec.messages[0].wire_bytes, wire.size());
}

// A realtime session: masked client appends (compressed, fragmented, pings) with takeover.
std::string RealtimeClientStream() {
  Deflater deflater(15, /*no_context_takeover=*/false);
  std::string wire;
  wire +=
      EncodeFrame(0x1, R"({"type":"session.update","session":{"voice":"alloy"}})", {.mask = true});
  for (uint32_t i = 0; i < 6; ++i) {
    const std::string compressed = deflater.Compress(AudioAppendEvent(100 + i));
    if (i % 2 == 0) {
      wire += EncodeFrame(0x1, compressed, {.rsv1 = true, .mask = true});
    } else {
      wire += EncodeFragmented(0x1, compressed, 3, /*mask=*/true, /*rsv1=*/true);
    }
    if (i == 2) wire += EncodeFrame(0x9, "p", {.mask = true});
  }
  wire += EncodeFrame(0x2, FakeAudio(300, 9), {.mask = true});
  wire += EncodeFrame(0x8,
                      "\x03\xe8"
                      "bye",
                      {.mask = true});
  return wire;
}

TEST(FrameTapTest, GivesIdenticalMessagesWhetherFedWholeByteByByteOrInRandomSplits) {
  const std::string wire = RealtimeClientStream();
  Recorder whole;
  FrameTap whole_tap(Direction::kClientToServer, Deflate(), whole);
  whole_tap.Feed(wire, 42);
  ASSERT_THAT(whole.messages, SizeIs(10));
  EXPECT_TRUE(whole.errors.empty());
  EXPECT_EQ(whole.messages[1].payload, AudioAppendEvent(100));
  EXPECT_EQ(whole.messages[9].close_code, 1000);

  Recorder bytewise;
  FrameTap bytewise_tap(Direction::kClientToServer, Deflate(), bytewise);
  for (char c : wire) bytewise_tap.Feed(std::string_view(&c, 1), 42);
  EXPECT_EQ(DescribeAll(bytewise.messages), DescribeAll(whole.messages));

  std::mt19937 rng(20240601);
  for (int round = 0; round < 20; ++round) {
    Recorder split;
    FrameTap split_tap(Direction::kClientToServer, Deflate(), split);
    for (size_t at = 0; at < wire.size();) {
      const size_t n = std::min<size_t>(wire.size() - at, 1 + rng() % 3000);
      split_tap.Feed(std::string_view(wire).substr(at, n), 42);
      at += n;
    }
    ASSERT_EQ(DescribeAll(split.messages), DescribeAll(whole.messages)) << "round " << round;
    EXPECT_TRUE(split.errors.empty());
  }
}

// ---- Close ----

TEST(FrameTapTest, ParsesCloseCodeAndReason) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, {}, rec);
  tap.Feed(EncodeFrame(0x8, std::string("\x0f\xa0", 2) + "session expired"), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].opcode, Opcode::kClose);
  EXPECT_EQ(rec.messages[0].close_code, 4000);
  EXPECT_EQ(rec.messages[0].close_reason, "session expired");
}

TEST(FrameTapTest, AcceptsCloseWithoutBody) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  tap.Feed(EncodeFrame(0x8, "", {.mask = true}), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].opcode, Opcode::kClose);
  EXPECT_FALSE(rec.messages[0].close_code.has_value());
  EXPECT_EQ(rec.messages[0].close_reason, "");
  EXPECT_EQ(rec.messages[0].wire_bytes, 6u);
}

// ---- Invalid input ----

struct InvalidCase {
  std::string name;
  PerMessageDeflate deflate;
  std::string wire;
  std::string reason_part;
};

std::vector<InvalidCase> InvalidCases() {
  return {
      {"Rsv2Set", {}, EncodeFrame(0x1, "x", {.rsv2 = true}), "RSV2"},
      {"Rsv3Set", {}, EncodeFrame(0x1, "x", {.rsv3 = true}), "RSV2/RSV3"},
      {"UnknownOpcode3", {}, EncodeFrame(0x3, "x"), "opcode 3"},
      {"FragmentedPing", {}, EncodeFrame(0x9, "x", {.fin = false}), "fragmented ping"},
      {"ControlOver125Bytes", {}, EncodeFrame(0xA, std::string(126, 'p')), "125"},
      {"ContinuationWithoutStart", {}, EncodeFrame(0x0, "x"), "continuation"},
      {"NewDataFrameDuringFragmentedMessage",
       {},
       EncodeFrame(0x1, "a", {.fin = false}) + EncodeFrame(0x2, "b"),
       "in progress"},
      {"Rsv1WithoutDeflate", {}, EncodeFrame(0x1, "x", {.rsv1 = true}), "not negotiated"},
      {"Rsv1OnContinuation", Deflate(),
       EncodeFrame(0x1, "a", {.fin = false}) + EncodeFrame(0x0, "b", {.rsv1 = true}),
       "continuation"},
      {"CloseWithOneByteBody", {}, EncodeFrame(0x8, "\x03"), "1-byte"},
      {"CorruptDeflateData", Deflate(),
       EncodeFrame(0x1, std::string("\xff\xff\xff\xff\xff\xff", 6), {.rsv1 = true}), "inflate"},
      {"LengthWithMostSignificantBitSet",
       {},
       std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10),
       "most significant"},
  };
}

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class FrameTapInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(FrameTapInvalidTest, ReportsOneErrorAndIgnoresLaterInput) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, GetParam().deflate, rec);
  tap.Feed(GetParam().wire, 1);
  tap.Feed(EncodeFrame(0x1, "after"), 2);
  tap.Feed(EncodeFrame(0x1, "x", {.rsv2 = true}), 3);
  EXPECT_TRUE(tap.failed());
  ASSERT_THAT(rec.errors, SizeIs(1));
  EXPECT_THAT(rec.errors[0], HasSubstr(GetParam().reason_part));
  EXPECT_THAT(rec.errors[0], HasSubstr("server: "));
  EXPECT_THAT(rec.messages, SizeIs(0));
  EXPECT_EQ(tap.messages(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Frames, FrameTapInvalidTest, ::testing::ValuesIn(InvalidCases()),
                         [](const auto& p) { return p.param.name; });

TEST(FrameTapTest, KeepsMessagesDeliveredBeforeAnError) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  tap.Feed(EncodeFrame(0x1, "ok", {.mask = true}) + EncodeFrame(0x3, "", {.mask = true}) +
               EncodeFrame(0x1, "lost", {.mask = true}),
           1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].payload, "ok");
  EXPECT_THAT(rec.errors, SizeIs(1));
}

// ---- Names ----

TEST(FrameTapTest, NamesDirectionsAndOpcodes) {
  EXPECT_EQ(DirectionName(Direction::kClientToServer), "client");
  EXPECT_EQ(DirectionName(Direction::kServerToClient), "server");
  EXPECT_EQ(OpcodeName(Opcode::kText), "text");
  EXPECT_EQ(OpcodeName(Opcode::kBinary), "binary");
  EXPECT_EQ(OpcodeName(Opcode::kClose), "close");
  EXPECT_EQ(OpcodeName(Opcode::kPing), "ping");
  EXPECT_EQ(OpcodeName(Opcode::kPong), "pong");
  EXPECT_EQ(OpcodeName(Opcode::kContinuation), "continuation");
}

}  // namespace
}  // namespace relaytap::proxy::ws::frame_tap_testing
