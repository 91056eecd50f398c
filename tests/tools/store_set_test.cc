// Store management: `export --sqlite` (a window copied into a new store), `prune` (runs that ended
// before a time), and a rotated set (a glob or a folder) read as one store. The answers over a
// set must equal the answers over the one store they were split from.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "recorder/query/replay_reader.h"
#include "recorder/query/store_reader.h"
#include "recorder/recorder.h"
#include "recorder/store_edit.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/wait.h"
#include "tests/tools/recorded_mix.h"
#include "tools/diff/diff.h"
#include "tools/har/har.h"
#include "tools/report/report.h"
#include "tools/stats/stats.h"

namespace relaytap::tools {
namespace {

namespace fs = std::filesystem;
using recorder::ExportWindow;
using recorder::PruneStore;
using recorder::query::StoreReader;
using testing::kHour;
using testing::kT0;

class StoreSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = recorder::testing::MakeTempDir("store_set");
    options_.db_path = dir_ + "/relaytap.db";
    options_.key_dir = dir_ + "/ca";
    options_.relaytap_version = "test";
    options_.batch_interval = absl::Milliseconds(10);
  }

  // The known mix split at 09:00 into dir_/set/relaytap.db and dir_/set/relaytap-...T0900Z.db.
  void RecordAndSplit() {
    ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_));
    fs::create_directory(dir_ + "/set");
    ASSERT_TRUE(ExportWindow(options_.db_path, dir_ + "/set/relaytap-20250715T0900Z.db",
                             kT0 + kHour, std::nullopt, false)
                    .ok());
    ASSERT_TRUE(
        ExportWindow(options_.db_path, dir_ + "/set/relaytap.db", std::nullopt, kT0 + kHour, false)
            .ok());
  }

  // stats, report, diff and HAR as JSON, read from `db` (a file or a set).
  std::string Answers(const std::string& db) {
    auto reader = StoreReader::Open(db);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return "";
    auto attempts = (*reader)->Attempts({});
    auto profiles = (*reader)->Profiles({});
    auto r = report::BuildReport(**reader, {}, absl::UTCTimeZone(), "");
    auto har = har::ExportHar(**reader, {}, "test");
    EXPECT_TRUE(attempts.ok() && profiles.ok() && r.ok() && har.ok());
    if (!attempts.ok() || !profiles.ok() || !r.ok() || !har.ok()) return "";
    r->db = "";  // names the file or set
    std::vector<recorder::query::Profile> good, bad;
    for (const auto& p : *profiles) (p.outcome == "ok" ? good : bad).push_back(p);
    return stats::FormatJson(
               stats::Compute(*attempts, stats::GroupBy::kHour, absl::UTCTimeZone())) +
           report::FormatJson(*r, absl::UTCTimeZone()) + diff::FormatJson(diff::Compare(good, bad));
  }

  std::string dir_;
  recorder::RecorderOptions options_;
};

TEST_F(StoreSetTest, ExportKeepsOnlyTheWindowInAPrivateStore) {
  ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_));
  const std::string out = dir_ + "/window.db";
  ASSERT_TRUE(ExportWindow(options_.db_path, out, kT0 + kHour, std::nullopt, false).ok());
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(out + ".partial"));
  auto reader = StoreReader::Open(out);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto attempts = (*reader)->Attempts({});
  ASSERT_TRUE(attempts.ok());
  EXPECT_EQ(attempts->size(), 3u);  // 09:01, 09:02, 09:03
  for (const auto& a : *attempts) EXPECT_GE(a.start_us, kT0 + kHour);
  EXPECT_EQ(recorder::testing::Query(out, "SELECT COUNT(*) FROM runs"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(recorder::testing::Query(out,
                                     "SELECT COUNT(*) FROM events WHERE session_ref NOT IN "
                                     "(SELECT id FROM ws_sessions)"),
            std::vector<std::string>{"0"});
}

TEST_F(StoreSetTest, ExportRefusesToReplaceAFileUnlessForced) {
  ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_));
  const std::string out = dir_ + "/window.db";
  std::ofstream(out) << "mine";
  absl::Status st = ExportWindow(options_.db_path, out, std::nullopt, std::nullopt, false);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("--force"));
  EXPECT_EQ(recorder::testing::ReadAll(out), "mine");
  EXPECT_TRUE(ExportWindow(options_.db_path, out, std::nullopt, std::nullopt, true).ok());
  EXPECT_TRUE(StoreReader::Open(out).ok());
}

