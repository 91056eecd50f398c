#include "proxy/ws/boundary_tracker.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "proxy/ws/message_gate.h"

namespace relaytap::proxy::ws {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// One frame; `mask` set: masked with a fixed key (as a client sends).
std::string Frame(bool fin, uint8_t opcode, std::string_view payload, bool mask = false,
                  bool rsv1 = false) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode));
  const uint8_t m = mask ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(m | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>(n >> s));
  }
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  if (mask) f.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    f.push_back(mask ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
  }
  return f;
}

// Offsets (bytes consumed so far) at which the tracker reported a boundary, fed in `step` pieces.
std::vector<size_t> Boundaries(const std::string& stream, size_t step) {
  BoundaryTracker t;
  std::vector<size_t> at;
  size_t pos = 0;
  while (pos < stream.size()) {
    std::string_view piece = std::string_view(stream).substr(pos, step);
    size_t used = 0;
    // Bounded: a tracker that stopped consuming fails the test instead of hanging it.
    for (size_t round = 0; used < piece.size(); ++round) {
      if (round > 2 * piece.size()) {
        ADD_FAILURE() << "the tracker consumes nothing at offset " << pos + used;
        return at;
      }
      used += t.ConsumeToBoundary(Bytes(piece.substr(used)));
      if (t.at_boundary()) at.push_back(pos + used);
    }
    pos += piece.size();
  }
  EXPECT_FALSE(t.failed());
  return at;
}

TEST(BoundaryTrackerTest, FragmentedMessageWithInterleavedPingHasOneBoundaryAtItsEnd) {
  const std::string a = Frame(true, 0x1, "hello");
  const std::string f1 = Frame(false, 0x1, "par");
  const std::string ping = Frame(true, 0x9, "p");
  const std::string f2 = Frame(true, 0x0, "tial");
  const std::string pong = Frame(true, 0xA, "");
  const std::string stream = a + f1 + ping + f2 + pong;
  const std::vector<size_t> want = {a.size(), stream.size() - pong.size(), stream.size()};
  for (size_t step = 1; step <= stream.size(); ++step) {
    EXPECT_EQ(Boundaries(stream, step), want) << "step " << step;
  }
}

TEST(BoundaryTrackerTest, SixteenAndSixtyFourBitLengthsByteByByte) {
  const std::string mid = Frame(true, 0x2, std::string(300, 'x'), /*mask=*/true);
  const std::string big = Frame(true, 0x1, std::string(70'000, 'y'));
  ASSERT_EQ(static_cast<uint8_t>(mid[1]) & 0x7f, 126);
  ASSERT_EQ(static_cast<uint8_t>(big[1]) & 0x7f, 127);
  const std::string stream = mid + big + Frame(true, 0x1, "");
  const std::vector<size_t> want = {mid.size(), mid.size() + big.size(), stream.size()};
  EXPECT_EQ(Boundaries(stream, 1), want);
  EXPECT_EQ(Boundaries(stream, 7), want);
  EXPECT_EQ(Boundaries(stream, stream.size()), want);
}

TEST(BoundaryTrackerTest, NotAtABoundaryInsideAFrameOrBetweenFragments) {
  BoundaryTracker t;
  EXPECT_TRUE(t.at_boundary());
  const std::string f = Frame(true, 0x1, "abcdef");
  t.Consume(Bytes(std::string_view(f).substr(0, 3)));
  EXPECT_FALSE(t.at_boundary());
  t.Consume(Bytes(std::string_view(f).substr(3)));
  EXPECT_TRUE(t.at_boundary());
  t.Consume(Bytes(Frame(false, 0x2, "ab")));
  EXPECT_FALSE(t.at_boundary());
  t.Consume(Bytes(Frame(true, 0x9, "")));  // a ping between fragments is no boundary
  EXPECT_FALSE(t.at_boundary());
  t.Consume(Bytes(Frame(true, 0x0, "cd")));
  EXPECT_TRUE(t.at_boundary());
  EXPECT_EQ(t.messages(), 2u);
}

TEST(BoundaryTrackerTest, UnknownOpcodeOrBadControlFrameStopsTrackingForGood) {
  BoundaryTracker t;
  t.Consume(Bytes(Frame(true, 0x3, "x")));
  EXPECT_TRUE(t.failed());
  EXPECT_FALSE(t.at_boundary());
  BoundaryTracker u;
  u.Consume(Bytes(Frame(false, 0x9, "x")));  // fragmented control frame
  EXPECT_TRUE(u.failed());
  u.Consume(Bytes(Frame(true, 0x1, "x")));
  EXPECT_FALSE(u.at_boundary());
}

std::string Concat(const std::vector<GateSegment>& segs) {
  std::string all;
  for (const GateSegment& s : segs) all += s.bytes;
  return all;
}

TEST(MessageGateTest, OnlyWholeUnfragmentedTextFramesAreCandidatesAndBytesAreUnchanged) {
  const std::string create = Frame(true, 0x1, R"({"type":"response.create"})", true);
  const std::string bin = Frame(true, 0x2, "bin", true);
  const std::string frag1 = Frame(false, 0x1, R"({"type":"resp)", true);
  const std::string ping = Frame(true, 0x9, "", true);
  const std::string frag2 = Frame(true, 0x0, R"(onse.create"})", true);
  const std::string big = Frame(true, 0x1, std::string(70'000, ' '), true);
  const std::string stream = create + bin + frag1 + ping + frag2 + create + big;
  for (size_t step : {size_t{1}, size_t{5}, size_t{4096}, stream.size()}) {
    MessageGate gate(/*max_candidate_bytes=*/1024);
    std::vector<GateSegment> segs;
    for (size_t pos = 0; pos < stream.size(); pos += step) {
      gate.Feed(Bytes(std::string_view(stream).substr(pos, step)), &segs);
    }
    EXPECT_EQ(Concat(segs), stream) << "step " << step;
    std::vector<std::string> candidates;
    for (const GateSegment& s : segs) {
      if (s.candidate) candidates.push_back(s.bytes);
    }
    ASSERT_EQ(candidates.size(), 2u) << "step " << step;
    EXPECT_EQ(candidates[0], create);
    EXPECT_EQ(candidates[1], create);
  }
}

TEST(MessageGateTest, CandidatePayloadUnmasksAndInflatesAStandaloneMessage) {
  const std::string text = R"({"type":"response.create","event_id":"e1"})";
  MessageGate gate;
  std::vector<GateSegment> segs;
  gate.Feed(Bytes(Frame(true, 0x1, text, true)), &segs);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(*CandidatePayload(segs[0], 1 << 20), text);

  // Raw deflate with a sync flush, minus its 00 00 ff ff tail (RFC 7692).
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(256, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  ASSERT_EQ(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - zs.avail_out - 4);
  deflateEnd(&zs);
  std::vector<GateSegment> zsegs;
  MessageGate zgate;
  zgate.Feed(Bytes(Frame(true, 0x1, out, true, /*rsv1=*/true)), &zsegs);
  ASSERT_EQ(zsegs.size(), 1u);
  ASSERT_TRUE(zsegs[0].header.rsv1);
  EXPECT_EQ(*CandidatePayload(zsegs[0], 1 << 20), text);
  EXPECT_FALSE(CandidatePayload(zsegs[0], 10).ok());
}

}  // namespace
}  // namespace relaytap::proxy::ws
