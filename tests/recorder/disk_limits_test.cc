// The store cannot fill the disk: at --max-db-size, or below --min-free on its filesystem,
// recording pauses. The relay side is never refused, one gap row with the pause's reason is on
// disk at once and counts every observation not recorded, one log line says why, and a low-disk
// pause ends when space is back.
#include <atomic>
#include <filesystem>
#include <string>

#include "base/str_cat.h"
#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "tests/recorder/recorder_test_support.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/wait.h"

namespace relaytap::recorder {
namespace {

using relaytap::testing::WaitFor;
using testing::CountOf;
using testing::kT0;
using testing::Query;
using testing::Text;
using testing::TextDeltaEvent;

uint64_t StoreBytes(const std::string& db) {
  uint64_t n = std::filesystem::file_size(db);
  std::error_code ec;
  const uintmax_t wal = std::filesystem::file_size(db + "-wal", ec);
  return n + (ec ? 0 : wal);
}

class DiskLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("disk_limits");
    options_.db_path = dir_ + "/relaytap.db";
    options_.key_dir = dir_ + "/ca";
    options_.relaytap_version = "test";
    options_.batch_interval = absl::Milliseconds(10);
    options_.disk.free_bytes_for_test = [this] { return free_bytes_.load(); };
  }

  std::string dir_;
  RecorderOptions options_;
  std::atomic<uint64_t> free_bytes_{uint64_t{100} << 30};
};

TEST_F(DiskLimitsTest, AtTheSizeCapRecordingPausesWithOneGapRow) {
  options_.disk.max_db_bytes = 512u << 10;
  auto opened = Recorder::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Recorder& rec = **opened;
  ::testing::internal::CaptureStderr();
  // Far more than fits under the cap, in waves the writer can keep up with.
  uint64_t seq = 0;
  for (int wave = 0; wave < 20; ++wave) {
    for (int i = 0; i < 50; ++i) {
      ++seq;
      EXPECT_TRUE(
          rec.TrySubmit(Text(1, seq, WsDirection::kServerToClient,
                             kT0 + static_cast<int64_t>(seq) * 1000, TextDeltaEvent(int(seq)))));
    }
    ASSERT_TRUE(
        WaitFor([&] { return rec.stats().written + rec.stats().lost_in_failed_writes == seq; },
                "the wave written or counted"));
  }
  // The gap row is on disk while the recorder still runs.
  EXPECT_TRUE(WaitFor(
      [&] {
        return Query(options_.db_path, "SELECT COUNT(*) FROM gaps WHERE reason = 'db_size_cap'") ==
               std::vector<std::string>{"1"};
      },
      "the gap row during the pause"));
  ASSERT_TRUE(rec.Close().ok());
  const std::string log = ::testing::internal::GetCapturedStderr();

  const RecorderStats s = rec.stats();
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_GT(s.written, 0u);
  EXPECT_GT(s.lost_in_failed_writes, 0u);
  EXPECT_EQ(s.written + s.lost_in_failed_writes, seq);
  EXPECT_EQ(s.gaps_written, 1u);
  EXPECT_EQ(Query(options_.db_path,
                  "SELECT COUNT(*), SUM(dropped_observations), MIN(from_us) > 0, "
                  "MAX(to_us) >= MIN(from_us), reason FROM gaps"),
            std::vector<std::string>{StrCat("1|", s.lost_in_failed_writes, "|1|1|db_size_cap")});
  EXPECT_EQ(Query(options_.db_path, "SELECT COUNT(*) FROM events"),
            std::vector<std::string>{std::to_string(s.written)});
  EXPECT_EQ(Query(options_.db_path, "SELECT stop_us > 0 FROM runs"), std::vector<std::string>{"1"});
  EXPECT_EQ(Query(options_.db_path, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  // At most about one batch past the cap.
  EXPECT_LT(StoreBytes(options_.db_path), options_.disk.max_db_bytes + (256u << 10));
  EXPECT_EQ(CountOf(log, "paused: the store is"), 1u) << log;
  EXPECT_NE(log.find("at --max-db-size 512.0 KiB"), std::string::npos) << log;
}

TEST_F(DiskLimitsTest, BelowTheFreeSpaceFloorRecordingPausesAndResumes) {
  options_.disk.min_free_bytes = uint64_t{1} << 30;
  auto opened = Recorder::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Recorder& rec = **opened;
  ::testing::internal::CaptureStderr();
  uint64_t seq = 0;
  auto submit = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ++seq;
      EXPECT_TRUE(
          rec.TrySubmit(Text(1, seq, WsDirection::kServerToClient,
                             kT0 + static_cast<int64_t>(seq) * 1000, TextDeltaEvent(int(seq)))));
    }
  };
  auto settled = [&] { return rec.stats().written + rec.stats().lost_in_failed_writes == seq; };
  submit(10);
  ASSERT_TRUE(WaitFor([&] { return rec.stats().written == 10; }, "written before the pause"));

  free_bytes_ = 900u << 20;  // under the floor
  submit(30);
  ASSERT_TRUE(WaitFor(settled, "the paused batches counted"));
  EXPECT_EQ(rec.stats().written, 10u);
  ASSERT_TRUE(WaitFor(
      [&] {
        return Query(options_.db_path, "SELECT COUNT(*) FROM gaps WHERE reason = 'low_disk'") ==
               std::vector<std::string>{"1"};
      },
      "the gap row during the pause"));

  free_bytes_ = (1u << 30) + (10u << 20);  // over the floor, not over it with the margin
  submit(5);
  ASSERT_TRUE(WaitFor(settled, "still paused"));
  EXPECT_EQ(rec.stats().written, 10u);

  free_bytes_ = uint64_t{2} << 30;  // space is back
  submit(20);
  ASSERT_TRUE(WaitFor([&] { return rec.stats().written == 30u; }, "written after the pause"));
  ASSERT_TRUE(rec.Close().ok());
  const std::string log = ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(rec.stats().lost_in_failed_writes, 35u);
  EXPECT_EQ(rec.stats().gaps_written, 1u);
  EXPECT_EQ(Query(options_.db_path, "SELECT COUNT(*), SUM(dropped_observations), reason FROM gaps"),
            std::vector<std::string>{"1|35|low_disk"});
  EXPECT_EQ(Query(options_.db_path, "SELECT COUNT(*) FROM events"), std::vector<std::string>{"30"});
  EXPECT_EQ(CountOf(log, "paused: only 900.0 MiB free"), 1u) << log;
  EXPECT_EQ(CountOf(log, "again ("), 1u) << log;
}

}  // namespace
}  // namespace relaytap::recorder
