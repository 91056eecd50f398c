// `relaytap probe --db`: each run becomes a row of the store's probes table (schema version 8),
// read back through the query layer and shown by the report's "Local checks" section.
#include "tools/report/local_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "recorder/query/store_reader.h"
#include "tests/testing/temp_dir.h"
#include "tools/probe/record.h"

namespace relaytap::tools::probe {
namespace {

using ::testing::HasSubstr;

RunResult PassingRealtimeRun(int64_t start_us) {
  RunResult run;
  run.start_us = start_us;
  run.url = "wss://contoso.openai.azure.com/openai/v1/realtime?model=gpt-realtime&sig=<redacted>";
  run.total_ms = 812;
  run.stages = {
      StageResult{Stage::kDns, Status::kOk, 1, {{"addresses", {"127.0.0.1"}}}, ""},
      StageResult{Stage::kWebSocket, Status::kOk, 20, {{"apim_request_id", "apim-1"}}, ""},
      StageResult{Stage::kRealtime,
                  Status::kOk,
                  700,
                  {{"session_id", "sess_1"}, {"response_id", "resp_1"}},
                  ""},
  };
  return run;
}

RunResult FailedAtTcp(int64_t start_us) {
  RunResult run;
  run.start_us = start_us;
  run.url = "https://contoso.openai.azure.com/";
  run.total_ms = 3;
  run.stages = {
      StageResult{Stage::kDns, Status::kOk, 1, nlohmann::json::object(), ""},
      StageResult{Stage::kTcp, Status::kFailed, 2, nlohmann::json::object(), "connection refused"},
      StageResult{Stage::kTls, Status::kSkipped, 0, nlohmann::json::object(), ""}};
  return run;
}

ProbeUrl Url() { return *ParseProbeUrl("wss://contoso.openai.azure.com/openai/v1/realtime"); }

TEST(LocalChecksTest, RowsCarryTheVerdictTheFailedStageAndTheIdsSeen) {
  const auto rows = LocalCheckRowsOf(Url(), {PassingRealtimeRun(1000), FailedAtTcp(2000)});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].ok);
  EXPECT_EQ(rows[0].session_id, "sess_1");
  EXPECT_EQ(rows[0].response_id, "resp_1");
  EXPECT_EQ(rows[0].apim_request_id, "apim-1");
  EXPECT_EQ(rows[0].host, "contoso.openai.azure.com");
  EXPECT_THAT(rows[0].stages, HasSubstr(R"("name":"realtime")"));
  EXPECT_FALSE(rows[1].ok);
  EXPECT_EQ(rows[1].failed_stage, "tcp");
  EXPECT_TRUE(rows[1].session_id.empty());
  EXPECT_THAT(rows[1].stages, HasSubstr("connection refused"));
}

TEST(LocalChecksTest, RecordedRunsAreReadBackAndReported) {
  const std::string db = (testing::FreshTempDir("local_checks") / "probes.db").string();
  ASSERT_TRUE(RecordRuns(db, Url(), {PassingRealtimeRun(1'700'000'000'000'000)}).ok());
  ASSERT_TRUE(RecordRuns(db, Url(), {FailedAtTcp(1'700'000'060'000'000)}).ok());  // appended
  struct stat st;
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // like the proxy's store

  auto reader = recorder::query::StoreReader::Open(db);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto checks = (*reader)->LocalChecks({});
  ASSERT_TRUE(checks.ok()) << checks.status();
  ASSERT_EQ(checks->size(), 2u);
  EXPECT_EQ((*checks)[0].verdict, "ok");
  EXPECT_EQ((*checks)[0].session_id, "sess_1");
  EXPECT_EQ((*checks)[1].verdict, "failed");
  EXPECT_EQ((*checks)[1].failed_stage, "tcp");
  auto later = (*reader)->LocalChecks({.since_us = 1'700'000'030'000'000, .until_us = {}});
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->size(), 1u);

  const std::string md = report::LocalChecksMarkdown(*checks);
  EXPECT_THAT(md, HasSubstr("## Local checks (2)"));
  EXPECT_THAT(md, HasSubstr("2023-11-14T22:13:20.000Z probe "
                            "`wss://contoso.openai.azure.com/openai/v1/realtime?model=gpt-realtime"
                            "&sig=<redacted>`: ok (812 ms); session_id sess_1, response_id "
                            "resp_1, apim-request-id apim-1"));
  EXPECT_THAT(md, HasSubstr(": FAILED at tcp (3 ms)"));
  EXPECT_THAT(report::LocalChecksHtml(*checks), HasSubstr("&amp;sig=&lt;redacted&gt;"));
  EXPECT_EQ(report::LocalChecksJson(*checks)[1]["failed_stage"], "tcp");
  EXPECT_TRUE(report::LocalChecksMarkdown({}).empty());
}

}  // namespace
}  // namespace relaytap::tools::probe
