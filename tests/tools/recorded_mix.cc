#include "tests/tools/recorded_mix.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "tests/recorder/test_util.h"

namespace relaytap::testing {

using recorder::ConnectionClosed;
using recorder::ConnectionOpened;
using recorder::EndFacts;
using recorder::EndReason;
using recorder::Exchange;
using recorder::Sink;
using recorder::WsDirection;
using recorder::testing::Text;

namespace {
constexpr auto kMixUp = WsDirection::kClientToServer;
constexpr auto kMixDown = WsDirection::kServerToClient;

}  // namespace

// A realtime session on `conn` opened at t0: session.created after 50 ms, response.create at
// 100 ms, the first audio delta at 400 ms, response.done (completed or failed) with 120 tokens.
void SubmitSession(Sink& sink, uint64_t conn, int64_t t0, bool fail) {
  sink.TrySubmit(ConnectionOpened{conn, t0, "127.0.0.1:5000", "contoso-eus2.openai.azure.com", 443,
                                  true, false});
  sink.TrySubmit(recorder::testing::RealtimeUpgrade(conn, t0, "k", "q", "s"));
  // RealtimeUpgrade answers 101 after 80 ms; the session's clock starts there.
  const int64_t open = t0 + 80'000;
  sink.TrySubmit(Text(conn, 1, kMixDown, open + 50'000,
                      R"({"type":"session.created","event_id":"event_1","session":{"id":"sess_)" +
                          std::to_string(conn) + R"("}})"));
  sink.TrySubmit(Text(conn, 2, kMixUp, open + 100'000, R"({"type":"response.create"})"));
  sink.TrySubmit(
      Text(conn, 3, kMixDown, open + 400'000,
           R"({"type":"response.output_audio.delta","response_id":"resp_1","delta":"AAAA"})"));
  // A failed response carries Azure's error in status_details.
  const std::string status =
      fail ? R"("failed","status_details":{"type":"failed","error":{"type":"server_error",)"
             R"("message":"The server had an error while processing your request."}})"
           : R"("completed")";
  sink.TrySubmit(Text(conn, 4, kMixDown, open + 900'000,
                      R"({"type":"response.done","response":{"id":"resp_1","status":)" + status +
                          R"(,"usage":{"total_tokens":120}}})"));
  sink.TrySubmit(recorder::testing::Closed(conn, open + 1'000'000));
  ConnectionClosed cc;
  cc.connection_id = conn;
  cc.close_us = open + 1'010'000;
  cc.end = EndFacts{.reason = EndReason::kRelayEnded, .up_ended_first = true, .websocket = true};
  sink.TrySubmit(std::move(cc));
}

// An upgrade Azure answered 429; the SDK said it was its first retry.
void SubmitThrottledUpgrade(Sink& sink, uint64_t conn, int64_t t0) {
  sink.TrySubmit(ConnectionOpened{conn, t0, "127.0.0.1:5001", "contoso-eus2.openai.azure.com", 443,
                                  true, false});
  Exchange ex = recorder::testing::RealtimeUpgrade(conn, t0, "k", "q", "s");
  ex.request_headers.emplace_back("x-stainless-retry-count", "1");
  ex.status = 429;
  ex.switched = false;
  ex.response_headers = {{"x-ms-region", "East US 2"}, {"retry-after-ms", "800"}};
  ex.response_headers_us = t0 + 30'000;
  ex.end_us = t0 + 31'000;
  ex.end.reason = EndReason::kComplete;
  sink.TrySubmit(std::move(ex));
}

void SubmitHttpExchange(Sink& sink, uint64_t conn, int64_t t0) {
  sink.TrySubmit(ConnectionOpened{conn, t0, "127.0.0.1:5002", "contoso-eus2.openai.azure.com", 443,
                                  true, false});
  Exchange ex;
  ex.connection_id = conn;
  ex.sequence = 1;
  ex.method = "POST";
  ex.host = "contoso-eus2.openai.azure.com";
  ex.target = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
  ex.request_headers = {{"Host", ex.host}, {"User-Agent", "curl/7.88"}};
  ex.status = 200;
  ex.response_headers = {{"x-ms-region", "Sweden Central"}, {"content-type", "application/json"}};
  ex.request_start_us = t0;
  ex.response_headers_us = t0 + 200'000;
  ex.end_us = t0 + 250'000;
  ex.end.reason = EndReason::kComplete;
  sink.TrySubmit(std::move(ex));
}

void RecordKnownMix(const recorder::RecorderOptions& options) {
  auto rec = recorder::Recorder::Open(options);
  ASSERT_TRUE(rec.ok()) << rec.status();
  SubmitSession(**rec, 1, kT0 + 60'000'000, /*fail=*/false);         // 08:01
  SubmitSession(**rec, 2, kT0 + 120'000'000, /*fail=*/false);        // 08:02
  SubmitSession(**rec, 3, kT0 + kHour + 60'000'000, /*fail=*/true);  // 09:01
  SubmitThrottledUpgrade(**rec, 4, kT0 + kHour + 120'000'000);       // 09:02
  SubmitHttpExchange(**rec, 5, kT0 + kHour + 180'000'000);           // 09:03
  ASSERT_TRUE((*rec)->Close().ok());
  EXPECT_EQ((*rec)->stats().dropped, 0u);
}

namespace {

// A realtime upgrade on `conn` at t0 with the Entra ID token: 101 (and a session closed at once),
// or 401 with Azure's error body.
void SubmitTokenUpgrade(Sink& sink, uint64_t conn, int64_t t0, int status) {
  static const std::string token = recorder::testing::UnsignedJwt(
      R"({"aud":"https://cognitiveservices.azure.com","tid":")" + std::string(kTokenTenant) +
      R"(","iat":)" + std::to_string(kTokenExp - 3600) + R"(,"exp":)" + std::to_string(kTokenExp) +
      "}");
  Exchange ex = recorder::testing::RealtimeUpgrade(conn, t0, "", "", "");
  ex.target = "/openai/v1/realtime?model=gpt-realtime";
  ex.request_headers = {{"Host", ex.host},
                        {"Upgrade", "websocket"},
                        {"Authorization", "Bearer " + token},
                        {"User-Agent", "OpenAI/Python 1.99.0"}};
  if (status != 101) {
    ex.status = status;
    ex.switched = false;
    ex.end.reason = EndReason::kComplete;
    ex.response_body = {"application/json", 0,
                        R"({"error":{"code":"401","message":"Unauthorized. Access token is )"
                        R"(missing, invalid, audience is incorrect, or have expired."}})",
                        false};
  }
  const bool switched = ex.switched;
  sink.TrySubmit(std::move(ex));
  if (switched) sink.TrySubmit(recorder::testing::Closed(conn, t0 + 500'000));
}

}  // namespace

void RecordExpiredTokenMix(const recorder::RecorderOptions& options) {
  auto rec = recorder::Recorder::Open(options);
  ASSERT_TRUE(rec.ok()) << rec.status();
  SubmitTokenUpgrade(**rec, 1, kT0 + 10 * int64_t{60'000'000}, 101);  // 08:10
  SubmitTokenUpgrade(**rec, 2, kT0 + 50 * int64_t{60'000'000}, 101);  // 08:50
  SubmitTokenUpgrade(**rec, 3, kT0 + kHour + 2'000'000, 401);         // 09:00:02
  SubmitTokenUpgrade(**rec, 4, kT0 + kHour + 5'000'000, 401);         // 09:00:05
  SubmitTokenUpgrade(**rec, 5, kT0 + kHour + 9'000'000, 401);         // 09:00:09
  ASSERT_TRUE((*rec)->Close().ok());
  EXPECT_EQ((*rec)->stats().dropped, 0u);
}

}  // namespace relaytap::testing
