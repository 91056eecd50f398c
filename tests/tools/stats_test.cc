// `relaytap stats` on a store with a known mix written by the real recorder
// (tests/tools/recorded_mix.h), and while the recorder still writes it. Also the time flags and
// the reader's errors.
#include "tools/stats/stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/store_answers.h"
#include "tests/testing/wait.h"
#include "tests/tools/recorded_mix.h"
#include "tools/stats/time_flags.h"

namespace relaytap::tools::stats {
namespace {

using recorder::Recorder;
using recorder::RecorderOptions;
using recorder::query::StoreReader;
using recorder::query::TimeWindow;

using testing::kHour;
using testing::kT0;

class StatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = recorder::testing::MakeTempDir("stats");
    options_.db_path = dir_ + "/relaytap.db";
    options_.key_dir = dir_ + "/ca";
    options_.relaytap_version = "test";
    options_.batch_interval = absl::Milliseconds(10);
  }

  void RecordMix() { ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_)); }

  std::vector<recorder::query::Attempt> Attempts(TimeWindow window = {}) {
    auto reader = StoreReader::Open(options_.db_path);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return {};
    auto rows = (*reader)->Attempts(window);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<recorder::query::Attempt>{};
  }

  std::string dir_;
  RecorderOptions options_;
};

TEST_F(StatsTest, HourlyJsonCountsTheKnownMix) {
  RecordMix();
  const Stats s = Compute(Attempts(), GroupBy::kHour, absl::UTCTimeZone());
  const nlohmann::json j = nlohmann::json::parse(FormatJson(s));

  const nlohmann::json& t = j["totals"];
  EXPECT_EQ(t["sessions"], 4);  // three 101s and the 429'd upgrade
  EXPECT_EQ(t["exchanges"], 1);
  EXPECT_EQ(t["failures"], 2);
  EXPECT_DOUBLE_EQ(t["failure_pct"].get<double>(), 40.0);
  EXPECT_EQ(t["by_outcome"],
            (nlohmann::json{{"ok", 3}, {"response_failed", 1}, {"throttled_429", 1}}));
  EXPECT_EQ(t["retries"], 1);
  EXPECT_EQ(t["status_429"], 1);
  EXPECT_EQ(t["tokens"], 360);
  EXPECT_EQ(t["latency_ms"]["session_created"]["count"], 3);
  EXPECT_DOUBLE_EQ(t["latency_ms"]["session_created"]["p50"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(t["latency_ms"]["first_delta"]["p99"].get<double>(), 300.0);
  // Upgrades answered after 80 ms (three) and 30 ms; the exchange's head after 200 ms.
  EXPECT_EQ(t["latency_ms"]["upgrade"]["count"], 5);
  EXPECT_DOUBLE_EQ(t["latency_ms"]["upgrade"]["p50"].get<double>(), 80.0);
  EXPECT_DOUBLE_EQ(t["latency_ms"]["upgrade"]["p99"].get<double>(), 200.0);

  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["bucket"], "2025-07-15T08:00+00:00");
  EXPECT_EQ(j["rows"][0]["sessions"], 2);
  EXPECT_EQ(j["rows"][0]["failures"], 0);
  EXPECT_EQ(j["rows"][1]["bucket"], "2025-07-15T09:00+00:00");
  EXPECT_EQ(j["rows"][1]["sessions"], 2);
  EXPECT_EQ(j["rows"][1]["exchanges"], 1);
  EXPECT_EQ(j["rows"][1]["failures"], 2);
  EXPECT_DOUBLE_EQ(j["rows"][1]["failure_pct"].get<double>(), 66.67);
}

TEST_F(StatsTest, BucketsByDeploymentRegionAndLocalHour) {
  RecordMix();
  const std::vector<recorder::query::Attempt> rows = Attempts();
  const Stats by_deployment = Compute(rows, GroupBy::kDeployment, absl::UTCTimeZone());
  ASSERT_EQ(by_deployment.rows.size(), 2u);
  EXPECT_EQ(by_deployment.rows[0].key, "gpt-4o-realtime");
  EXPECT_EQ(by_deployment.rows[0].attempts(), 4);
  EXPECT_EQ(by_deployment.rows[1].key, "gpt-4o");

  const Stats by_region = Compute(rows, GroupBy::kRegion, absl::UTCTimeZone());
  ASSERT_EQ(by_region.rows.size(), 2u);
  EXPECT_EQ(by_region.rows[0].key, "East US 2");
  EXPECT_EQ(by_region.rows[1].key, "Sweden Central");

  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  const Stats local = Compute(rows, GroupBy::kHour, berlin);
  ASSERT_EQ(local.rows.size(), 2u);
  EXPECT_EQ(local.rows[0].key, "2025-07-15T10:00+02:00");
}

TEST_F(StatsTest, TheWindowSelectsByRequestStart) {
  RecordMix();
  EXPECT_EQ(Attempts({.since_us = kT0 + kHour}).size(), 3u);
  EXPECT_EQ(Attempts({.until_us = kT0 + kHour}).size(), 2u);
  EXPECT_EQ(Attempts({.since_us = kT0 + 2 * kHour}).size(), 0u);
}

TEST_F(StatsTest, TableAndCsvCarryTheSameTotals) {
  RecordMix();
  const Stats s = Compute(Attempts(), GroupBy::kOutcome, absl::UTCTimeZone());
  const std::string table = FormatTable(s);
  EXPECT_THAT(table, ::testing::HasSubstr("total"));
  EXPECT_THAT(table, ::testing::HasSubstr("40.00"));
  const std::string csv = FormatCsv(s);
  EXPECT_THAT(csv, ::testing::StartsWith("outcome,sessions,exchanges,failures,failure_pct,"));
  EXPECT_THAT(csv, ::testing::HasSubstr("\ntotal,4,1,2,40.00,1,1,"));
}

// relaytap probe's `GET /` through the proxy checks the path; it is not one of the app's
// attempts, whatever it was answered (a 5xx is the probe's failure, reported by the probe).
TEST_F(StatsTest, RelaytapProbesPathChecksAreLeftOut) {
  RecordMix();
  auto rec = Recorder::Open(options_);
  ASSERT_TRUE(rec.ok()) << rec.status();
  uint64_t conn = 10;
  for (const int status : {404, 503}) {
    (*rec)->TrySubmit(recorder::ConnectionOpened{
        conn, kT0, "127.0.0.1:5003", "contoso-eus2.openai.azure.com", 443, true, false});
    recorder::Exchange ex;
    ex.connection_id = conn++;
    ex.sequence = 1;
    ex.method = "GET";
    ex.host = "contoso-eus2.openai.azure.com";
    ex.target = "/";
    ex.request_headers = {{"Host", ex.host}, {"User-Agent", "relaytap-probe"}};
    ex.status = status;
    ex.request_start_us = kT0 + kHour + 240'000'000;
    ex.response_headers_us = ex.request_start_us + 1'000;
    ex.end_us = ex.request_start_us + 2'000;
    ex.end.reason = recorder::EndReason::kComplete;
    (*rec)->TrySubmit(std::move(ex));
  }
  ASSERT_TRUE((*rec)->Close().ok());

  EXPECT_EQ(Attempts().size(), 5u) << "the known mix only";
  const testing::StoreAnswers answers = testing::ReadStoreAnswers(options_.db_path);
  EXPECT_EQ(answers.failures.size(), 2u) << "the known mix's two";
  EXPECT_EQ(answers.exchanges.size(), 7u) << "HAR keeps every exchange";
}

TEST_F(StatsTest, ReadsAStoreTheRecorderIsStillWriting) {
  auto rec = Recorder::Open(options_);
  ASSERT_TRUE(rec.ok()) << rec.status();
  testing::SubmitHttpExchange(**rec, 5, kT0);
  ASSERT_TRUE(testing::WaitFor([&] { return (*rec)->stats().written >= 2; },
                               "the exchange and its connection committed"));
  EXPECT_EQ(Attempts().size(), 1u);  // read while the writer holds the file open
  testing::SubmitHttpExchange(**rec, 6, kT0 + 1'000'000);
  ASSERT_TRUE((*rec)->Close().ok());
  EXPECT_EQ(Attempts().size(), 2u);
}

TEST(StoreReaderTest, SaysWhatIsWrongWithTheFile) {
  const std::string dir = recorder::testing::MakeTempDir("stats_errors");
  auto missing = StoreReader::Open(dir + "/nope.db");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  std::ofstream(dir + "/text.db") << "not a database";
  auto text = StoreReader::Open(dir + "/text.db");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(text.status().message()), ::testing::HasSubstr("not a SQLite database"));
}

