#include "proxy/ws/frame_tap.h"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relaytap::proxy::ws {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr std::array<uint8_t, 4> kMaskKey = {0x37, 0xfa, 0x21, 0x3d};

// ---- A small RFC 6455 / RFC 7692 encoder for building realistic traffic. ----

struct FrameOptions {
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  bool mask = false;
  int length_bits = 0;  // 0: minimal; otherwise force 7, 16 or 64
};

std::string EncodeFrame(uint8_t opcode, std::string_view payload, FrameOptions o = {}) {
  std::string out;
  out.push_back(static_cast<char>((o.fin ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | (o.rsv2 ? 0x20 : 0) |
                                  (o.rsv3 ? 0x10 : 0) | opcode));
  const uint64_t len = payload.size();
  int bits = o.length_bits;
  if (bits == 0) bits = len <= 125 ? 7 : len <= 0xffff ? 16 : 64;
  const char mask_bit = o.mask ? static_cast<char>(0x80) : 0;
  if (bits == 7) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(len)));
  } else if (bits == 16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
  }
  if (!o.mask) return out.append(payload);
  out.append(reinterpret_cast<const char*>(kMaskKey.data()), kMaskKey.size());
  for (size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(payload[i] ^ static_cast<char>(kMaskKey[i % 4])));
  }
  return out;
}

// Splits `payload` into `fragments` frames: `opcode` first, continuations after.
std::string EncodeFragmented(uint8_t opcode, std::string_view payload, size_t fragments,
                             bool mask, bool rsv1 = false) {
  std::string out;
  const size_t step = (payload.size() + fragments - 1) / fragments;
  for (size_t i = 0; i < fragments; ++i) {
    const size_t begin = std::min(payload.size(), i * step);
    const size_t end = i + 1 == fragments ? payload.size() : std::min(payload.size(), begin + step);
    out += EncodeFrame(i == 0 ? opcode : 0x0, payload.substr(begin, end - begin),
                       {.fin = i + 1 == fragments, .rsv1 = rsv1 && i == 0, .mask = mask});
  }
  return out;
}

class Deflater {
 public:
  Deflater(int window_bits, bool no_context_takeover) : no_context_takeover_(no_context_takeover) {
    EXPECT_EQ(deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8,
                           Z_DEFAULT_STRATEGY),
              Z_OK);
  }
  ~Deflater() { deflateEnd(&zs_); }

  // Compressed message body as sent on the wire (trailing 00 00 ff ff removed).
  std::string Compress(std::string_view message) {
    std::string out;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    zs_.avail_in = static_cast<uInt>(message.size());
    std::array<Bytef, 16384> chunk;
    do {
      zs_.next_out = chunk.data();
      zs_.avail_out = chunk.size();
      EXPECT_NE(deflate(&zs_, Z_SYNC_FLUSH), Z_STREAM_ERROR);
      out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size() - zs_.avail_out);
    } while (zs_.avail_out == 0);
    EXPECT_EQ(out.substr(out.size() - 4), std::string("\x00\x00\xff\xff", 4));
    out.resize(out.size() - 4);
    if (no_context_takeover_) deflateReset(&zs_);
    return out;
  }

 private:
  z_stream zs_{};
  bool no_context_takeover_;
};

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// PCM16-like audio: a slow wave plus noise, so it compresses a little, like real audio.
std::string FakeAudio(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    out[i] = static_cast<char>((i % 2 == 0) ? (i / 8) % 64 + rng() % 8 : rng() % 4);
  }
  return out;
}

std::string AudioAppendEvent(uint32_t seed) {
  return R"({"type":"input_audio_buffer.append","audio":")" + Base64(FakeAudio(6000, seed)) +
         R"("})";
}

std::string AudioDeltaEvent(uint32_t seed) {
  return R"({"type":"response.output_audio.delta","event_id":"event_)" + std::to_string(seed) +
         R"(","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,)"
         R"("delta":")" + Base64(FakeAudio(4800, seed)) + R"("})";
}

// ---- Observer that records everything. ----

struct Recorder : MessageObserver {
  void OnMessage(Message&& message) override { messages.push_back(std::move(message)); }
  void OnTapError(Direction direction, std::string_view reason) override {
    errors.push_back(std::string(DirectionName(direction)) + ": " + std::string(reason));
  }
  std::vector<Message> messages;
  std::vector<std::string> errors;
};

std::string Describe(const Message& m) {
  std::string s = std::string(DirectionName(m.direction)) + " " + std::string(OpcodeName(m.opcode));
  s += " t=" + std::to_string(m.first_frame_us) + ".." + std::to_string(m.last_frame_us);
  s += " wire=" + std::to_string(m.wire_bytes) + " frames=" + std::to_string(m.frame_count);
  s += m.compressed ? " compressed" : "";
  s += m.truncated ? " truncated" : "";
  s += " len=" + std::to_string(m.payload.size());
  s += " hash=" + std::to_string(std::hash<std::string>{}(m.payload));
  if (m.close_code) s += " close=" + std::to_string(*m.close_code) + " '" + m.close_reason + "'";
  return s;
}

