// Placeholder expansion and the session script derived from a recording.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "redact/fingerprint.h"
#include "redact/json_redactor.h"
#include "redact/policy.h"
#include "tools/replay/catalog.h"
#include "tools/replay/filler.h"
#include "tools/replay/plan.h"

namespace relaytap::tools::replay {
namespace {

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::Pair;

// Standard base64 decoding; returns false on any invalid character or padding.
bool DecodeBase64(const std::string& in, std::string* out) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (in.size() % 4 != 0) return false;
  out->clear();
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=') {
        if (i + 4 != in.size() || j < 2) return false;
        ++pad;
        v <<= 6;
        continue;
      }
      if (pad) return false;
      size_t k = kAlphabet.find(c);
      if (k == std::string::npos) return false;
      v = (v << 6) | static_cast<uint32_t>(k);
    }
    out->push_back(static_cast<char>(v >> 16));
    if (pad < 2) out->push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(v & 0xff));
  }
  return true;
}

std::string Redact(const std::string& text) {
  static const redact::Policy policy = *redact::Policy::Default();
  static const redact::Fingerprinter fp("0123456789abcdef0123456789abcdef");
  return redact::RedactJsonText(text, policy, fp);
}

TEST(FillerTest, SilenceIsValidBase64OfTheExactDecodedLength) {
  for (uint64_t n : {0u, 1u, 2u, 3u, 4u, 5u, 4608u, 4609u, 4610u}) {
    std::string b64 = SilenceBase64(n);
    std::string decoded;
    ASSERT_TRUE(DecodeBase64(b64, &decoded)) << n << ": " << b64;
    EXPECT_EQ(decoded, std::string(n, '\0')) << n;
    EXPECT_EQ(redact::Base64DecodedLength(b64), n);
  }
}

TEST(FillerTest, FillerHasTheExactLength) {
  for (uint64_t n : {0u, 1u, 22u, 23u, 24u, 1000u}) EXPECT_EQ(FillerText(n).size(), n);
}

TEST(FillerTest, RedactedAudioDeltaExpandsToSilenceOfTheRecordedLength) {
  std::string audio(6144, 'Q');  // 4608 decoded bytes
  std::string event = R"({"type":"response.output_audio.delta","response_id":"resp_1",)"
                      R"("item_id":"item_1","delta":")" +
                      audio + R"("})";
  std::string stored = Redact(event);
  ASSERT_THAT(stored, ::testing::HasSubstr(R"("redacted":"audio")"));
  Json out = Json::parse(ExpandStoredText(stored));
  EXPECT_EQ(out["type"], "response.output_audio.delta");
  EXPECT_EQ(out["response_id"], "resp_1");
  EXPECT_EQ(out["item_id"], "item_1");
  std::string decoded;
  ASSERT_TRUE(DecodeBase64(out["delta"].get<std::string>(), &decoded));
  EXPECT_EQ(decoded.size(), 4608u);
}

TEST(FillerTest, RedactedTextKeepsJsonShapeAndLengths) {
  std::string event =
      R"({"type":"response.done","event_id":"event_9","response":{"id":"resp_2",)"
      R"("status":"completed","output":[{"content":[{"transcript":"Hello there!"}]}],)"
      R"("usage":{"total_tokens":412},"metadata":{"a":"b"},"ok":true,"none":null}})";
  Json original = Json::parse(event);
  Json out = Json::parse(ExpandStoredText(Redact(event)));
  EXPECT_EQ(out["type"], original["type"]);
  EXPECT_EQ(out["event_id"], "event_9");
  EXPECT_EQ(out["response"]["id"], "resp_2");
  EXPECT_EQ(out["response"]["status"], "completed");
  EXPECT_EQ(out["response"]["usage"], original["response"]["usage"]);
  EXPECT_EQ(out["response"]["ok"], true);
  EXPECT_TRUE(out["response"]["none"].is_null());
  const Json& transcript = out["response"]["output"][0]["content"][0]["transcript"];
  ASSERT_TRUE(transcript.is_string());
  EXPECT_EQ(transcript.get<std::string>().size(), std::string("Hello there!").size());
  EXPECT_NE(transcript.get<std::string>(), "Hello there!");
  // An opaque subtree becomes a string whose serialization has the recorded length.
  EXPECT_EQ(out["response"]["metadata"].dump().size(),
            original["response"]["metadata"].dump().size());
}