TEST(TimeFlagsTest, RfcAndRelativeTimes) {
  const absl::Time now = absl::FromUnixSeconds(1'752'566'400);  // 2025-07-15T08:00:00Z
  EXPECT_EQ(*ParseWhen("2025-07-15T10:00:00+02:00", now), now);
  EXPECT_EQ(*ParseWhen("2025-07-15T08:00:00Z", now), now);
  EXPECT_EQ(*ParseWhen("-2h", now), now - absl::Hours(2));
  EXPECT_EQ(*ParseWhen("-1h30m", now), now - absl::Minutes(90));
  EXPECT_EQ(*ParseWhen("-1d", now), now - absl::Hours(24));
  EXPECT_EQ(*ParseWhen("now", now), now);
  for (const char* bad : {"yesterday", "2025-07-15", "-2x", "--1h", ""}) {
    EXPECT_FALSE(ParseWhen(bad, now).ok()) << bad;
  }
}

TEST(TimeFlagsTest, AWindowNamesTheBadFlag) {
  const absl::Time now = absl::FromUnixSeconds(1'752'566'400);
  absl::StatusOr<TimeWindow> w = ParseWindow("-2h", "", now);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->since_us, absl::ToUnixMicros(now - absl::Hours(2)));
  EXPECT_FALSE(w->until_us.has_value());
  EXPECT_THAT(std::string(ParseWindow("", "soon", now).status().message()),
              ::testing::StartsWith("--until soon:"));
  EXPECT_FALSE(ParseWindow("-1h", "-2h", now).ok());  // ends before it starts
}

TEST_F(StatsTest, TheZoneIsTheFlagOrTheRecordedOne) {
  RecordMix();
  auto reader = StoreReader::Open(options_.db_path);
  ASSERT_TRUE(reader.ok());
  absl::StatusOr<absl::TimeZone> flag = ResolveZone("+05:30", **reader);
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->At(absl::UnixEpoch()).offset, 5 * 3600 + 1800);
  EXPECT_FALSE(ResolveZone("Mars/Olympus", **reader).ok());
  EXPECT_TRUE(ResolveZone("", **reader).ok());  // whatever this machine recorded
}

}  // namespace
}  // namespace relaytap::tools::stats
