// `relaytap report` on the known mix (tests/tools/recorded_mix.h): every failure with its ids
// and the events before it, the summary, and the findings; the findings' rules on their own.
#include "tools/report/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "recorder/sqlite/database.h"
#include "tests/recorder/test_util.h"
#include "tests/tools/recorded_mix.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::Attempt;
using recorder::query::Failure;
using recorder::query::StoreReader;
using ::testing::HasSubstr;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = recorder::testing::MakeTempDir("report");
    options_.db_path = dir + "/relaytap.db";
    options_.key_dir = dir + "/ca";
    options_.relaytap_version = "test";
    options_.batch_interval = absl::Milliseconds(10);
    ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_));
    auto reader = StoreReader::Open(options_.db_path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    reader_ = std::move(*reader);
  }

  Report Build(const std::string& session = "") {
    absl::StatusOr<Report> r = BuildReport(*reader_, {}, absl::UTCTimeZone(), session);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Report{};
  }

  recorder::RecorderOptions options_;
  std::unique_ptr<StoreReader> reader_;
};

TEST_F(ReportTest, JsonListsEveryFailureWithItsIdsAndTheEventsBeforeIt) {
  const nlohmann::json j = nlohmann::json::parse(FormatJson(Build(), absl::UTCTimeZone()));
  ASSERT_EQ(j["failures"].size(), 2u);

  const nlohmann::json& session = j["failures"][0];
  EXPECT_EQ(session["kind"], "ws_session");
  EXPECT_EQ(session["outcome"], "response_failed");
  EXPECT_EQ(session["session_id"], "sess_3");
  EXPECT_EQ(session["response_id"], "resp_1");
  EXPECT_EQ(session["error_type"], "server_error");
  EXPECT_EQ(session["message"], "The server had an error while processing your request.");
  EXPECT_EQ(session["apim_request_id"], "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(session["x_request_id"], "req-7f3e");
  EXPECT_EQ(session["region"], "East US 2");
  EXPECT_EQ(session["deployment"], "gpt-4o-realtime");
  EXPECT_EQ(session["api_version"], "2025-04-01-preview");
  EXPECT_EQ(session["user_agent"], "OpenAI/Python 1.99.0");
  EXPECT_EQ(session["time_utc"], "2025-07-15T09:01:00.980Z");
  EXPECT_EQ(session["time_local"], "2025-07-15T09:01:00.980+00:00");
  std::vector<std::string> types;
  for (const auto& e : session["events_before_failure"]) types.push_back(e["type"]);
  EXPECT_THAT(types, ::testing::ElementsAre("session.created", "response.create",
                                            "response.output_audio.delta", "response.done"));
  EXPECT_DOUBLE_EQ(session["events_before_failure"][3]["rel_ms"].get<double>(), 900.0);

  const nlohmann::json& throttled = j["failures"][1];
  EXPECT_EQ(throttled["kind"], "exchange");
  EXPECT_EQ(throttled["status"], 429);
  EXPECT_EQ(throttled["outcome"], "throttled_429");
  EXPECT_EQ(throttled["retry_count"], 1);
  EXPECT_EQ(throttled["events_before_failure"].size(), 0u);

  const nlohmann::json& summary = j["summary"];
  EXPECT_EQ(summary["totals"]["sessions"], 4);
  EXPECT_EQ(summary["totals"]["failures"], 2);
  EXPECT_EQ(summary["failure_rate_over_time"].size(), 2u);
  EXPECT_EQ(summary["failure_rate_over_time"][1]["failures"], 2);
  EXPECT_EQ(summary["hosts_affected"], nlohmann::json({"contoso-eus2.openai.azure.com"}));
  EXPECT_EQ(summary["deployments_affected"], nlohmann::json({"gpt-4o-realtime"}));
  EXPECT_EQ(summary["clients_affected"], nlohmann::json({"127.0.0.1"}));
  // The 429 came back without request ids; the upgrades' Date header says 08:00:01 also at
  // 09:01, an hour behind this (recorded) clock.
  ASSERT_EQ(summary["findings"].size(), 2u);
  EXPECT_EQ(summary["findings"][0]["id"], "failures_without_request_id");
  EXPECT_EQ(summary["findings"][0]["evidence"], "1 of 2 failures");
  EXPECT_EQ(summary["findings"][1]["id"], "clock_skew");
  EXPECT_EQ(summary["findings"][1]["evidence"],
            "up to 3659.1 s; this clock is ahead of Azure's Date");
}

TEST_F(ReportTest, MarkdownCarriesTheIdsSupportAsksFor) {
  const std::string md = FormatMarkdown(Build(), absl::UTCTimeZone());
  EXPECT_THAT(md, HasSubstr("# relaytap incident report"));
  EXPECT_THAT(md, HasSubstr("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
  EXPECT_THAT(md, HasSubstr("req-7f3e"));
  EXPECT_THAT(md, HasSubstr("sess_3"));
  EXPECT_THAT(md, HasSubstr("**failures_without_request_id**"));
  EXPECT_THAT(md, HasSubstr("900.0 ms  azure -> app  response.done"));
  EXPECT_THAT(md, HasSubstr("| 2025-07-15T09:00+00:00 | 3 | 2 | 66.67 |"));
}

TEST_F(ReportTest, OneSessionOnly) {
  EXPECT_EQ(Build("sess_3").failures.size(), 1u);
  EXPECT_EQ(Build("sess_1").failures.size(), 0u);  // it did not fail
}

Attempt Made(std::string host, std::string outcome) {
  Attempt a;
  a.host = std::move(host);
  a.outcome = std::move(outcome);
  a.deployment = "gpt-4o-realtime";
  a.region = "East US 2";
  return a;
}

std::vector<std::string> Ids(const std::vector<Finding>& findings) {
  std::vector<std::string> ids;
  for (const Finding& f : findings) ids.push_back(f.id);
  return ids;
}

TEST(FindingsTest, RetryStormAndOneHostFailing) {
  std::vector<Attempt> attempts;
  for (int i = 0; i < 20; ++i) attempts.push_back(Made("good.openai.azure.com", "ok"));
  for (int i = 0; i < 6; ++i) {
    Attempt a = Made("bad.openai.azure.com", "server_error_5xx");
    a.retry_count = 1;
    attempts.push_back(a);
  }
  std::vector<Finding> f = FindingsOf(attempts, {});
  EXPECT_THAT(Ids(f), ::testing::IsSupersetOf({"retry_storm", "one_host_failing"}));
  EXPECT_THAT(f[0].evidence, HasSubstr("6 retries and 6 failures in 26 attempts"));
}

TEST(FindingsTest, FailuresConfinedToOneRegion) {
  std::vector<Attempt> attempts;
  for (int i = 0; i < 3; ++i) {
    Attempt a = Made("h", "upstream_reset");
    a.region = "Sweden Central";
    attempts.push_back(a);
  }
  for (int i = 0; i < 5; ++i) attempts.push_back(Made("h", "ok"));
  EXPECT_THAT(Ids(FindingsOf(attempts, {})), ::testing::Contains("confined_to_region"));
  attempts.push_back(Made("h", "upstream_reset"));  // East US 2 fails too: not confined
  EXPECT_THAT(Ids(FindingsOf(attempts, {})),
              ::testing::Not(::testing::Contains("confined_to_region")));
}

TEST(FindingsTest, DialectsClientErrorsAndClockSkew) {
  Attempt ga = Made("h", "ok");
  ga.path_kind = "ga_v1";
  ga.api_version = "2025-04-01-preview";
  Attempt preview = Made("h", "ok");
  preview.path_kind = "preview";
  Attempt skewed = Made("h", "ok");
  skewed.clock_skew_ms = -7200;
  Failure bad_request;
  bad_request.outcome = "client_error_4xx";
  bad_request.status = 400;
  bad_request.apim_request_id = "x";
  const std::vector<std::string> ids = Ids(FindingsOf({ga, preview, skewed}, {bad_request}));
  EXPECT_THAT(
      ids, ::testing::IsSupersetOf({"ga_path_with_api_version", "preview_path_without_api_version",
                                    "client_side_errors", "clock_skew"}));
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains("failures_without_request_id")));
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains("retry_storm")));
}

