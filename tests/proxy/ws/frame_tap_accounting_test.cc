// FrameTap's accounting: timestamps follow the feed calls, wire bytes and frames are counted,
// and payloads are truncated at the cap (also after inflating) while the tap stays in sync.
// Limits (#14 item 4): a message past the cap, past the expansion ratio or past the process-wide
// reassembly budget keeps only its prefix and its full size, and gives its memory back.
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "base/string_recycler.h"
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
  FrameTap tap(Direction::kClientToServer, {}, rec, {.observed_payload_cap = 1000});
  const std::string payload = FakeAudio(5000, 12);
  const std::string wire = EncodeFragmented(0x2, payload, 3, /*mask=*/true);
  tap.Feed(wire, 1);
  tap.Feed(EncodeFrame(0x1, "small", {.mask = true}), 2);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_TRUE(rec.messages[0].truncated());
  EXPECT_EQ(rec.messages[0].payload, payload.substr(0, 1000));
  EXPECT_EQ(rec.messages[0].wire_bytes, wire.size());
  EXPECT_EQ(rec.messages[0].frame_count, 3u);
  EXPECT_FALSE(rec.messages[1].truncated());
  EXPECT_EQ(rec.messages[1].payload, "small");
}

TEST(FrameTapAccountingTest, TruncatesInflatedPayloadAndStaysInSyncWithContextTakeover) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(), rec, {.observed_payload_cap = 1000});
  Deflater deflater(15, false);
  const std::string big = AudioDeltaEvent(13);
  tap.Feed(EncodeFrame(0x1, deflater.Compress(big), {.rsv1 = true}), 1);
  tap.Feed(EncodeFrame(0x1, deflater.Compress("{\"type\":\"response.done\"}"), {.rsv1 = true}), 2);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_TRUE(rec.messages[0].truncated());
  EXPECT_EQ(rec.messages[0].payload, big.substr(0, 1000));
  EXPECT_FALSE(rec.messages[1].truncated());
  EXPECT_EQ(rec.messages[1].payload, "{\"type\":\"response.done\"}");
}

TEST(FrameTapAccountingTest, TruncatesInflatedPayloadWithNoContextTakeover) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, Deflate(15, 15, true), rec,
               {.observed_payload_cap = 1000});
  Deflater deflater(15, true);
  const std::string big = AudioAppendEvent(14);
  tap.Feed(EncodeFrame(0x1, deflater.Compress(big), {.rsv1 = true, .mask = true}), 1);
  tap.Feed(EncodeFrame(0x1, deflater.Compress("{}"), {.rsv1 = true, .mask = true}), 2);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_TRUE(rec.messages[0].truncated());
  EXPECT_EQ(rec.messages[0].payload, big.substr(0, 1000));
  EXPECT_EQ(rec.messages[1].payload, "{}");
}

// ---- Limits ----

// 29 KB of deflate that inflates to 30 MB once took the proxy past 1.2 GB. Ten million values
// is what it was; two million show the same ratio.
std::string EmptyArrays(size_t count) {
  std::string s = R"({"type":"conversation.item.create","content":[)";
  for (size_t i = 0; i + 1 < count; ++i) s += "[],";
  return s + "[]]}";
}

