// A full disk (SQLITE_FULL) and a read-only store (SQLITE_READONLY) under the recorder: the relay
// side keeps handing over observations without ever being refused or blocked, the loss is counted,
// written as one `write_failed` gap once the store is writable again, and logged once per outage.
// The failures are real SQLite errors on the writer's own connection: a VFS whose every write
// returns SQLITE_FULL, as a disk without space does (tests/testing/full_disk_vfs.h), and PRAGMA
// query_only (every write fails with SQLITE_READONLY), applied before each batch while the test
// says so.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "base/str_cat.h"
#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "recorder/sqlite/database.h"
#include "tests/recorder/recorder_test_support.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/full_disk_vfs.h"
#include "tests/testing/wait.h"

namespace relaytap::recorder {
namespace {

using relaytap::testing::WaitFor;
using testing::CountOf;
using testing::kT0;
using testing::Query;
using testing::Text;
using testing::TextDeltaEvent;

enum class Fault { kNone, kFull, kReadOnly };

// Applies `fault` to the writer's connection (called on the writer thread before each batch).
// A full disk fails every write, also one that would fit into free space in existing pages, so
// no batch can commit in the middle of the outage.
void Apply(Fault fault, sqlite::Database& db, relaytap::testing::FullDiskVfs& disk) {
  disk.SetFull(fault == Fault::kFull);
  (void)db.Execute(fault == Fault::kReadOnly ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0");
}

class DiskFailureTest : public ::testing::TestWithParam<Fault> {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir(GetParam() == Fault::kFull ? "disk_full" : "read_only");
    options_.db_path = dir_ + "/relaytap.db";
    options_.key_dir = dir_ + "/ca";
    options_.relaytap_version = "test";
    options_.batch_interval = absl::Milliseconds(10);
    options_.before_batch_for_test = [this](sqlite::Database& db) {
      Apply(fault_.load(), db, disk_);
    };
  }

  relaytap::testing::FullDiskVfs disk_;  // the default VFS while the test runs
  std::string dir_;
  RecorderOptions options_;
  std::atomic<Fault> fault_{Fault::kNone};
};

TEST_P(DiskFailureTest, RelayIsNeverRefusedAndTheLossBecomesOneGapLoggedOnce) {
  auto opened = Recorder::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Recorder& rec = **opened;
  uint64_t seq = 0;
  ASSERT_TRUE(rec.TrySubmit(Text(1, ++seq, WsDirection::kServerToClient, kT0, TextDeltaEvent(0))));
  ASSERT_TRUE(WaitFor([&] { return rec.stats().written == 1; }, "the first event"));

  ::testing::internal::CaptureStderr();
  fault_ = GetParam();
  constexpr int kDuringOutage = 400;
  for (int i = 1; i <= kDuringOutage; ++i) {
    EXPECT_TRUE(rec.TrySubmit(
        Text(1, ++seq, WsDirection::kServerToClient, kT0 + i * 1000, TextDeltaEvent(i))));
  }
  // Every observation handed over so far is either committed or counted as lost.
  const auto settled = [&] {
    RecorderStats s = rec.stats();
    return s.write_failures > 0 && s.written + s.lost_in_failed_writes == seq;
  };
  ::testing::AssertionResult outage = WaitFor(settled, "failed batches");
  // A second wave while the outage lasts: more failed batches, still one log line.
  const uint64_t failures = rec.stats().write_failures;
  for (int i = 1; outage && i <= 50; ++i) {
    EXPECT_TRUE(rec.TrySubmit(Text(1, ++seq, WsDirection::kClientToServer, kT0 + 500'000 + i * 1000,
                                   TextDeltaEvent(1000 + i))));
  }
  if (outage) {
    outage = WaitFor([&] { return settled() && rec.stats().write_failures > failures; },
                     "more failed batches");
  }

  fault_ = Fault::kNone;  // the disk has room again / the store is writable again
  ASSERT_TRUE(rec.TrySubmit(Text(1, ++seq, WsDirection::kServerToClient, kT0 + 1'000'000,
                                 R"({"type":"response.done","event_id":"event_z"})")));
  const ::testing::AssertionResult recovered = WaitFor(
      [&] {
        return rec.stats().gaps_written > 0 &&
               rec.stats().written + rec.stats().lost_in_failed_writes == seq;
      },
      "the gap after recovery");
  ASSERT_TRUE(rec.Close().ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(outage);
  ASSERT_TRUE(recovered);

  RecorderStats s = rec.stats();
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_GT(s.lost_in_failed_writes, 0u);
  EXPECT_EQ(s.written + s.lost_in_failed_writes, seq);
  EXPECT_EQ(CountOf(log, "recorder: cannot write to"), 1u) << log;
  EXPECT_NE(log.find(GetParam() == Fault::kFull ? "database or disk is full" : "readonly database"),
            std::string::npos)
      << log;
  EXPECT_EQ(CountOf(log, "again; the loss is recorded as a gap"), 1u) << log;
  EXPECT_EQ(Query(options_.db_path,
                  "SELECT COUNT(*), SUM(dropped_observations), "
                  "SUM(dropped_bytes) > 0, MIN(from_us) >= " +
                      std::to_string(kT0) + ", reason FROM gaps"),
            std::vector<std::string>{StrCat("1|", s.lost_in_failed_writes, "|1|1|write_failed")});
  EXPECT_EQ(Query(options_.db_path, "SELECT COUNT(*) FROM events"),
            std::vector<std::string>{std::to_string(s.written)});
  EXPECT_EQ(Query(options_.db_path, "SELECT COUNT(*) FROM events WHERE type = 'response.done'"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(Query(options_.db_path, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

INSTANTIATE_TEST_SUITE_P(FullAndReadOnly, DiskFailureTest,
                         ::testing::Values(Fault::kFull, Fault::kReadOnly),
                         [](const ::testing::TestParamInfo<Fault>& p) {
                           return std::string(p.param == Fault::kFull ? "DiskFull" : "ReadOnly");
                         });

}  // namespace
}  // namespace relaytap::recorder