TEST_F(StoreSetTest, AnswersOverASplitSetEqualTheOneStore) {
  ASSERT_NO_FATAL_FAILURE(RecordAndSplit());
  const std::string one = Answers(options_.db_path);
  ASSERT_FALSE(one.empty());
  EXPECT_EQ(Answers(dir_ + "/set"), one);
  EXPECT_EQ(Answers(dir_ + "/set/relaytap*.db"), one);
  EXPECT_NE(Answers(dir_ + "/set/relaytap.db"), one);  // one half alone differs
}

TEST_F(StoreSetTest, ReplayListsEverySessionOfTheSet) {
  ASSERT_NO_FATAL_FAILURE(RecordAndSplit());
  auto whole = recorder::query::ReplayReader::Open(options_.db_path);
  auto set = recorder::query::ReplayReader::Open(dir_ + "/set");
  ASSERT_TRUE(whole.ok() && set.ok());
  auto a = (*whole)->List();
  auto b = (*set)->List();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  int64_t last_id = 0;
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].time_us, (*b)[i].time_us);
    EXPECT_EQ((*a)[i].kind, (*b)[i].kind);
    if ((*b)[i].kind == "session") {
      EXPECT_GT((*b)[i].id, last_id) << "ids grow with time across the set";
      last_id = (*b)[i].id;
    }
  }
  for (const auto& e : *b) {
    if (e.kind != "session") continue;
    auto s = (*set)->LoadSession(std::to_string(e.id));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s->events.empty());
  }
}

TEST_F(StoreSetTest, ASetThatIsNotOneSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(RecordAndSplit());
  EXPECT_EQ(StoreReader::Open(dir_ + "/set/nothing*.db").status().code(),
            absl::StatusCode::kNotFound);
  fs::create_directory(dir_ + "/empty");
  EXPECT_EQ(StoreReader::Open(dir_ + "/empty").status().code(), absl::StatusCode::kNotFound);
  std::ofstream(dir_ + "/set/notes.db") << "not a database";
  auto bad = StoreReader::Open(dir_ + "/set");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("notes.db"));
  fs::remove(dir_ + "/set/notes.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/set/relaytap.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '4' WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto mixed = StoreReader::Open(dir_ + "/set");
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(mixed.status().message()), ::testing::HasSubstr("schema versions"));
}

TEST_F(StoreSetTest, PruneDeletesEndedRunsWithTheirRowsAndNothingElse) {
  ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_));
  const int64_t later = absl::ToUnixMicros(absl::Now()) + kHour;
  auto dry = PruneStore(options_.db_path, later, /*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->runs, 1);
  EXPECT_EQ(dry->sessions, 3);
  EXPECT_GT(dry->events, 0);
  EXPECT_EQ(recorder::testing::Query(options_.db_path, "SELECT COUNT(*) FROM events").front(),
            std::to_string(dry->events));  // nothing changed
  auto none = PruneStore(options_.db_path, later - 2 * kHour, false);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->runs, 0);
  auto all = PruneStore(options_.db_path, later, false);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->events, dry->events);
  for (const char* table : {"runs", "connections", "exchanges", "ws_sessions", "events"}) {
    EXPECT_EQ(
        recorder::testing::Query(options_.db_path, std::string("SELECT COUNT(*) FROM ") + table),
        std::vector<std::string>{"0"})
        << table;
  }
  EXPECT_LE(all->bytes_after, all->bytes_before);
}

TEST_F(StoreSetTest, PruneTakesOneFile) {
  ASSERT_NO_FATAL_FAILURE(RecordAndSplit());
  EXPECT_EQ(PruneStore(dir_ + "/set", 0, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PruneStore(dir_ + "/set/*.db", 0, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreSetTest, PruneNeverTouchesTheRunARunningProxyRecords) {
  auto rec = recorder::Recorder::Open(options_);
  ASSERT_TRUE(rec.ok()) << rec.status();
  testing::SubmitHttpExchange(**rec, 5, kT0);
  ASSERT_TRUE(testing::WaitFor([&] { return (*rec)->stats().written >= 2; }, "committed"));
  auto c = PruneStore(options_.db_path, absl::ToUnixMicros(absl::Now()) + kHour, false);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->runs, 0);
  testing::SubmitHttpExchange(**rec, 6, kT0 + 1'000'000);
  ASSERT_TRUE((*rec)->Close().ok());
  EXPECT_EQ(recorder::testing::Query(options_.db_path, "SELECT COUNT(*) FROM exchanges"),
            std::vector<std::string>{"2"});
}

TEST_F(StoreSetTest, PruneOnALockedStoreChangesNothingAndSaysWhatToDo) {
  ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(options_.db_path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto c = PruneStore(options_.db_path, absl::ToUnixMicros(absl::Now()) + kHour, false);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr("nothing was changed"));
  EXPECT_EQ(recorder::testing::Query(options_.db_path, "SELECT COUNT(*) FROM runs"),
            std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace relaytap::tools
