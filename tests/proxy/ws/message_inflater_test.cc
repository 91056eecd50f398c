// MessageInflater on its own (the frame tap's tests cover it inside the tap): masked input fed in
// pieces at odd offsets, the window kept across messages with context takeover, what happens
// when the caller wants no more of a message, and a clear error for input that is not deflate.

#include "proxy/ws/message_inflater.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/ws/unmask.h"
#include "tests/proxy/ws/frame_tap_test_support.h"

namespace relaytap::proxy::ws {
namespace {

using frame_tap_testing::AudioAppendEvent;
using frame_tap_testing::AudioDeltaEvent;
using frame_tap_testing::Deflater;
using ::testing::HasSubstr;

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Collects the output; wants at most `want` bytes of each message (then says so). Called through
// a const reference (absl::FunctionRef), hence the mutable record.
struct Collector {
  size_t want = SIZE_MAX;
  mutable std::string out;
  mutable int calls_after_refusal = 0;
  mutable bool refused = false;
  bool operator()(const uint8_t* p, size_t n) const {
    if (refused) ++calls_after_refusal;
    out.append(reinterpret_cast<const char*>(p), n);
    refused = refused || out.size() >= want;
    return !refused;
  }
};

std::unique_ptr<MessageInflater> Make(bool no_context_takeover) {
  absl::StatusOr<std::unique_ptr<MessageInflater>> made =
      MessageInflater::Create(no_context_takeover);
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? std::move(*made) : nullptr;
}

// One unmasked message fed whole; its output.
std::string InflateWhole(MessageInflater& inflater, const std::string& wire) {
  Collector c;
  inflater.StartMessage();
  EXPECT_TRUE(inflater.Feed(Bytes(wire), wire.size(), nullptr, 0, c).ok());
  EXPECT_TRUE(inflater.FinishMessage(c).ok());
  return c.out;
}

TEST(MessageInflaterTest, InflatesMaskedInputFedInPiecesAtOddOffsets) {
  auto inflater = Make(false);
  ASSERT_NE(inflater, nullptr);
  Deflater deflater(15, false);
  const std::string event = AudioAppendEvent(3);
  const std::array<uint8_t, 4> key = {0x37, 0xfa, 0x21, 0x3d};
  std::string wire = deflater.Compress(event);
  Unmask(reinterpret_cast<uint8_t*>(wire.data()), wire.size(), key,
         0);  // masking is its own inverse
  const std::string sent = wire;

  Collector c;
  inflater->StartMessage();
  const size_t cuts[] = {0, 1, 7, 4099, wire.size()};
  for (size_t i = 0; i + 1 < std::size(cuts); ++i) {
    ASSERT_TRUE(
        inflater->Feed(Bytes(wire) + cuts[i], cuts[i + 1] - cuts[i], &key, cuts[i], c).ok());
  }
  ASSERT_TRUE(inflater->FinishMessage(c).ok());
  EXPECT_EQ(c.out, event);
  EXPECT_EQ(wire, sent) << "the input is unmasked into a copy, never in place";
}

TEST(MessageInflaterTest, ContextTakeoverKeepsTheWindowForTheNextMessage) {
  auto inflater = Make(false);
  ASSERT_NE(inflater, nullptr);
  Deflater deflater(15, false);
  const std::string first = AudioDeltaEvent(1);
  const std::string second = AudioDeltaEvent(1);  // the same text: the second refers back
  const std::string a = deflater.Compress(first);
  const std::string b = deflater.Compress(second);
  ASSERT_LT(b.size(), a.size() / 4) << "the second message should lean on the first's window";

  EXPECT_EQ(InflateWhole(*inflater, a), first);
  EXPECT_EQ(InflateWhole(*inflater, b), second);
}

TEST(MessageInflaterTest, ACallerThatWantsNoMoreStopsInflatingOnlyWithoutContextTakeover) {
  const std::string first = AudioDeltaEvent(2);
  for (const bool no_context_takeover : {true, false}) {
    SCOPED_TRACE(no_context_takeover ? "no context takeover" : "context takeover");
    auto inflater = Make(no_context_takeover);
    ASSERT_NE(inflater, nullptr);
    Deflater deflater(15, no_context_takeover);
    const std::string a = deflater.Compress(first);
    const std::string b = deflater.Compress(first);

    Collector cut{.want = 100};
    inflater->StartMessage();
    ASSERT_TRUE(inflater->Feed(Bytes(a), a.size() / 2, nullptr, 0, cut).ok());
    ASSERT_TRUE(
        inflater->Feed(Bytes(a) + a.size() / 2, a.size() - a.size() / 2, nullptr, 0, cut).ok());
    ASSERT_TRUE(inflater->FinishMessage(cut).ok());
    if (no_context_takeover) {
      EXPECT_EQ(cut.calls_after_refusal, 0) << "nothing depends on the rest: it is not inflated";
    } else {
      EXPECT_GT(cut.calls_after_refusal, 0) << "the window must follow the sender";
      EXPECT_EQ(cut.out, first);
    }
    // Either way the next message inflates whole.
    EXPECT_EQ(InflateWhole(*inflater, b), first);
  }
}

TEST(MessageInflaterTest, InputThatIsNotDeflateIsAClearError) {
  auto inflater = Make(true);
  ASSERT_NE(inflater, nullptr);
  const std::string garbage(64, '\xff');  // block type 3: reserved, invalid
  Collector c;
  inflater->StartMessage();
  const absl::Status s = inflater->Feed(Bytes(garbage), garbage.size(), nullptr, 0, c);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("inflate failed: "));
}

}  // namespace
}  // namespace relaytap::proxy::ws
