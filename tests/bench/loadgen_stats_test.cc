#include <gtest/gtest.h>
#include <unistd.h>

#include "tools/bench/stats.h"

namespace relaytap::tools::bench {
namespace {

TEST(LatenciesTest, NearestRankPercentiles) {
  Latencies l;
  for (int64_t v = 100; v >= 1; --v) l.Add(v);  // 1..100, added out of order
  EXPECT_EQ(l.Percentile(50), 50);
  EXPECT_EQ(l.Percentile(99), 99);
  EXPECT_EQ(l.Percentile(99.9), 100);
  EXPECT_EQ(l.Percentile(0), 1);
  EXPECT_EQ(l.Max(), 100);
  EXPECT_EQ(l.CountAbove(90), 10u);
}

TEST(LatenciesTest, EmptyIsZeroAndMergeResorts) {
  Latencies a, b;
  EXPECT_EQ(a.Percentile(99), 0);
  EXPECT_EQ(a.Max(), 0);
  a.Add(5);
  EXPECT_EQ(a.Percentile(50), 5);
  b.Add(1);
  b.Add(9);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.Percentile(50), 5);
  a.Add(0);  // after a sort: still correct
  EXPECT_EQ(a.Percentile(25), 0);
}

TEST(AppendMessageTest, FixedSizeAndSeqRoundTrips) {
  const std::string audio = Base64(std::string(kAudioBytes, 'x'));
  EXPECT_EQ(audio.size(), 6400u);
  const std::string a = AppendMessage(1, 0, audio);
  const std::string b = AppendMessage(999999, 123456789, audio);
  EXPECT_EQ(a.size(), b.size());
  EXPECT_GT(a.size(), 6000u);
  EXPECT_LT(a.size(), 8192u);
  EXPECT_EQ(ParseSeq(a), 0u);
  EXPECT_EQ(ParseSeq(b), 123456789u);
  EXPECT_TRUE(a.starts_with(R"({"type":"input_audio_buffer.append","event_id":"evt_000001_)"));
}

TEST(AppendMessageTest, ParseSeqRejectsOtherMessages) {
  EXPECT_EQ(ParseSeq(R"({"type":"session.created"})"), std::nullopt);
  EXPECT_EQ(ParseSeq(R"({"event_id":"evt_000001_12x456789"})"), std::nullopt);
  EXPECT_EQ(ParseSeq(R"({"event_id":"evt_0001_1"})"), std::nullopt);
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

TEST(ProcTest, ParsesStatusAndStat) {
  EXPECT_EQ(ParseStatusRssKib("Name:\tx\nVmPeak:\t  900 kB\nVmRSS:\t    1234 kB\n"), 1234);
  EXPECT_EQ(ParseStatusRssKib("Name:\tx\n"), std::nullopt);
  // Field 2 holds a space and a ')'; utime 250 + stime 50 ticks at 100 Hz = 3 s.
  const std::string stat = "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
  EXPECT_DOUBLE_EQ(ParseStatCpuSeconds(stat, 100).value(), 3.0);
  EXPECT_EQ(ParseStatCpuSeconds("garbage", 100), std::nullopt);
}

TEST(ProcTest, ReadsThisProcess) {
  EXPECT_GT(ReadRssKib(getpid()).value_or(0), 0);
  EXPECT_GE(ReadCpuSeconds(getpid()).value_or(-1), 0.0);
  EXPECT_EQ(ReadRssKib(-5), std::nullopt);
}

}  // namespace
}  // namespace relaytap::tools::bench
