#include "recorder/call_facts.h"

#include "base/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/canary_sdp.h"

namespace relaytap::recorder {
namespace {

Exchange Post(std::string target, std::string content_type, std::string body) {
  Exchange ex;
  ex.method = "POST";
  ex.target = std::move(target);
  ex.request_body.content_type = std::move(content_type);
  ex.request_body.bytes = std::move(body);
  ex.request_body.total_bytes = ex.request_body.bytes.size();
  ex.request_start_us = 1'700'000'000'000'000;
  return ex;
}

void Answer(Exchange& ex, int status, std::string content_type, std::string body) {
  ex.status = status;
  ex.response_body.content_type = content_type;
  ex.response_headers.emplace_back("Content-Type", content_type);
  ex.response_body.bytes = std::move(body);
}

TEST(CallFactsTest, RecognisesSetUpsTokensAndNothingElse) {
  EXPECT_EQ(ClassifyCallEndpoint("POST", "/openai/v1/realtime/calls?webrtcfilter=on"),
            CallEndpoint::kCallSetup);
  EXPECT_EQ(ClassifyCallEndpoint("post", "/v1/realtime/calls"), CallEndpoint::kCallSetup);
  EXPECT_EQ(ClassifyCallEndpoint("POST", "https://api.openai.com/v1/realtime/calls"),
            CallEndpoint::kCallSetup);
  EXPECT_EQ(ClassifyCallEndpoint("POST", "/v1/realtimertc?model=gpt-4o-realtime-preview"),
            CallEndpoint::kPreviewRtc);
  EXPECT_EQ(ClassifyCallEndpoint("POST", "/openai/v1/realtime/client_secrets"),
            CallEndpoint::kClientSecret);
  EXPECT_EQ(ClassifyCallEndpoint("POST",
                                 "/openai/realtimeapi/sessions?api-version=2025-04-01-"
                                 "preview"),
            CallEndpoint::kPreviewSession);
  EXPECT_EQ(ClassifyCallEndpoint("POST", "/v1/realtime/sessions"), CallEndpoint::kBetaSession);
  // SIP call control and other methods are not set-ups.
  EXPECT_EQ(ClassifyCallEndpoint("POST", "/v1/realtime/calls/rtc_1/hangup"), CallEndpoint::kNone);
  EXPECT_EQ(ClassifyCallEndpoint("GET", "/v1/realtime/calls"), CallEndpoint::kNone);
  EXPECT_EQ(ClassifyCallEndpoint("POST", "/openai/v1/realtime"), CallEndpoint::kNone);
}

TEST(CallFactsTest, ReadsOfferAnswerCallIdAndToken) {
  Exchange ex =
      Post("/openai/v1/realtime/calls", "application/sdp", ::relaytap::testing::CanarySdp(true));
  ex.request_headers.emplace_back("Authorization", "Bearer ek_abc123");
  Answer(ex, 201, "application/sdp", ::relaytap::testing::CanarySdp(false));
  ex.response_headers.emplace_back("Location", "/v1/realtime/calls/rtc_u1AbC");
  const CallFacts c = ReadCallFacts(ex);
  EXPECT_EQ(c.request_format, "sdp");
  ASSERT_TRUE(c.offer && c.answer);
  EXPECT_EQ(c.offer->candidates.total, 4);
  EXPECT_EQ(c.answer->media[0].setup, "passive");
  EXPECT_EQ(c.call_id, "rtc_u1AbC");
  EXPECT_EQ(c.bearer_token, "ek_abc123");
  EXPECT_EQ(CallOutcomeName(ClassifyCall(ex, CorrelateExchange(ex), c, std::nullopt)), "answered");
}

TEST(CallFactsTest, MultipartOfferAndSessionModel) {
  const std::string body =
      StrCat("--XY\r\nContent-Disposition: form-data; name=\"sdp\"\r\n\r\n",
             ::relaytap::testing::CanarySdp(true),
             "\r\n--XY\r\nContent-Disposition: form-data; name=\"session\"\r\n\r\n"
             "{\"type\":\"realtime\",\"model\":\"gpt-realtime\"}\r\n--XY--\r\n");
  const CallFacts c =
      ReadCallFacts(Post("/v1/realtime/calls", "multipart/form-data; boundary=XY", body));
  EXPECT_EQ(c.request_format, "multipart");
  ASSERT_TRUE(c.offer);
  EXPECT_EQ(c.offer->media_total, 2);
  EXPECT_EQ(c.session_model, "gpt-realtime");
  EXPECT_FALSE(c.answer);
}

CallOutcome OutcomeOf(int status, std::string body, std::optional<int64_t> expires_at_us,
                      EndReason end = EndReason::kComplete) {
  Exchange ex = Post("/v1/realtime/calls", "application/sdp", "v=0\r\n");
  Answer(ex, status, "application/json", std::move(body));
  ex.end.reason = end;
  return ClassifyCall(ex, CorrelateExchange(ex), ReadCallFacts(ex), expires_at_us);
}

TEST(CallFactsTest, OutcomesFromStatusBodyTokenExpiryAndEnd) {
  const std::string invalid = R"({"error":{"code":"invalid_api_key","message":"Bad key."}})";
  const std::string expired = R"({"error":{"code":"token_expired","message":"x"}})";
  const int64_t start = 1'700'000'000'000'000;
  EXPECT_EQ(OutcomeOf(401, invalid, std::nullopt), CallOutcome::kTokenInvalid);
  EXPECT_EQ(OutcomeOf(401, expired, std::nullopt), CallOutcome::kTokenExpired);
  EXPECT_EQ(OutcomeOf(401, invalid, start - 1), CallOutcome::kTokenExpired);  // expiry passed
  EXPECT_EQ(OutcomeOf(403, invalid, start + 1), CallOutcome::kTokenInvalid);
  EXPECT_EQ(OutcomeOf(400, invalid, std::nullopt), CallOutcome::kRejected);
  EXPECT_EQ(OutcomeOf(429, "", std::nullopt), CallOutcome::kThrottled);
  EXPECT_EQ(OutcomeOf(503, "", std::nullopt), CallOutcome::kServerError);
  EXPECT_EQ(OutcomeOf(0, "", std::nullopt, EndReason::kUpstreamTimeout),
            CallOutcome::kSetupTimeout);
  EXPECT_EQ(OutcomeOf(0, "", std::nullopt, EndReason::kUpstreamResetBeforeResponse),
            CallOutcome::kSetupFailed);
  EXPECT_EQ(OutcomeOf(0, "", std::nullopt, EndReason::kGuardRejected), CallOutcome::kGuardRejected);
  EXPECT_EQ(CallOutcomeName(CallOutcome::kTokenExpired), "token_expired");
}

TEST(CallFactsTest, TokenFactsOfGaAndPreviewAnswers) {
  Exchange ga = Post("/openai/v1/realtime/client_secrets", "application/json", "{}");
  Answer(ga, 200, "application/json",
         R"({"value":"ek_1","expires_at":1700000600,"session":{"id":"sess_1","model":"m"}})");
  TokenFacts t = ReadTokenFacts(ga);
  EXPECT_EQ(t.token, "ek_1");
  EXPECT_EQ(t.expires_at_s, 1700000600);
  EXPECT_EQ(t.session_id, "sess_1");
  EXPECT_EQ(t.model, "m");
  Exchange preview = Post("/openai/realtimeapi/sessions", "application/json", "{}");
  Answer(preview, 200, "application/json",
         R"({"id":"sess_2","model":"d","client_secret":{"value":"ek_2","expires_at":7}})");
  t = ReadTokenFacts(preview);
  EXPECT_EQ(t.token, "ek_2");
  EXPECT_EQ(t.expires_at_s, 7);
  EXPECT_EQ(t.session_id, "sess_2");
  Answer(preview, 500, "application/json", "{\"value\":\"ek_3\"}");
  EXPECT_EQ(ReadTokenFacts(preview).token, "");  // a failed issuance issued nothing
}

TEST(CallFactsTest, SidebandCallIdOnlyOnUpgrades) {
  Exchange ws;
  ws.method = "GET";
  ws.target = "/openai/v1/realtime?call_id=rtc_9z";
  EXPECT_EQ(SidebandCallId(ws), "");
  ws.websocket_upgrade = true;
  EXPECT_EQ(SidebandCallId(ws), "rtc_9z");
}

}  // namespace
}  // namespace relaytap::recorder
