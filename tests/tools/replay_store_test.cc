// Opening stores for replay (clear errors for what is not a relaytap store), and the text of
// --list and --print.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "recorder/query/replay_reader.h"
#include "recorder/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/replay/timeline.h"

namespace relaytap::tools::replay {
namespace {

using ::relaytap::recorder::query::ReplayReader;
using ::relaytap::testing::StatusIs;

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return (relaytap::testing::FreshTempDir("replay_store") / name).string();
}

TEST(ReplayReaderTest, MissingFileIsNotFound) {
  auto r = ReplayReader::Open(TempPath("missing.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no such file"));
}

TEST(ReplayReaderTest, TextFileIsNotASqliteDatabase) {
  std::string path = TempPath("notes.db");
  std::ofstream(path) << "these are not the bytes of a database, just some text\n";
  auto r = ReplayReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("is not a SQLite database"));
}

TEST(ReplayReaderTest, OtherSqliteDatabaseIsNotARelaytapStore) {
  std::string path = TempPath("other.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE runs (id INTEGER)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto r = ReplayReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("is not a relaytap store"));
}

TEST(ReplayReaderTest, UnknownIdsAreNotFoundInAnEmptyStore) {
  std::string path = TempPath("empty.db");
  {
    auto store = recorder::Store::Open(path, recorder::Durability::kNormal);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  auto r = ReplayReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  auto list = (*r)->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  EXPECT_THAT(FormatList(*list), HasSubstr("(no sessions or exchanges recorded)"));
  for (const char* key : {"7", "sess_nope"}) {
    auto s = (*r)->LoadSession(key);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("no session"));
  }
  auto x = (*r)->LoadExchange("abc");
  ASSERT_FALSE(x.ok());
  EXPECT_THAT(x, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(x.status().message()), HasSubstr("see --list"));
}

TEST(TimelineTest, ListShowsIdTimeDeploymentStatusAndOutcome) {
  ListEntry s;
  s.kind = "session";
  s.id = 3;
  s.time_us = 1'764'630'245'123'000;  // 2025-12-01T23:04:05.123Z
  s.session_id = "sess_abc";
  s.host = "contoso.openai.azure.com";
  s.path = "/openai/v1/realtime?model=gpt-realtime";
  s.deployment = "gpt-realtime";
  s.status = 101;
  s.outcome = "response_failed";
  ListEntry x;
  x.kind = "exchange";
  x.id = 4;
  x.time_us = s.time_us;
  x.method = "GET";
  x.host = s.host;
  x.path = "/status/503";
  x.status = 503;
  x.transport = "websocket_upgrade";
  x.outcome = "server_error_5xx";
  std::string text = FormatList({s, x});
  EXPECT_THAT(text, HasSubstr("session    3  2025-12-01T23:04:05.123Z  gpt-realtime  101  "
                              "response_failed  sess_abc  contoso.openai.azure.com/openai/v1/"
                              "realtime?model=gpt-realtime\n"));
  EXPECT_THAT(text, HasSubstr("exchange   4  2025-12-01T23:04:05.123Z  -  503  server_error_5xx  "
                              "GET contoso.openai.azure.com/status/503  (websocket_upgrade)\n"));
}

TEST(TimelineTest, PrintShowsRelativeTimeDirectionIdsSizesFailuresAndClosing) {
  RecordedSession s;
  s.id = 3;
  s.session_id = "sess_abc";
  s.model = "gpt-realtime";
  s.open_us = 1'000'000;
  s.close_us = 1'250'000;
  s.outcome = "response_failed";
  s.close_code = 1000;
  s.close_side = "app";
  RecordedEvent created;
  created.first_frame_us = 1'001'500;
  created.type = "session.created";
  created.event_id = "event_1";
  created.payload_bytes = 300;
  RecordedEvent done;
  done.first_frame_us = 1'200'000;
  done.type = "response.done";
  done.response_id = "resp_1";
  done.payload_bytes = 512;
  done.response_status = "failed";
  done.error_type = "server_error";
  done.error_code = "";
  RecordedEvent close;
  close.first_frame_us = 1'240'000;
  close.from_client = true;
  close.opcode = 8;
  close.close_code = 1000;
  s.events = {created, done, close};
  std::string text = FormatTimeline(s);
  EXPECT_THAT(text, HasSubstr("session 3  sess_abc  model=gpt-realtime"));
  EXPECT_THAT(text, HasSubstr("     1.500 ms  <-  session.created  event_id=event_1  bytes=300\n"));
  EXPECT_THAT(text, HasSubstr("   200.000 ms  <-  response.done  response_id=resp_1  bytes=512  "
                              "status=failed  FAILURE server_error/\n"));
  EXPECT_THAT(text, HasSubstr("   240.000 ms  ->  close  bytes=0  code=1000\n"));
  EXPECT_THAT(text, HasSubstr("   250.000 ms  end  outcome=response_failed  close_code=1000  "
                              "close_side=app\n"));
}

}  // namespace
}  // namespace relaytap::tools::replay
