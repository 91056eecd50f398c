// Rotation of the store (#15): the names, the set, the schedule, and rolling through the real
// recorder, by size and by time: every file a complete store with its own run, at most `keep`
// files, the oldest deleted only once the new one is open, sessions that go on across a roll.
#include "recorder/rotation.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/str_cat.h"
#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/wait.h"

namespace relaytap::recorder {
namespace {

namespace fs = std::filesystem;
using relaytap::testing::WaitFor;
using testing::Query;
using testing::Text;
using testing::TextDeltaEvent;
constexpr int64_t kRotationT0 = 1'796'378'400'000'000;  // 2026-12-04T10:00:00Z

TEST(RotationTest, ParsesHourlyOrASize) {
  EXPECT_EQ(ParseRotation("hourly")->every, Rotation::Every::kHour);
  absl::StatusOr<Rotation> size = ParseRotation("512MiB");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size->every, Rotation::Every::kSize);
  EXPECT_EQ(size->bytes, uint64_t{512} << 20);
  for (const char* bad : {"daily", "0", "", "-1GiB"}) EXPECT_FALSE(ParseRotation(bad).ok()) << bad;
}

TEST(RotationTest, RollsAtTheNextPeriodBoundary) {
  const int64_t hour = int64_t{3600} * 1'000'000;
  EXPECT_EQ(NextRollUs(kRotationT0, hour), kRotationT0 + hour);
  EXPECT_EQ(NextRollUs(kRotationT0 + 1, hour), kRotationT0 + hour);
  EXPECT_EQ(NextRollUs(kRotationT0 + hour - 1, hour), kRotationT0 + hour);
}

TEST(RotationTest, NamesFilesByTheirStartAndListsTheSetInOrder) {
  const std::string dir = testing::MakeTempDir("rotation_names");
  const std::string first = dir + "/relaytap.db";
  EXPECT_EQ(RotatedPath(first, kRotationT0 + 59'000'000), dir + "/relaytap-20261204T1000Z.db");
  std::ofstream(dir + "/relaytap-20261204T1000Z.db") << "x";
  EXPECT_EQ(RotatedPath(first, kRotationT0), dir + "/relaytap-20261204T1000Z-2.db");
  // After the last of the minute, also when earlier ones were deleted: names keep their order.
  std::ofstream(dir + "/relaytap-20261204T1000Z-3.db") << "x";
  EXPECT_EQ(RotatedPath(first, kRotationT0), dir + "/relaytap-20261204T1000Z-4.db");
  std::filesystem::remove(dir + "/relaytap-20261204T1000Z-3.db");
  for (const char* name :
       {"relaytap.db", "relaytap-20261204T1000Z-2.db", "relaytap-20261204T1000Z-10.db",
        "relaytap-20261204T0900Z.db", "relaytap-20261204T1100Z.db", "relaytap-notastamp.db",
        "other.db", "relaytap-20261204T1000Z.db-wal"}) {
    std::ofstream(dir + "/" + name) << "x";
  }
  std::vector<std::string> want;
  for (const char* name : {"relaytap.db", "relaytap-20261204T0900Z.db",
                           "relaytap-20261204T1000Z.db", "relaytap-20261204T1000Z-2.db",
                           "relaytap-20261204T1000Z-10.db", "relaytap-20261204T1100Z.db"}) {
    want.push_back(dir + "/" + name);
  }
  EXPECT_EQ(RotatedSet(first), want);

  // Keeps the newest three; never the one being written, even when it is old.
  const std::vector<std::string> deleted = PruneRotatedSet(first, want[1], 3);
  EXPECT_EQ(deleted, (std::vector<std::string>{want[0], want[2]}));
  EXPECT_FALSE(fs::exists(want[2] + "-wal"));
  EXPECT_EQ(RotatedSet(first), (std::vector<std::string>{want[1], want[3], want[4], want[5]}));
}

class RotationRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("rotation_recorder");
    options_.db_path = dir_ + "/relaytap.db";
    options_.key_dir = dir_ + "/ca";
    options_.relaytap_version = "test";
    options_.batch_interval = absl::Milliseconds(10);
  }

  // Waves of events on one session until the set has rolled `rolls` times.
  void RecordUntilRolled(Recorder& rec, int rolls, std::vector<std::string>* names) {
    uint64_t seq = 0;
    for (int wave = 0; wave < 400 && names->size() < static_cast<size_t>(rolls); ++wave) {
      for (int i = 0; i < 20; ++i) {
        ++seq;
        ASSERT_TRUE(rec.TrySubmit(Text(1, seq, WsDirection::kServerToClient,
                                       kRotationT0 + static_cast<int64_t>(seq) * 1000,
                                       TextDeltaEvent(static_cast<int>(seq)))));
      }
      ASSERT_TRUE(WaitFor([&] { return rec.stats().written == extra_ + seq; }, "the wave written",
                          kWaveLimit));
      for (const std::string& f : RotatedSet(options_.db_path)) {
        if (f != options_.db_path && std::find(names->begin(), names->end(), f) == names->end()) {
          names->push_back(f);
        }
      }
    }
    submitted_ = seq;
  }

  static constexpr std::chrono::milliseconds kWaveLimit{20'000};
  std::string dir_;
  RecorderOptions options_;
  uint64_t submitted_ = 0;
  uint64_t extra_ = 0;  // observations submitted before RecordUntilRolled
};