// The token findings on a recording: the app kept its Entra ID token past exp and got 401s.
TEST(TokenFindingTest, TheTokenExpiredAndThe401sBeganAfterIt) {
  const std::string dir = recorder::testing::MakeTempDir("report_token");
  recorder::RecorderOptions options;
  options.db_path = dir + "/relaytap.db";
  options.key_dir = dir + "/ca";
  options.relaytap_version = "test";
  options.batch_interval = absl::Milliseconds(10);
  ASSERT_NO_FATAL_FAILURE(testing::RecordExpiredTokenMix(options));
  auto reader = StoreReader::Open(options.db_path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<Attempt>> attempts = (*reader)->Attempts({});
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  ASSERT_EQ(attempts->size(), 5u);
  EXPECT_EQ(attempts->front().auth_kind, "bearer_jwt");
  EXPECT_EQ(attempts->front().jwt_exp, testing::kTokenExp);
  EXPECT_EQ(attempts->front().jwt_aud, "https://cognitiveservices.azure.com");
  EXPECT_EQ(attempts->back().jwt_tid, testing::kTokenTenant);
  absl::StatusOr<Report> r = BuildReport(**reader, {}, absl::UTCTimeZone(), "");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->findings.empty());
  const Finding& f = r->findings.front();
  EXPECT_EQ(f.id, "token_expired");
  EXPECT_THAT(f.statement, HasSubstr("The token expired at 2025-07-15T09:00:00Z and the 401s "
                                     "began at 2025-07-15T09:00:02.000Z"));
  EXPECT_THAT(f.evidence, HasSubstr("3 401s with an expired token from 2025-07-15T09:00:02.000Z "
                                    "to 2025-07-15T09:00:09.000Z; the first 2.0 s after exp"));
  EXPECT_THAT(f.evidence, HasSubstr(std::string("tenant (tid) ") + testing::kTokenTenant));
  EXPECT_THAT(f.evidence, HasSubstr("audience (aud) https://cognitiveservices.azure.com"));
  EXPECT_THAT(FormatMarkdown(*r, absl::UTCTimeZone()), HasSubstr("token_expired"));
}

