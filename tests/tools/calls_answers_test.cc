// WebRTC calls in the answers from the store: a token issuance and three call set-ups (answered
// with a sideband session, refused for an expired token, a 5xx) written by the real recorder,
// then read by StoreReader::Calls, `stats`, `report` and `diff`, and kept by prune and export.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/str_cat.h"
#include "recorder/recorder.h"
#include "recorder/store_edit.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/canary_sdp.h"
#include "tests/tools/recorded_mix.h"
#include "tools/diff/diff.h"
#include "tools/report/html.h"
#include "tools/report/report.h"
#include "tools/stats/stats.h"

namespace relaytap::tools {
namespace {

using recorder::Exchange;
using recorder::query::StoreReader;
using relaytap::testing::kT0;

Exchange Post(uint64_t conn, int64_t t0, std::string target, std::string content_type,
              std::string body, std::string token) {
  Exchange ex;
  ex.connection_id = conn;
  ex.sequence = 1;
  ex.method = "POST";
  ex.host = "contoso.openai.azure.com";
  ex.target = std::move(target);
  ex.request_headers = {{"Authorization", StrCat("Bearer ", token)},
                        {"Content-Type", content_type}};
  ex.request_body = {content_type, body.size(), body, false};
  ex.request_start_us = t0;
  ex.response_headers_us = t0 + 80'000;
  ex.end_us = t0 + 90'000;
  ex.end.reason = recorder::EndReason::kComplete;
  return ex;
}

void Respond(Exchange& ex, int status, std::string content_type, std::string body) {
  ex.status = status;
  ex.response_headers = {{"Content-Type", content_type},
                         {"apim-request-id", StrCat("req-", ex.connection_id)}};
  ex.response_body = {content_type, body.size(), body, false};
}

class CallsAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = recorder::testing::MakeTempDir("calls_answers");
    options_.db_path = dir_ + "/relaytap.db";
    options_.key_dir = dir_ + "/ca";
    options_.batch_interval = absl::Milliseconds(10);
    auto rec = recorder::Recorder::Open(options_);
    ASSERT_TRUE(rec.ok()) << rec.status();
    Exchange token = Post(1, kT0, "/openai/v1/realtime/client_secrets", "application/json",
                          R"({"session":{"type":"realtime","model":"gpt-realtime"}})", "ignored");
    token.request_headers = {{"api-key", "0123456789abcdef0123456789abcdef"}};
    Respond(token, 200, "application/json",
            StrCat(R"({"value":"ek_calls1","expires_at":)", kT0 / 1'000'000 + 60,
                   R"(,"session":{"id":"sess_1","model":"gpt-realtime"}})"));
    ASSERT_TRUE((*rec)->TrySubmit(std::move(token)));
    Exchange answered = Post(2, kT0 + 1'000'000, "/openai/v1/realtime/calls", "application/sdp",
                             testing::CanarySdp(true), "ek_calls1");
    Respond(answered, 201, "application/sdp", testing::CanarySdp(false));
    answered.response_headers.emplace_back("Location", "/v1/realtime/calls/rtc_answered1");
    ASSERT_TRUE((*rec)->TrySubmit(std::move(answered)));
    Exchange sideband = recorder::testing::RealtimeUpgrade(3, kT0 + 2'000'000, "k", "q", "s");
    sideband.target = "/openai/v1/realtime?call_id=rtc_answered1";
    ASSERT_TRUE((*rec)->TrySubmit(std::move(sideband)));
    ASSERT_TRUE((*rec)->TrySubmit(recorder::testing::Text(
        3, 1, recorder::WsDirection::kServerToClient, kT0 + 2'100'000,
        R"({"type":"session.created","event_id":"event_1","session":{"id":"sess_9"}})")));
    ASSERT_TRUE((*rec)->TrySubmit(recorder::testing::Closed(3, kT0 + 3'000'000)));
    Exchange expired = Post(4, kT0 + 61'000'000, "/openai/v1/realtime/calls", "application/sdp",
                            testing::CanarySdp(true), "ek_calls1");
    Respond(expired, 401, "application/json",
            R"({"error":{"code":"invalid_api_key","message":"Unauthorized."}})");
    ASSERT_TRUE((*rec)->TrySubmit(std::move(expired)));
    Exchange broken = Post(5, kT0 + 62'000'000, "/v1/realtimertc?model=dep-rtc", "application/sdp",
                           testing::CanarySdp(true), "ek_other");
    Respond(broken, 503, "application/json", R"({"error":{"code":"503","message":"Busy."}})");
    ASSERT_TRUE((*rec)->TrySubmit(std::move(broken)));
    ASSERT_TRUE((*rec)->Close().ok());
  }

  std::unique_ptr<StoreReader> Reader() {
    auto reader = StoreReader::Open(options_.db_path);
    EXPECT_TRUE(reader.ok()) << reader.status();
    return reader.ok() ? std::move(*reader) : nullptr;
  }

  std::string dir_;
  recorder::RecorderOptions options_;
};

TEST_F(CallsAnswersTest, ReaderListsCallsWithTokenExpiryAndSideband) {
  auto reader = Reader();
  ASSERT_NE(reader, nullptr);
  auto calls = reader->Calls({});
  ASSERT_TRUE(calls.ok()) << calls.status();
  ASSERT_EQ(calls->size(), 3u);
  const auto& a = (*calls)[0];
  EXPECT_EQ(a.outcome, "answered");
  EXPECT_EQ(a.call_id, "rtc_answered1");
  EXPECT_EQ(a.deployment, "gpt-realtime");  // from the token's issuance
  EXPECT_EQ(a.sideband_sessions, 1);
  EXPECT_EQ(a.token_expired_before_call, false);
  EXPECT_EQ(a.apim_request_id, "req-2");
  EXPECT_EQ((*calls)[1].outcome, "token_expired");  // the recorded expiry had passed
  EXPECT_EQ((*calls)[1].token_expired_before_call, true);
  EXPECT_EQ((*calls)[2].outcome, "server_error");
  EXPECT_EQ((*calls)[2].deployment, "dep-rtc");
  EXPECT_FALSE((*calls)[2].token_expired_before_call.has_value());  // issuance not seen
  EXPECT_EQ(reader->Calls({.since_us = kT0 + 61'000'000, .until_us = {}})->size(), 2u);
}