TEST(FillerTest, NonJsonBodyShapeBecomesFillerOfItsLength) {
  EXPECT_EQ(ExpandStoredText(R"({"redacted":"body","content_type":"text/plain","len":7,"fp":"x"})"),
            FillerText(7));
  EXPECT_EQ(ExpandStoredText(R"({"total_bytes":90,"truncated":true,"sample":{}})").size(), 90u);
}

RecordedEvent Event(int64_t seq, int64_t at_us, bool from_client, int opcode, std::string type,
                    std::string payload = "") {
  RecordedEvent e;
  e.seq = seq;
  e.first_frame_us = at_us;
  e.from_client = from_client;
  e.opcode = opcode;
  e.type = std::move(type);
  e.payload = payload.empty() ? "{\"type\":\"" + e.type + "\"}" : std::move(payload);
  e.payload_bytes = static_cast<int64_t>(e.payload.size());
  return e;
}

TEST(PlanTest, ServerStepsWaitForThePrecedingClientMessageAndKeepGaps) {
  RecordedSession s;
  s.open_us = 1000;
  s.events = {Event(1, 1500, false, 1, "session.created"),
              Event(2, 3000, true, 1, "response.create"),
              Event(3, 3200, false, 1, "response.created"),
              Event(4, 9200, false, 1, "response.done"),
              Event(5, 9300, true, 10, ""),
              Event(6, 9500, true, 8, "")};
  s.events[5].close_code = 1000;
  s.close_side = "app";
  SessionScript script = BuildSessionScript(s);
  EXPECT_THAT(script.client_types, ElementsAre("response.create"));
  ASSERT_EQ(script.steps.size(), 3u);
  EXPECT_EQ(script.steps[0].after_client_messages, 0u);
  EXPECT_EQ(script.steps[0].delay_us, 500);
  EXPECT_EQ(script.steps[1].after_client_messages, 1u);
  EXPECT_EQ(script.steps[1].delay_us, 200);
  EXPECT_EQ(script.steps[2].after_client_messages, 1u);
  EXPECT_EQ(script.steps[2].delay_us, 6000);
  EXPECT_EQ(script.ending.kind, EndKind::kClientClose);
}

TEST(PlanTest, EndingFollowsTheRecording) {
  RecordedSession closed;
  closed.events = {Event(1, 10, false, 1, "session.created"), Event(2, 20, false, 8, "")};
  closed.events[1].close_code = 4001;
  closed.close_side = "upstream";
  closed.close_reason = "bye";
  SessionScript a = BuildSessionScript(closed);
  EXPECT_EQ(a.ending.kind, EndKind::kServerClose);
  EXPECT_EQ(a.ending.code, 4001);
  EXPECT_EQ(a.ending.reason, "bye");

  RecordedSession reset;
  reset.events = {Event(1, 10, false, 1, "session.created"),
                  Event(2, 20, true, 1, "input_audio_buffer.commit")};
  reset.upstream_end = "reset";
  reset.app_end = "sink_failed";
  SessionScript b = BuildSessionScript(reset);
  EXPECT_EQ(b.ending.kind, EndKind::kReset);
  EXPECT_EQ(b.ending.after_client_messages, 1u);
}

TEST(PlanTest, HeadersKeepOnlyVerbatimValuesAndNoFraming) {
  HeaderList h = {{"apim-request-id", "a1"},
                  {"Content-Length", "12"},
                  {"set-cookie", "hmac:0123456789ab"},
                  {"x-custom", "hmac:aaaaaaaaaaaa"},
                  {"Upgrade", "websocket"},
                  {"x-ms-region", "Sweden Central"}};
  EXPECT_THAT(ReplayableHeaders(h),
              ElementsAre(Pair("apim-request-id", "a1"), Pair("x-ms-region", "Sweden Central")));
}