std::vector<std::string> DescribeAll(const std::vector<Message>& messages) {
  std::vector<std::string> out;
  for (const Message& m : messages) out.push_back(Describe(m));
  return out;
}

PerMessageDeflate Deflate(int client_bits = 15, int server_bits = 15, bool client_nct = false,
                          bool server_nct = false) {
  return {.enabled = true,
          .server_max_window_bits = server_bits,
          .client_max_window_bits = client_bits,
          .server_no_context_takeover = server_nct,
          .client_no_context_takeover = client_nct};
}

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
  EXPECT_FALSE(rec.messages[0].truncated);
  EXPECT_EQ(tap.messages(), 1u);
  EXPECT_TRUE(rec.errors.empty());
}

TEST(FrameTapTest, EmitsPingInterleavedBetweenFragmentsBeforeTheMessage) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string event = AudioAppendEvent(2);
  const std::string frames = EncodeFragmented(0x1, event, 2, /*mask=*/true);
  const std::string first = EncodeFrame(0x1, event.substr(0, (event.size() + 1) / 2),
                                        {.fin = false, .mask = true});
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
  wire += EncodeFrame(0x1, R"({"type":"session.update","session":{"voice":"alloy"}})",
                      {.mask = true});
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
  wire += EncodeFrame(0x8, "\x03\xe8" "bye", {.mask = true});
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

// ---- permessage-deflate ----

TEST(FrameTapTest, InflatesSeveralMessagesWithContextTakeover) {
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

TEST(FrameTapTest, InflatesWithClientNoContextTakeover) {
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

TEST(FrameTapTest, InflatesWithServerNoContextTakeover) {
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

TEST(FrameTapTest, InflatesWithTenWindowBits) {
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

TEST(FrameTapTest, InflatesCompressedFragmentedMessageWithRsv1OnFirstFrameOnly) {
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

TEST(FrameTapTest, PassesUncompressedMessagesThroughWhenDeflateNegotiated) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(), rec);
  tap.Feed(EncodeFrame(0x1, R"({"type":"response.done"})"), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_FALSE(rec.messages[0].compressed);
  EXPECT_EQ(rec.messages[0].payload, R"({"type":"response.done"})");
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
      {"Rsv1OnContinuation",
       Deflate(),
       EncodeFrame(0x1, "a", {.fin = false}) + EncodeFrame(0x0, "b", {.rsv1 = true}),
       "continuation"},
      {"CloseWithOneByteBody", {}, EncodeFrame(0x8, "\x03"), "1-byte"},
      {"CorruptDeflateData",
       Deflate(),
       EncodeFrame(0x1, std::string("\xff\xff\xff\xff\xff\xff", 6), {.rsv1 = true}),
       "inflate"},
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

// ---- Accounting ----

TEST(FrameTapTest, TimestampsFollowFeedCallsAndCountsWireBytesAndFrames) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string first = EncodeFrame(0x1, "hello ", {.fin = false, .mask = true});
  const std::string pong = EncodeFrame(0xA, "", {.mask = true});
  const std::string second = EncodeFrame(0x0, "world", {.mask = true});
  tap.Feed(first.substr(0, 1), 1000);  // first byte of the first frame
  tap.Feed(first.substr(1), 2000);
  tap.Feed(pong, 3000);
  tap.Feed(second.substr(0, 4), 4000);
  tap.Feed(second.substr(4), 5000);  // completes the last frame
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

TEST(FrameTapTest, TruncatesPayloadAtCapButCountsAllWireBytes) {
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

TEST(FrameTapTest, TruncatesInflatedPayloadAndStaysInSyncWithContextTakeover) {
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

TEST(FrameTapTest, TruncatesInflatedPayloadWithNoContextTakeover) {
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
    EXPECT_EQ(pmd.status().code(), absl::StatusCode::kInvalidArgument) << value;
  }
}

TEST(FrameTapExtensionsTest, IgnoresOtherExtensions) {
  absl::StatusOr<PerMessageDeflate> other =
      ParseNegotiatedExtensions("x-webkit-deflate-frame; max_window_bits=99");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->enabled);
  absl::StatusOr<PerMessageDeflate> both = ParseNegotiatedExtensions(
      "x-custom; a=1, permessage-deflate; server_no_context_takeover");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_TRUE(both->enabled);
  EXPECT_TRUE(both->server_no_context_takeover);
}

}  // namespace
}  // namespace relaytap::proxy::ws
