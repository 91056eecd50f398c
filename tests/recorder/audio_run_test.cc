#include "recorder/audio_run.h"

#include "gtest/gtest.h"

namespace relaytap::recorder {
namespace {

using query::DecodeRunDetail;

RunMessage Msg(uint64_t seq, int64_t us, int64_t payload, int64_t audio) {
  RunMessage m;
  m.member = RunMember{seq, us, payload + 6, payload, audio};
  m.event_id = "event_x";
  m.last_frame_us = us + 5;
  m.frames = 1;
  m.audio_ms = static_cast<double>(audio) / 48.0;
  return m;
}

TEST(AudioRunTest, KindsAreTheAudioEventTypesEachOnItsOwn) {
  EXPECT_EQ(AudioKindOf("input_audio_buffer.append"), AudioKind::kInputAppend);
  EXPECT_EQ(AudioKindOf("response.output_audio.delta"), AudioKind::kOutputAudio);
  EXPECT_EQ(AudioKindOf("response.output_audio_transcript.delta"), AudioKind::kOutputTranscript);
  EXPECT_EQ(AudioKindOf("response.audio.delta"), AudioKind::kPreviewAudio);
  EXPECT_EQ(AudioKindOf("response.audio_transcript.delta"), AudioKind::kPreviewTranscript);
  EXPECT_EQ(AudioKindOf("response.output_text.delta"), AudioKind::kNone);
  EXPECT_EQ(AudioKindOf("input_audio_buffer.commit"), AudioKind::kNone);
}

TEST(AudioRunTest, DetailRoundTripsEveryMemberAndSteadyCadenceIsSmall) {
  AudioRun run;
  StartRun(run, 42, Msg(10, 1'000'000, 8'300, 6'144), "resp_1", "item_1", "fp0");
  std::vector<RunMember> want = {run.first};
  for (uint64_t i = 1; i < 200; ++i) {
    // Two directions interleave: every other seq; sizes and times vary a little at times.
    RunMessage m = Msg(10 + 2 * i, 1'000'000 + static_cast<int64_t>(i) * 20'000 + (i % 7 == 0),
                       8'300 + (i % 50 == 0 ? -4 : 0), 6'144 - (i % 50 == 0 ? 3 : 0));
    ASSERT_TRUE(run.Continues("resp_1", "item_1", m.member.first_us));
    AddToRun(run, m, "fp");
    want.push_back(m.member);
  }
  auto got = DecodeRunDetail(run.detail, 10, 1'000'000);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);
  EXPECT_EQ(run.count, 200u);
  EXPECT_EQ(run.payload_bytes, 200 * 8'300 - 3 * 4);  // members 50, 100 and 150
  EXPECT_EQ(run.max_gap_us, 20'001);
  EXPECT_EQ(run.last.seq, 10u + 2 * 199);
  EXPECT_LT(run.detail.size(), 200u * 2);  // one byte a steady member, a few for a change
}

TEST(AudioRunTest, MalformedDetailIsDataLoss) {
  EXPECT_FALSE(DecodeRunDetail("", 1, 1).ok());
  EXPECT_FALSE(DecodeRunDetail("\x02", 1, 1).ok());                          // unknown format
  EXPECT_FALSE(DecodeRunDetail(std::string("\x01\x80", 2), 1, 1).ok());      // varint cut
  EXPECT_FALSE(DecodeRunDetail(std::string("\x01\x00", 2), 1, 1).ok());      // seq step missing
  EXPECT_FALSE(DecodeRunDetail(std::string("\x01\x05", 2), 1, 1).ok());      // sizes byte missing
  EXPECT_FALSE(DecodeRunDetail(std::string("\x01\x05\x01", 3), 1, 1).ok());  // size missing
}

TEST(AudioRunTest, JitteredArrivalsCostTwoBytesAMember) {
  std::string blob;
  RunMember prev{1, 0, 0, 0, 0};
  int64_t prev_dt = 0;
  std::vector<RunMember> want;
  for (int i = 0; i < 100; ++i) {
    const int64_t jitter = (i * 7919) % 801 - 400;  // +-400 us
    RunMember m{prev.seq + 1 + static_cast<uint64_t>(i % 3), 20'000 * (i + 1) + jitter, 1'290,
                1'284, 960};
    EncodeRunMember(blob, prev, prev_dt, m);
    want.push_back(m);
    prev = m;
  }
  auto got = DecodeRunDetail(blob, 1, 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);
  EXPECT_LE(blob.size(), 1u + 5 + 99 * 2);  // the first member carries the sizes
}

TEST(AudioRunTest, IdChangeGapAndSizeCapEndARun) {
  AudioRun run;
  EXPECT_FALSE(run.Continues("", "", 0));  // nothing open
  StartRun(run, 1, Msg(1, 0, 100, 0), "resp_1", "item_1", "fp");
  EXPECT_TRUE(run.Continues("resp_1", "item_1", kMaxRunGapUs));
  EXPECT_FALSE(run.Continues("resp_2", "item_1", 20'000));
  EXPECT_FALSE(run.Continues("resp_1", "item_2", 20'000));
  EXPECT_FALSE(run.Continues("resp_1", "item_1", kMaxRunGapUs + 1));
  for (uint64_t i = 1; i < kMaxRunMembers; ++i) AddToRun(run, Msg(1 + i, 0, 100, 0), "fp");
  EXPECT_FALSE(run.Continues("resp_1", "item_1", 0));
}

TEST(AudioRunTest, ContentFingerprintsAreTheFingerprintsInOrder) {
  EXPECT_EQ(ContentFingerprints(R"({"type":"x","delta":{"redacted":"audio","bytes":4,)"
                                R"("fp":"hmac:0123456789ab"},"o":"hmac:ffffffffffff"})"),
            "hmac:0123456789abhmac:ffffffffffff");
  EXPECT_EQ(
      ContentFingerprints(R"({"o":"hmac:ffffffffffff","delta":{"redacted":"audio",)"
                          R"("bytes":4,"fp":"siphash:0123456789ab"},"p":"hmac:000000000000"})"),
      "hmac:ffffffffffffsiphash:0123456789abhmac:000000000000");
  EXPECT_EQ(ContentFingerprints(R"({"type":"x"})"), "");
}

}  // namespace
}  // namespace relaytap::recorder