TEST(PlanTest, TargetsMatchOnPathAndKeptQueryValues) {
  std::string rec = "/openai/v1/realtime?model=gpt-realtime&fail=hmac:0123456789ab";
  EXPECT_TRUE(TargetMatches(rec, "/openai/v1/realtime?model=gpt-realtime&fail=response"));
  EXPECT_TRUE(TargetMatches(rec, "/openai/v1/realtime?model=gpt-realtime"));
  EXPECT_FALSE(TargetMatches(rec, "/openai/v1/realtime?model=other"));
  EXPECT_FALSE(TargetMatches(rec, "/openai/realtime?model=gpt-realtime"));
  EXPECT_TRUE(TargetMatches("/a/hmac:0123456789ab/b", "/a/secret/b"));
}

TEST(PlanTest, SseStepsReplayDataAndTheFinalDone) {
  ReplayExchange x;
  x.sse_events =
      R"([{"at_us":100,"event":"","data":{"i":0,"type":"response.output_text.delta"}},)"
      R"({"at_us":300,"event":"","data":{"redacted":"body","content_type":"","len":6,"fp":"x"}}])";
  std::vector<SseStep> steps = BuildSseSteps(x);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].at_us, 100);
  EXPECT_EQ(steps[0].text, "data: {\"i\":0,\"type\":\"response.output_text.delta\"}\n\n");
  EXPECT_EQ(steps[1].text, "data: [DONE]\n\n");
}

ReplayExchange Exchange(int64_t id, std::string method, std::string path, std::string transport,
                        int64_t at_us) {
  ReplayExchange x;
  x.id = id;
  x.method = std::move(method);
  x.path = std::move(path);
  x.transport = std::move(transport);
  x.request_start_us = at_us;
  return x;
}

TEST(CatalogTest, RequestsTakeRecordingsInRecordedOrderThenReuseTheLast) {
  std::vector<RecordedSession> sessions(2);
  sessions[0].id = 1;
  sessions[0].open_us = 200;
  sessions[0].upgrade =
      Exchange(10, "GET", "/openai/v1/realtime?model=m", "websocket_upgrade", 200);
  sessions[1].id = 2;
  sessions[1].open_us = 100;
  sessions[1].upgrade =
      Exchange(11, "GET", "/openai/v1/realtime?model=m", "websocket_upgrade", 100);
  std::vector<ReplayExchange> exchanges = {
      Exchange(12, "GET", "/status/503", "websocket_upgrade", 50),
      Exchange(13, "POST", "/openai/v1/responses", "sse", 300)};
  Catalog catalog(sessions, exchanges);
  EXPECT_EQ(catalog.ForUpgrade("/openai/v1/realtime?model=m").session, &sessions[1]);
  EXPECT_EQ(catalog.ForUpgrade("/openai/v1/realtime?model=m").session, &sessions[0]);
  EXPECT_EQ(catalog.ForUpgrade("/openai/v1/realtime?model=m").session, &sessions[0]);
  EXPECT_EQ(catalog.ForUpgrade("/status/503").exchange, &exchanges[0]);
  Catalog::Pick none = catalog.ForUpgrade("/openai/v1/realtime?model=other");
  EXPECT_EQ(none.session, nullptr);
  EXPECT_EQ(none.exchange, nullptr);
  // Plain requests never get a session or a refused upgrade, and the method must match.
  EXPECT_EQ(catalog.ForRequest("GET", "/status/503").exchange, nullptr);
  EXPECT_EQ(catalog.ForRequest("GET", "/openai/v1/responses").exchange, nullptr);
  EXPECT_EQ(catalog.ForRequest("POST", "/openai/v1/responses").exchange, &exchanges[1]);
}

}  // namespace
}  // namespace relaytap::tools::replay
