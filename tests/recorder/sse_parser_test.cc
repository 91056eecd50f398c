#include "recorder/sse_parser.h"

#include <string>

#include "gtest/gtest.h"

namespace relaytap::recorder {
namespace {

// A capture as the relay builds it: `chunks` arrive at times 100, 200, 300, ...
Exchange Captured(const std::vector<std::string>& chunks, int64_t end_us) {
  Exchange ex;
  int64_t t = 0;
  for (const std::string& c : chunks) {
    ex.sse_capture.bytes += c;
    ex.sse_capture.chunk_ends.emplace_back(ex.sse_capture.bytes.size(), t += 100);
  }
  ex.sse_capture.end_us = end_us;
  return ex;
}

std::string Describe(const std::vector<SseEvent>& events) {
  std::string out;
  for (const SseEvent& e : events)
    out += std::to_string(e.at_us) + "|" + e.event + "|" + e.data + ";";
  return out;
}

TEST(SseParserTest, EventsCarryTheArrivalTimeOfTheChunkThatCompletedThem) {
  Exchange ex = Captured({"event: response.created\ndata: {\"a\":1}\n", "\n", ": ping\n\n",
                          "data: x\r\ndata: y\r\n\r\ndata: [DONE]\n\n"},
                         999);
  ParseSseCapture(ex);
  EXPECT_EQ(Describe(ex.sse_events), "200|response.created|{\"a\":1};400||x\ny;400||[DONE];");
  EXPECT_FALSE(ex.sse_events_truncated);
  EXPECT_TRUE(ex.sse_capture.bytes.empty());
  EXPECT_TRUE(ex.sse_capture.chunk_ends.empty());
}

TEST(SseParserTest, ByteByByteChunksGiveTheSameEventsAsOneChunk) {
  const std::string body =
      "event: a\r\ndata: 1\r\n\r\ndata: 2\rdata: 3\r\r:comment\ndata:4\n\nevent: tail\ndata: 5";
  Exchange whole = Captured({body}, 7);
  std::vector<std::string> bytes;
  for (char c : body) bytes.emplace_back(1, c);
  Exchange split = Captured(bytes, 7);
  ParseSseCapture(whole);
  ParseSseCapture(split);
  ASSERT_EQ(whole.sse_events.size(), 4u);
  ASSERT_EQ(split.sse_events.size(), whole.sse_events.size());
  for (size_t i = 0; i < whole.sse_events.size(); ++i) {
    EXPECT_EQ(split.sse_events[i].event, whole.sse_events[i].event);
    EXPECT_EQ(split.sse_events[i].data, whole.sse_events[i].data);
  }
  EXPECT_EQ(whole.sse_events[1].data, "2\n3");
  // The last event had no blank line: the end of the body completes it.
  EXPECT_EQ(whole.sse_events[3].event, "tail");
  EXPECT_EQ(whole.sse_events[3].at_us, 7);
  EXPECT_EQ(split.sse_events[3].at_us, 7);
}

TEST(SseParserTest, ACappedCaptureIsMarkedTruncated) {
  Exchange ex = Captured({"data: 1\n\n"}, 5);
  ex.sse_capture.truncated = true;
  ParseSseCapture(ex);
  EXPECT_EQ(ex.sse_events.size(), 1u);
  EXPECT_TRUE(ex.sse_events_truncated);
}

TEST(SseParserTest, NoCaptureLeavesTheExchangeAlone) {
  Exchange ex;
  ex.sse_events = {{1, "kept", "as is"}};
  ParseSseCapture(ex);
  ASSERT_EQ(ex.sse_events.size(), 1u);
  EXPECT_EQ(ex.sse_events[0].event, "kept");
}

}  // namespace
}  // namespace relaytap::recorder