TEST(TokenFindingTest, NotWhenThe401sCameWhileTheTokenWasValid) {
  Attempt ok = Made("h", "ok");
  ok.start_us = testing::kT0;
  ok.jwt_exp = 2'000'000'000;
  Attempt refused = Made("h", "client_error_4xx");
  refused.status = 401;
  refused.start_us = ok.start_us + 1'000'000;
  refused.jwt_exp = 2'000'000'000;  // still valid: a wrong audience or role, not expiry
  EXPECT_THAT(Ids(FindingsOf({ok, refused}, {})),
              ::testing::Not(::testing::Contains("token_expired")));
  refused.jwt_exp.reset();  // no JWT on the 401 and the last good token was valid too
  EXPECT_THAT(Ids(FindingsOf({ok, refused}, {})),
              ::testing::Not(::testing::Contains("token_expired")));
  ok.jwt_exp = refused.start_us / 1'000'000 - 60;  // the last good token had expired
  EXPECT_THAT(Ids(FindingsOf({ok, refused}, {})), ::testing::Contains("token_expired"));
}

// A store written before schema version 4 (no jwt_aud, jwt_tid, events.close_reason) still reads:
// the new fields are empty, the rest as recorded.
TEST(TokenFindingTest, AStoreFromBeforeVersion4StillReads) {
  const std::string dir = recorder::testing::MakeTempDir("report_v3");
  recorder::RecorderOptions options;
  options.db_path = dir + "/relaytap.db";
  options.key_dir = dir + "/ca";
  options.relaytap_version = "test";
  ASSERT_NO_FATAL_FAILURE(testing::RecordExpiredTokenMix(options));
  {
    auto db = recorder::sqlite::Database::OpenOrCreate(options.db_path);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)
                    ->Execute("ALTER TABLE exchanges DROP COLUMN jwt_aud;"
                              "ALTER TABLE exchanges DROP COLUMN jwt_tid;"
                              "ALTER TABLE events DROP COLUMN close_reason;"
                              "UPDATE meta SET value = '3' WHERE key = 'schema_version'")
                    .ok());
  }
  auto reader = StoreReader::Open(options.db_path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<Attempt>> attempts = (*reader)->Attempts({});
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  ASSERT_EQ(attempts->size(), 5u);
  EXPECT_EQ(attempts->back().status, 401);
  EXPECT_EQ(attempts->back().jwt_exp, testing::kTokenExp);
  EXPECT_EQ(attempts->back().jwt_aud, "");
  EXPECT_EQ(attempts->back().jwt_tid, "");
  absl::StatusOr<Report> r = BuildReport(**reader, {}, absl::UTCTimeZone(), "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Ids(r->findings), ::testing::Contains("token_expired"));
}

TEST_F(ReportTest, NoTokenFindingOnTheKnownMix) {
  EXPECT_THAT(Ids(Build().findings), ::testing::Not(::testing::Contains("token_expired")));
}

TEST(AudioFingerprintsTest, OnlyAMixOfBothKindsIsAFinding) {
  EXPECT_FALSE(AudioFingerprintsFinding({}).has_value());
  EXPECT_FALSE(AudioFingerprintsFinding({.hmac_runs = 3, .siphash_runs = 0}).has_value());
  EXPECT_FALSE(AudioFingerprintsFinding({.hmac_runs = 0, .siphash_runs = 7}).has_value());
  std::optional<Finding> f = AudioFingerprintsFinding({.hmac_runs = 3, .siphash_runs = 7});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, "audio_fingerprints_mixed");
  EXPECT_THAT(f->evidence, HasSubstr("3 audio runs with hmac: fingerprints, 7 with siphash:"));
}