TEST(FrameTapLimitsTest, DecompressionBombKeepsItsPrefixAndSizeAndTheTapStaysInSync) {
  for (const bool no_context_takeover : {false, true}) {
    SCOPED_TRACE(no_context_takeover ? "no context takeover" : "context takeover");
    Recorder rec;
    ReassemblyBudget budget(64u << 20);
    FrameTap tap(Direction::kClientToServer, Deflate(15, 15, no_context_takeover), rec,
                 {.budget = &budget});
    Deflater deflater(15, no_context_takeover);
    const std::string bomb = EmptyArrays(2'000'000);
    const std::string wire =
        EncodeFrame(0x1, deflater.Compress(bomb), {.rsv1 = true, .mask = true});
    ASSERT_LT(wire.size() * 500, bomb.size());
    tap.Feed(wire, 1);
    tap.Feed(EncodeFrame(0x1, deflater.Compress(R"({"type":"response.create"})"),
                         {.rsv1 = true, .mask = true}),
             2);
    ASSERT_THAT(rec.messages, SizeIs(2));
    const Message& m = rec.messages[0];
    EXPECT_EQ(m.truncation, Truncation::kExpansionRatio);
    EXPECT_EQ(m.payload, bomb.substr(0, TapLimits{}.kept_prefix));
    EXPECT_EQ(m.wire_bytes, wire.size());
    if (no_context_takeover) {
      // Inflating stopped at the limit: the size is what was inflated by then.
      EXPECT_GT(m.payload_bytes, TapLimits{}.expansion_floor);
      EXPECT_LE(m.payload_bytes, bomb.size());
    } else {
      EXPECT_EQ(m.payload_bytes, bomb.size());
    }
    EXPECT_FALSE(rec.messages[1].truncated());
    EXPECT_EQ(rec.messages[1].payload, R"({"type":"response.create"})");
    EXPECT_EQ(budget.held(), 0u);
  }
}

TEST(FrameTapLimitsTest, CompressibleTextUnderTheRatioIsKept) {
  Recorder rec;
  FrameTap tap(Direction::kServerToClient, Deflate(), rec);
  Deflater deflater(15, false);
  // Two megabytes of repetitive JSON text: it compresses well, but nowhere near 100 times.
  std::string text = R"({"type":"response.done","output":[)";
  for (int i = 0; i < 20'000; ++i) {
    text += R"({"id":"item_)" + std::to_string(i * 7919 % 100'003) + R"(","status":"completed"},)";
  }
  text += "{}]}";
  tap.Feed(EncodeFrame(0x1, deflater.Compress(text), {.rsv1 = true}), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_FALSE(rec.messages[0].truncated());
  EXPECT_EQ(rec.messages[0].payload, text);
  EXPECT_EQ(rec.messages[0].payload_bytes, text.size());
}

TEST(FrameTapLimitsTest, OverTheCapKeepsThePrefixAndTheFullSize) {
  Recorder rec;
  ReassemblyBudget budget(64u << 20);
  FrameTap tap(Direction::kClientToServer, {}, rec,
               {.observed_payload_cap = 1u << 20, .kept_prefix = 4096, .budget = &budget});
  const std::string payload = FakeAudio(3u << 20, 7);
  tap.Feed(EncodeFragmented(0x2, payload, 5, /*mask=*/true), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].truncation, Truncation::kObservationCap);
  EXPECT_EQ(rec.messages[0].payload, payload.substr(0, 4096));
  EXPECT_EQ(rec.messages[0].payload_bytes, payload.size());
  EXPECT_EQ(budget.held(), 0u);
}

// The budget is shared: while one tap holds a large message being reassembled, another's large
// message is not kept; small ones still are, and the budget is whole again afterwards.
TEST(FrameTapLimitsTest, ReassemblyBudgetIsSharedAcrossTapsAndGivenBack) {
  Recorder a_rec, b_rec;
  ReassemblyBudget budget(600u << 10);
  FrameTap a(Direction::kClientToServer, {}, a_rec, {.budget = &budget});
  FrameTap b(Direction::kClientToServer, {}, b_rec, {.budget = &budget});
  const std::string big = FakeAudio(400u << 10, 3);
  const std::string a_wire = EncodeFrame(0x2, big, {.mask = true});
  a.Feed(std::string_view(a_wire).substr(0, a_wire.size() - 10), 1);  // a's message in progress
  EXPECT_GE(budget.held(), big.size() - 10);

  b.Feed(EncodeFrame(0x2, big, {.mask = true}), 2);
  b.Feed(EncodeFrame(0x1, "small", {.mask = true}), 3);
  ASSERT_THAT(b_rec.messages, SizeIs(2));
  EXPECT_EQ(b_rec.messages[0].truncation, Truncation::kReassemblyBudget);
  EXPECT_EQ(b_rec.messages[0].payload_bytes, big.size());
  EXPECT_LE(b_rec.messages[0].payload.size(), TapLimits{}.kept_prefix);
  EXPECT_FALSE(b_rec.messages[1].truncated());
  EXPECT_EQ(b_rec.messages[1].payload, "small");

  a.Feed(std::string_view(a_wire).substr(a_wire.size() - 10), 4);
  ASSERT_THAT(a_rec.messages, SizeIs(1));
  EXPECT_FALSE(a_rec.messages[0].truncated());
  EXPECT_EQ(a_rec.messages[0].payload, big);
  EXPECT_EQ(budget.held(), 0u);

  b.Feed(EncodeFrame(0x2, big, {.mask = true}), 5);  // the budget is back: kept whole
  ASSERT_THAT(b_rec.messages, SizeIs(3));
  EXPECT_FALSE(b_rec.messages[2].truncated());
  EXPECT_EQ(budget.held(), 0u);
}

