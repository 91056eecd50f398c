// Runs of audio events through the real recorder: what closes a run, what the row and the
// timeline say, and that an open run is on disk after each commit.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "recorder/query/store_reader.h"
#include "recorder/recorder.h"
#include "tests/recorder/recorder_test_support.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/wait.h"

namespace relaytap::recorder {
namespace {

using testing::kDown;
using testing::kT0;
using testing::kUp;
using testing::Query;

// Submits the messages of one session (connection 7) with consecutive sequence numbers.
class Session {
 public:
  explicit Session(Sink& sink) : sink_(sink) {}
  void Append(int64_t at_us, char seed = 'a') {
    Send(kUp, at_us,
         R"({"type":"input_audio_buffer.append","event_id":"evt_c)" + std::to_string(seq_ + 1) +
             R"(","audio":")" + testing::Base64(960, seed) + R"("})");
  }
  void Delta(int64_t at_us, const std::string& item = "item_1", char seed = 'b') {
    Send(kDown, at_us,
         R"({"type":"response.output_audio.delta","event_id":"event_)" + std::to_string(seq_ + 1) +
             R"(","response_id":"resp_1","item_id":")" + item +
             R"(","output_index":0,"content_index":0,"delta":")" + testing::Base64(960, seed) +
             R"("})");
  }
  void Other(WsDirection dir, int64_t at_us, const std::string& type) {
    Send(dir, at_us, R"({"type":")" + type + R"(","event_id":"event_o"})");
  }
  void End(int64_t at_us) { ASSERT_TRUE(sink_.TrySubmit(testing::Closed(7, at_us))); }

 private:
  void Send(WsDirection dir, int64_t at_us, std::string payload) {
    ASSERT_TRUE(sink_.TrySubmit(testing::Text(7, ++seq_, dir, at_us, std::move(payload))));
  }
  Sink& sink_;
  uint64_t seq_ = 0;
};

class AudioRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = testing::Options(testing::MakeTempDir("audio_runs"));
    recorder_ = testing::OpenOrDie(options_);
    ASSERT_NE(recorder_, nullptr);
    session_ = std::make_unique<Session>(*recorder_);
  }
  void Finish() { ASSERT_TRUE(recorder_->Close().ok()); }
  std::vector<std::string> Rows(const std::string& sql) { return Query(options_.db_path, sql); }
  // One line per row: seq, direction, type, run_count.
  std::vector<std::string> Events() {
    return Rows(
        "SELECT seq || ' ' || direction || ' ' || type || ' ' || COALESCE(run_count, 1) "
        "FROM events ORDER BY seq");
  }

  RecorderOptions options_;
  std::unique_ptr<Recorder> recorder_;
  std::unique_ptr<Session> session_;
};