TEST_F(CallsAnswersTest, StatsCountCallsBesideSessions) {
  auto reader = Reader();
  ASSERT_NE(reader, nullptr);
  stats::Stats s =
      stats::Compute(*reader->Attempts({}), stats::GroupBy::kHour, absl::UTCTimeZone());
  s.calls = stats::CountCalls(*reader->Calls({}));
  EXPECT_EQ(s.totals.sessions, 1);
  EXPECT_EQ(s.calls.calls, 3);
  EXPECT_EQ(s.calls.failed, 2);
  EXPECT_EQ(s.calls.with_sideband, 1);
  EXPECT_EQ(s.calls.token_expired_before_call, 1);
  const nlohmann::json j = nlohmann::json::parse(stats::FormatJson(s));
  EXPECT_EQ(j["calls"]["by_outcome"]["answered"], 1);
  EXPECT_EQ(j["calls"]["by_outcome"]["server_error"], 1);
  const std::string table = stats::FormatTable(s);
  EXPECT_NE(table.find("calls (WebRTC set-ups): 3 (answered 1, server_error 1, token_expired 1)"),
            std::string::npos)
      << table;
}

TEST_F(CallsAnswersTest, ReportHasACallsSectionAndTheTokenFinding) {
  auto reader = Reader();
  ASSERT_NE(reader, nullptr);
  auto r = report::BuildReport(*reader, {}, absl::UTCTimeZone(), "");
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string md = report::FormatMarkdown(*r, absl::UTCTimeZone());
  EXPECT_NE(md.find("## WebRTC calls (3)"), std::string::npos) << md;
  EXPECT_NE(md.find("rtc_answered1"), std::string::npos);
  EXPECT_NE(md.find("chrome://webrtc-internals"), std::string::npos);
  EXPECT_NE(md.find("**webrtc_token_expired**"), std::string::npos) << md;
  const nlohmann::json j =
      nlohmann::json::parse(report::FormatJson(*r, absl::UTCTimeZone()), nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["calls"]["calls"], 3);
  EXPECT_EQ(j["calls"]["set_ups"][1]["outcome"], "token_expired");
  const std::string html = report::FormatHtml(*r, absl::UTCTimeZone());
  EXPECT_NE(html.find("<h2>WebRTC calls (3)</h2>"), std::string::npos);
  EXPECT_NE(html.find("<td>token_expired</td>"), std::string::npos);
  for (std::string_view canary : testing::kSdpCanaries) {
    EXPECT_EQ(md.find(canary), std::string::npos) << canary;
    EXPECT_EQ(html.find(canary), std::string::npos) << canary;
  }
}

TEST_F(CallsAnswersTest, DiffComparesCallOutcomes) {
  auto reader = Reader();
  ASSERT_NE(reader, nullptr);
  auto profiles = reader->Profiles({});
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  auto good = diff::Selector::Parse("outcome=ok");
  auto bad = diff::Selector::Parse("outcome!=ok");
  ASSERT_TRUE(good.ok() && bad.ok());
  std::vector<recorder::query::Profile> g, b;
  for (const auto& p : *profiles) {
    if (good->Matches(p)) g.push_back(p);
    if (bad->Matches(p)) b.push_back(p);
  }
  const diff::DiffResult d = diff::Compare(g, b);
  EXPECT_EQ(d.good_calls, 1);
  EXPECT_EQ(d.bad_calls, 2);
  bool compared = false;
  for (const auto& x : d.differences) compared = compared || x.field == "webrtc_call";
  EXPECT_TRUE(compared);
  EXPECT_NE(diff::FormatTable(d).find("calls (WebRTC set-ups among them): good 1, bad 2"),
            std::string::npos);
}

TEST_F(CallsAnswersTest, PruneAndExportKeepCallsWithTheirRuns) {
  auto window = recorder::ExportWindow(options_.db_path, StrCat(dir_, "/late.db"), kT0 + 61'000'000,
                                       std::nullopt, false);
  ASSERT_TRUE(window.ok()) << window;
  EXPECT_EQ(recorder::testing::Query(StrCat(dir_, "/late.db"),
                                     "SELECT COUNT(*), SUM(token_ref IS NULL) FROM calls"),
            std::vector<std::string>{"2|2"});
  EXPECT_EQ(recorder::testing::Query(StrCat(dir_, "/late.db"), "SELECT COUNT(*) FROM call_tokens"),
            std::vector<std::string>{"0"});
  // The run stopped when the recorder closed (now): prune everything that stopped before an hour
  // from now.
  const int64_t later = absl::ToUnixMicros(absl::Now()) + relaytap::testing::kHour;
  auto pruned = recorder::PruneStore(options_.db_path, later, false);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(pruned->calls, 3);
  EXPECT_EQ(pruned->call_tokens, 1);
  EXPECT_EQ(recorder::testing::Query(options_.db_path, "SELECT COUNT(*) FROM calls"),
            std::vector<std::string>{"0"});
}

}  // namespace
}  // namespace relaytap::tools