// A declared length is not memory: a frame that announces a gigabyte and sends a little takes
// from the budget only what it sends (plus a step), and a dropped tap gives it back.
TEST(FrameTapLimitsTest, DeclaredLengthIsNotReservedAndADroppedTapGivesItsShareBack) {
  ReassemblyBudget budget(64u << 20);
  {
    Recorder rec;
    FrameTap tap(Direction::kClientToServer, {}, rec, {.budget = &budget});
    std::string header = {'\x82', '\x7f', 0, 0, 0, 0, 0x40, 0, 0, 0};  // binary, 1 GiB, unmasked
    tap.Feed(header + std::string(1000, 'x'), 1);
    EXPECT_LE(budget.held(), (1u << 20) + 1000);
    EXPECT_GT(budget.held(), 0u);
  }
  EXPECT_EQ(budget.held(), 0u);
}

TEST(ReassemblyBudgetTest, TakesOnlyWhatFits) {
  ReassemblyBudget budget(100);
  EXPECT_TRUE(budget.TryTake(60));
  EXPECT_FALSE(budget.TryTake(41));
  EXPECT_TRUE(budget.TryTake(40));
  EXPECT_FALSE(budget.TryTake(1));
  budget.Give(100);
  EXPECT_FALSE(budget.TryTake(101));
  EXPECT_TRUE(budget.TryTake(100));
  EXPECT_EQ(budget.held(), 100u);
}

// ---- Payload buffers ----

TEST(FrameTapBuffersTest, AMessageIsReassembledIntoABufferTheConsumerGaveBack) {
  Recorder rec;
  FrameTap tap(Direction::kClientToServer, {}, rec);
  const std::string event = AudioAppendEvent(3);
  ASSERT_GT(event.size(), StringRecycler::kMinCapacity);

  // Nothing given back: the first message allocates its own buffer.
  const uint64_t served_before = StringRecycler::ServedOnThisThread();
  tap.Feed(EncodeFrame(0x1, event, {.mask = true}), 1);
  ASSERT_THAT(rec.messages, SizeIs(1));
  EXPECT_EQ(rec.messages[0].payload, event);
  EXPECT_EQ(StringRecycler::ServedOnThisThread(), served_before);

  // The consumer (the recorder's writer) gives that payload back: the next message of about the
  // same size is unmasked into the same buffer, and reads the same.
  std::vector<std::string> spent;
  spent.push_back(std::move(rec.messages[0].payload));
  const char* buffer = spent.back().data();
  StringRecycler::Process().GiveAll(spent);
  // A little longer than the first: its buffer was rounded up to the recycler's size class.
  const std::string next = AudioAppendEvent(4) + std::string(100, ' ');
  ASSERT_GT(next.size(), event.size());
  ASSERT_LE(next.size(), StringRecycler::SizeClass(event.size()));
  tap.Feed(EncodeFragmented(0x1, next, 3, /*mask=*/true), 2);
  ASSERT_THAT(rec.messages, SizeIs(2));
  EXPECT_EQ(rec.messages[1].payload, next);
  EXPECT_EQ(rec.messages[1].payload.data(), buffer);
  EXPECT_EQ(StringRecycler::ServedOnThisThread(), served_before + 1);
  EXPECT_TRUE(rec.errors.empty());
}

}  // namespace
}  // namespace relaytap::proxy::ws::frame_tap_testing