TEST_F(AudioRunsTest, InterleavedDirectionsKeepTheirRunsAndAnotherEventClosesThem) {
  session_->Other(kDown, kT0, "session.created");
  for (int i = 0; i < 50; ++i) {
    session_->Append(kT0 + 20'000 * (i + 1));
    session_->Delta(kT0 + 20'000 * (i + 1) + 5'000);
  }
  session_->Other(kDown, kT0 + 1'100'000, "response.done");
  session_->Append(kT0 + 1'120'000);
  session_->Append(kT0 + 1'140'000);
  session_->End(kT0 + 1'200'000);
  Finish();
  EXPECT_EQ(Events(), (std::vector<std::string>{
                          "1 server session.created 1", "2 client input_audio_buffer.append 50",
                          "3 server response.output_audio.delta 50", "102 server response.done 1",
                          "103 client input_audio_buffer.append 2"}));
  // Every message is still counted, and the run row holds the totals and the last id.
  EXPECT_EQ(Rows("SELECT messages_up, messages_down FROM ws_sessions"),
            std::vector<std::string>{"52|52"});
  EXPECT_EQ(Rows("SELECT event_id, run_last_event_id, audio_bytes, run_max_gap_us, "
                 "run_last_us - first_frame_us FROM events WHERE seq = 3"),
            std::vector<std::string>{"event_3|event_101|48000|20000|980000"});
  EXPECT_EQ(
      Rows("SELECT line, count, span_ms FROM v_session_timeline WHERE seq IN (2, 3) ORDER BY seq"),
      (std::vector<std::string>{"50 × input_audio_buffer.append over 1.0 s|50|980.0",
                                "50 × response.output_audio.delta over 1.0 s|50|980.0"}));
}

TEST_F(AudioRunsTest, AChangeOfItemAndALongGapCloseARun) {
  for (int i = 0; i < 3; ++i) session_->Delta(kT0 + 20'000 * i, "item_1");
  for (int i = 0; i < 3; ++i) session_->Delta(kT0 + 100'000 + 20'000 * i, "item_2");
  for (int i = 0; i < 3; ++i) session_->Delta(kT0 + 2'300'000 + 20'000 * i, "item_2");
  session_->End(kT0 + 3'000'000);
  Finish();
  EXPECT_EQ(Rows("SELECT seq, item_id, run_count FROM events ORDER BY seq"),
            (std::vector<std::string>{"1|item_1|3", "4|item_2|3", "7|item_2|3"}));
}

TEST_F(AudioRunsTest, ARunOfOneMessageStaysAPlainRow) {
  session_->Append(kT0);
  session_->Other(kUp, kT0 + 20'000, "input_audio_buffer.commit");
  session_->End(kT0 + 40'000);
  Finish();
  EXPECT_EQ(Rows("SELECT seq, run_count IS NULL, run_detail IS NULL FROM events ORDER BY seq"),
            (std::vector<std::string>{"1|1|1", "2|1|1"}));
}

TEST_F(AudioRunsTest, EqualAudioGivesEqualRunFingerprints) {
  for (int i = 0; i < 3; ++i) session_->Append(kT0 + 20'000 * i, 'q');
  session_->Other(kUp, kT0 + 100'000, "input_audio_buffer.commit");
  for (int i = 0; i < 3; ++i) session_->Append(kT0 + 200'000 + 20'000 * i, 'q');
  session_->Other(kUp, kT0 + 300'000, "input_audio_buffer.commit");
  for (int i = 0; i < 3; ++i) session_->Append(kT0 + 400'000 + 20'000 * i, i == 2 ? 'z' : 'q');
  session_->End(kT0 + 500'000);
  Finish();
  auto fps = Rows("SELECT run_fingerprint FROM events WHERE run_count = 3 ORDER BY seq");
  ASSERT_EQ(fps.size(), 3u);
  EXPECT_TRUE(fps[0].starts_with("siphash:")) << fps[0];
  EXPECT_EQ(fps[0], fps[1]);
  EXPECT_NE(fps[1], fps[2]);
}

// The report's "events before the failure" lists a run as one event with its count.
TEST_F(AudioRunsTest, EventsBeforeAFailureShowARunWithItsCount) {
  session_->Other(kDown, kT0, "session.created");
  for (int i = 0; i < 10; ++i) session_->Delta(kT0 + 20'000 * (i + 1));
  session_->Other(kDown, kT0 + 300'000, "response.done");
  session_->End(kT0 + 400'000);
  Finish();
  auto reader = query::StoreReader::Open(options_.db_path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto marks = (*reader)->EventsBefore(1, kT0 + 300'000, 5);
  ASSERT_TRUE(marks.ok()) << marks.status();
  std::vector<std::string> types;
  for (const query::EventMark& m : *marks) types.push_back(m.type);
  EXPECT_EQ(types, (std::vector<std::string>{"session.created", "10 × response.output_audio.delta",
                                             "response.done"}));
}

// Write, then update: an open run is in the file after the batch that carried it commits, not
// only when it closes (kill -9 loses at most one batch interval).
TEST_F(AudioRunsTest, AnOpenRunIsOnDiskAfterEachCommit) {
  for (int i = 0; i < 20; ++i) session_->Append(kT0 + 20'000 * i);
  ASSERT_TRUE(relaytap::testing::WaitFor(
      [&] { return Rows("SELECT run_count FROM events") == std::vector<std::string>{"20"}; },
      "the open run's row to hold 20 members"));
  for (int i = 20; i < 30; ++i) session_->Append(kT0 + 20'000 * i);
  ASSERT_TRUE(relaytap::testing::WaitFor(
      [&] { return Rows("SELECT run_count FROM events") == std::vector<std::string>{"30"}; },
      "the open run's row to hold 30 members"));
  Finish();
  EXPECT_EQ(Rows("SELECT run_count, length(run_detail) > 0 FROM events"),
            std::vector<std::string>{"30|1"});
}

}  // namespace
}  // namespace relaytap::recorder