TEST_F(RotationRecorderTest, BySizeKeepsCompleteStoresAndDeletesTheOldest) {
  options_.rotation = *ParseRotation("192KiB");
  options_.rotation.keep = 3;
  auto opened = Recorder::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Recorder& rec = **opened;
  ASSERT_TRUE(rec.TrySubmit(Text(1, 0, WsDirection::kServerToClient, kRotationT0,
                                 R"({"type":"session.created","session":{"id":"sess_1",)"
                                 R"("model":"gpt-realtime"}})")));
  extra_ = 1;
  ::testing::internal::CaptureStderr();
  std::vector<std::string> rolled;
  RecordUntilRolled(rec, 4, &rolled);
  ASSERT_TRUE(rec.Close().ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_GE(rolled.size(), 4u);

  const std::vector<std::string> set = RotatedSet(options_.db_path);
  ASSERT_EQ(set.size(), 3u);  // the first file and the oldest rolled ones are gone
  EXPECT_EQ(set.back(), rolled.back());
  EXPECT_FALSE(fs::exists(options_.db_path));
  for (const std::string& f : set) {
    SCOPED_TRACE(f);
    EXPECT_EQ(Query(f, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
    // One run, ended; its own session row, still named after the roll; its own events.
    EXPECT_EQ(Query(f, "SELECT COUNT(*), MIN(stop_us >= start_us) FROM runs"),
              std::vector<std::string>{"1|1"});
    EXPECT_EQ(Query(f, "SELECT session_id, model FROM ws_sessions"),
              std::vector<std::string>{"sess_1|gpt-realtime"});
    EXPECT_NE(Query(f, "SELECT COUNT(*) FROM events"), std::vector<std::string>{"0"});
    EXPECT_EQ(Query(f, "SELECT COUNT(*) FROM gaps"), std::vector<std::string>{"0"});
  }
  EXPECT_NE(log.find("recorder: rolled over from " + options_.db_path + " to " + rolled[0]),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("deleted past --keep 3: " + options_.db_path), std::string::npos) << log;
  EXPECT_EQ(rec.stats().written, submitted_ + 1);
}

TEST_F(RotationRecorderTest, ByTimeRollsAtEachPeriod) {
  options_.rotation.every = Rotation::Every::kHour;
  options_.rotation.period_us = 200'000;  // an "hour" of 200 ms
  options_.rotation.keep = 100;
  auto opened = Recorder::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Recorder& rec = **opened;
  std::vector<std::string> rolled;
  RecordUntilRolled(rec, 2, &rolled);
  ASSERT_TRUE(rec.Close().ok());
  ASSERT_GE(rolled.size(), 2u);
  // Nothing deleted, nothing lost: the files together hold every event once.
  int64_t events = 0;
  for (const std::string& f : RotatedSet(options_.db_path)) {
    events += std::stoll(Query(f, "SELECT COUNT(*) FROM events")[0]);
    EXPECT_EQ(Query(f, "SELECT COUNT(*) FROM runs WHERE stop_us IS NOT NULL"),
              std::vector<std::string>{"1"});
  }
  EXPECT_EQ(events, static_cast<int64_t>(submitted_));
}

}  // namespace
}  // namespace relaytap::recorder