// A store this relaytap wrote has siphash: audio only; a run from an older relaytap (hmac:) in
// the same file makes the report say that the two kinds are not comparable.
TEST_F(ReportTest, AudioFingerprintsOfBothKindsInOneStoreAreAFinding) {
  absl::StatusOr<StoreReader::AudioFingerprintKinds> kinds = reader_->AudioFingerprints();
  ASSERT_TRUE(kinds.ok()) << kinds.status();
  EXPECT_EQ(kinds->hmac_runs, 0);
  EXPECT_THAT(Ids(Build().findings),
              ::testing::Not(::testing::Contains("audio_fingerprints_mixed")));
  reader_.reset();
  {
    auto db = recorder::sqlite::Database::OpenOrCreate(options_.db_path);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(
        (*db)
            ->Execute("INSERT INTO events (session_ref, seq, first_frame_us, direction, "
                      "opcode, run_count, run_fingerprint) SELECT session_ref, seq + 100000, "
                      "first_frame_us, direction, opcode, 2, 'siphash:0123456789ab' FROM "
                      "events LIMIT 1;"
                      "INSERT INTO events (session_ref, seq, first_frame_us, direction, "
                      "opcode, run_count, run_fingerprint) SELECT session_ref, seq + 200000, "
                      "first_frame_us, direction, opcode, 2, 'hmac:0123456789ab' FROM "
                      "events LIMIT 1")
            .ok());
  }
  auto reader = StoreReader::Open(options_.db_path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  reader_ = std::move(*reader);
  kinds = reader_->AudioFingerprints();
  ASSERT_TRUE(kinds.ok()) << kinds.status();
  EXPECT_EQ(kinds->hmac_runs, 1);
  EXPECT_GE(kinds->siphash_runs, 1);
  EXPECT_THAT(Ids(Build().findings), ::testing::Contains("audio_fingerprints_mixed"));
}

}  // namespace
}  // namespace relaytap::tools::report
