#include "recorder/correlator.h"

#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "recorder/local_checks.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder {
namespace {

TEST(CorrelatorTest, ParsesAzureResourceFromEveryHostForm) {
  EXPECT_EQ(ParseHost("contoso.openai.azure.com").resource, "contoso");
  EXPECT_EQ(ParseHost("Contoso.OpenAI.Azure.com:443").resource, "contoso");
  EXPECT_EQ(ParseHost("fab.cognitiveservices.azure.com").resource, "fab");
  EXPECT_EQ(ParseHost("aif.services.ai.azure.com").resource, "aif");
  EXPECT_FALSE(ParseHost("api.openai.com").azure);
  EXPECT_EQ(ParseHost("api.openai.com").resource, "");
}

TEST(CorrelatorTest, ParsesPathKindsDeploymentAndApiVersion) {
  PathFacts ga = ParsePath("r.openai.azure.com", "/openai/v1/realtime?model=gpt-realtime");
  EXPECT_EQ(ga.kind, "ga_v1");
  EXPECT_EQ(ga.model, "gpt-realtime");
  EXPECT_EQ(ga.deployment, "gpt-realtime");  // on Azure's GA path, model names the deployment
  PathFacts pv = ParsePath("r.openai.azure.com",
                           "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-4o-rt");
  EXPECT_EQ(pv.kind, "preview");
  EXPECT_EQ(pv.api_version, "2025-04-01-preview");
  EXPECT_EQ(pv.deployment, "gpt-4o-rt");
  PathFacts dep = ParsePath("r.openai.azure.com",
                            "/openai/deployments/my%20dep/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(dep.kind, "deployments");
  EXPECT_EQ(dep.deployment, "my dep");
  EXPECT_EQ(dep.api_version, "2024-10-21");
  PathFacts oai = ParsePath("api.openai.com", "/v1/realtime?model=gpt-4o-realtime-preview");
  EXPECT_EQ(oai.kind, "openai_v1");
  EXPECT_EQ(oai.model, "gpt-4o-realtime-preview");
  EXPECT_EQ(oai.deployment, "");  // OpenAI has no deployments
  EXPECT_EQ(ParsePath("x", "/health").kind, "other");
}

TEST(CorrelatorTest, ExchangeFactsCarryCorrelationIdsAndAuthKindsButNoSecret) {
  Exchange ex = testing::RealtimeUpgrade(1, 1'752'566'400'000'000, "KEY1", "QKEY", "SUBKEY");
  ExchangeFacts f = CorrelateExchange(ex);
  EXPECT_EQ(f.host.resource, "contoso-eus2");
  EXPECT_EQ(f.transport, "websocket_upgrade");
  EXPECT_EQ(f.apim_request_id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(f.x_request_id, "req-7f3e");
  EXPECT_EQ(f.region, "East US 2");
  EXPECT_EQ(f.x_ms_client_request_id, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(f.auth_kind, "api_key_header,query_key,subprotocol_key");
  EXPECT_EQ(f.user_agent, "OpenAI/Python 1.99.0");
  EXPECT_EQ(f.outcome, Outcome::kOk);
}

std::string B64Url(const std::string& s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : s) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(a[(acc >> bits) & 63]);
    }
  }
  if (bits) out.push_back(a[(acc << (6 - bits)) & 63]);
  return out;
}

TEST(CorrelatorTest, JwtTimesAndSkewAgainstUpstreamDate) {
  std::string jwt = "eyJhbGciOiJIUzI1NiJ9." +
                    B64Url(R"({"iat":1752566000,"nbf":1752566000,"exp":1752569600,"sub":"x"})") +
                    ".sig";
  Exchange ex;
  ex.host = "api.openai.com";
  ex.target = "/v1/responses";
  ex.request_headers = {{"Authorization", "Bearer " + jwt},
                        {"x-stainless-retry-count", "2"},
                        {"X-Stainless-Lang", "python"}};
  ex.status = 200;
  ex.response_headers = {{"date", "Tue, 15 Jul 2025 08:00:00 GMT"}};  // 1752566400
  ex.request_start_us = 1752566402'000'000;
  ex.response_headers_us = 1752566402'500'000;
  ExchangeFacts f = CorrelateExchange(ex);
  EXPECT_EQ(f.auth_kind, "bearer_jwt");
  EXPECT_EQ(f.jwt.exp, 1752569600);
  EXPECT_EQ(f.jwt.iat, 1752566000);
  EXPECT_EQ(f.upstream_date_us, int64_t{1752566400} * 1000000);
  EXPECT_EQ(f.clock_skew_ms, 2500);
  EXPECT_EQ(f.token_ttl_s, 3200);
  EXPECT_EQ(f.retry_count, 2);
  EXPECT_EQ(f.stainless_lang, "python");
  EXPECT_EQ(f.path.kind, "openai_v1");
}

TEST(CorrelatorTest, AuthKindsForBearerVariants) {
  Exchange ex;
  ex.request_headers = {{"Authorization", "Bearer ek_abc123"}};
  EXPECT_EQ(CorrelateExchange(ex).auth_kind, "bearer_ephemeral");
  ex.request_headers = {{"Authorization", "Bearer sk-proj-xyz"}};
  EXPECT_EQ(CorrelateExchange(ex).auth_kind, "bearer_key");
  ex.request_headers = {};
  EXPECT_EQ(CorrelateExchange(ex).auth_kind, "none");
}

TEST(CorrelatorTest, ErrorBodyAndThrottleHeaders) {
  Exchange ex;
  ex.status = 429;
  ex.response_headers = {{"retry-after-ms", "1500"}, {"x-ratelimit-remaining-requests", "0"}};
  ex.response_body.content_type = "application/json";
  ex.response_body.bytes = R"({"error":{"code":"429","message":"Rate limit","type":null}})";
  ExchangeFacts f = CorrelateExchange(ex);
  EXPECT_EQ(f.outcome, Outcome::kThrottled429);
  EXPECT_EQ(f.retry_after_ms, "1500");
  EXPECT_EQ(f.error_code, "429");
  EXPECT_EQ(f.ratelimit_json, R"({"x-ratelimit-remaining-requests":"0"})");
}

// relaytap probe's https stage is `GET /` with its User-Agent; nothing else is taken for it.
TEST(CorrelatorTest, OnlyTheProbesGetOfTheRootIsItsTransportCheck) {
  auto exchange = [](std::string method, std::string target, std::string user_agent) {
    Exchange ex;
    ex.method = std::move(method);
    ex.host = "contoso.openai.azure.com";
    ex.target = std::move(target);
    ex.request_headers = {{"User-Agent", std::move(user_agent)}};
    ex.status = 404;
    ex.end.reason = EndReason::kComplete;
    return ex;
  };
  const std::string probe(kProbeUserAgent);
  EXPECT_TRUE(IsProbeTransportCheck(exchange("GET", "/", probe)));
  EXPECT_TRUE(IsProbeTransportCheck(exchange("GET", "https://contoso.openai.azure.com/", probe)));
  EXPECT_TRUE(IsProbeTransportCheck(exchange("GET", "http://contoso.openai.azure.com", probe)));
  EXPECT_FALSE(IsProbeTransportCheck(exchange("GET", "/?api-version=1", probe)));
  EXPECT_FALSE(IsProbeTransportCheck(exchange("GET", "/openai/v1/realtime", probe)));
  EXPECT_FALSE(IsProbeTransportCheck(exchange("POST", "/", probe)));
  EXPECT_FALSE(IsProbeTransportCheck(exchange("GET", "/", "python-httpx/0.27")));
  EXPECT_FALSE(IsProbeTransportCheck(exchange("GET", "/", probe + "/2")));
  Exchange upgrade = exchange("GET", "/", probe);
  upgrade.websocket_upgrade = true;
  EXPECT_FALSE(IsProbeTransportCheck(upgrade));

  // Its 404 is the answer that proves the path; the same 404 to an app is a client error.
  const ExchangeFacts check = CorrelateExchange(exchange("GET", "/", probe));
  EXPECT_EQ(check.outcome, Outcome::kOk);
  EXPECT_EQ(check.transport, "probe_check");
  const ExchangeFacts app = CorrelateExchange(exchange("GET", "/", "python-httpx/0.27"));
  EXPECT_EQ(app.outcome, Outcome::kClientError4xx);
  EXPECT_EQ(app.transport, "http");

  // What relaytap answered on its self-check host is marked by the proxy, whatever was asked.
  Exchange self_check = exchange("GET", "/", "curl/7.88.1");
  self_check.self_check = true;
  self_check.websocket_upgrade = true;
  EXPECT_EQ(CorrelateExchange(self_check).transport, "self_check");
}

TEST(CorrelatorTest, TargetPathOfEveryRequestForm) {
  EXPECT_EQ(TargetPath("/openai/v1/realtime?model=m"), "/openai/v1/realtime");
  EXPECT_EQ(TargetPath("/a#frag"), "/a");
  EXPECT_EQ(TargetPath("https://contoso.openai.azure.com/openai/v1/x?y=1"), "/openai/v1/x");
  EXPECT_EQ(TargetPath("http://contoso.openai.azure.com"), "/");
  EXPECT_EQ(TargetPath("/"), "/");
}

TEST(CorrelatorTest, SseResponseFailedIsClassified) {
  Exchange ex;
  ex.status = 200;
  ex.sse_events = {{1, "response.failed",
                    R"({"type":"response.failed","response":{"status":"failed",)"
                    R"("error":{"code":"server_error"}}})"}};
  ExchangeFacts f = CorrelateExchange(ex);
  EXPECT_EQ(f.transport, "sse");
  EXPECT_EQ(f.outcome, Outcome::kResponseFailed);
  EXPECT_EQ(f.error_code, "server_error");
}

TEST(CorrelatorTest, MessageIdsSessionAndAudio) {
  using testing::Text;
  auto dir = WsDirection::kServerToClient;
  MessageFacts s = CorrelateMessage(
      Text(1, 1, dir, 1,
           R"({"type":"session.created","event_id":"event_1",)"
           R"("session":{"id":"sess_ABC","model":"gpt-4o-realtime-preview","instructions":"x"}})"));
  EXPECT_EQ(s.type, "session.created");
  EXPECT_EQ(s.session_id, "sess_ABC");
  EXPECT_EQ(s.model, "gpt-4o-realtime-preview");
  std::string audio = testing::Base64(4800, 'a');
  MessageFacts a = CorrelateMessage(
      Text(1, 2, dir, 2,
           R"({"type":"response.output_audio.delta","event_id":"event_2","response_id":"resp_1",)"
           R"("item_id":"item_1","output_index":0,"content_index":0,"delta":")" +
               audio + "\"}"));
  EXPECT_EQ(a.response_id, "resp_1");
  EXPECT_EQ(a.item_id, "item_1");
  EXPECT_EQ(a.audio_bytes, 4800);
  EXPECT_DOUBLE_EQ(*a.audio_ms, 100.0);
  MessageFacts e = CorrelateMessage(
      Text(1, 3, dir, 3,
           R"({"type":"error","event_id":"event_3","error":{"type":"invalid_request_error",)"
           R"("code":"invalid_event","message":"m","event_id":"evt_9"}})"));
  EXPECT_EQ(e.failure, Outcome::kErrorEvent);
  EXPECT_EQ(e.error_code, "invalid_event");
  EXPECT_EQ(e.error_event_id, "evt_9");
  MessageFacts d = CorrelateMessage(Text(
      1, 4, dir, 4,
      R"({"type":"response.done","event_id":"event_4","response":{"id":"resp_1","status":"failed",)"
      R"("status_details":{"type":"failed","error":{"type":"server_error","code":null}}}})"));
  EXPECT_EQ(d.failure, Outcome::kResponseFailed);
  EXPECT_EQ(d.response_id, "resp_1");
  EXPECT_EQ(d.status_error_type, "server_error");
  MessageFacts t =
      CorrelateMessage(Text(1, 5, dir, 5, R"({"type":"response.audio.delta","delta":"AAAA)"));
  EXPECT_FALSE(t.json);
  EXPECT_EQ(t.type, "response.audio.delta");
}

// Long clean strings are cut out before parsing (redact/json_holes.h); facts read from them must
// be the original text, and the audio size is that of the original delta.
TEST(CorrelatorTest, FactsFromLongStringsAreTheOriginalText) {
  using testing::Text;
  const std::string long_id = "evt_" + std::string(300, 'x');
  const std::string audio = testing::Base64(9000, 'z');
  redact::ParsedJson doc;
  MessageFacts f = CorrelateMessage(Text(1, 1, WsDirection::kClientToServer, 1,
                                         R"({"type":"input_audio_buffer.append","event_id":")" +
                                             long_id + R"(","audio":")" + audio + "\"}"),
                                    &doc);
  EXPECT_EQ(f.event_id, long_id);
  EXPECT_EQ(f.audio_bytes, 9000);
  EXPECT_EQ(doc.holes.size(), 2u);
}

// The audio size of a cut-out string comes from the count the hole scan made; it must equal
// Base64DecodedSize of the text (a second pass) for every clean string: any printable byte mix,
// lengths across 16-byte steps and across the 255-step counter fold, padding, spaces.
TEST(CorrelatorTest, AudioSizeOfCutOutStringsEqualsBase64DecodedSize) {
  using testing::Text;
  std::mt19937 rng(99);
  const std::string mostly_b64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
  size_t cut = 0;
  for (int round = 0; round < 400; ++round) {
    size_t len = 120 + rng() % 600;
    if (round % 10 == 0) len = 4070 + rng() % 40;  // around 255 blocks of 16
    if (round % 10 == 1) len = 8000 + rng() % 200;
    std::string audio(len, 'A');
    for (char& c : audio) {
      // Mostly alphabet, else any printable byte other than '"' and '\' (still clean).
      if (rng() % 8 == 0) {
        do {
          c = static_cast<char>(0x20 + rng() % 95);
        } while (c == '"' || c == '\\');
      } else {
        c = mostly_b64[rng() % mostly_b64.size()];
      }
    }
    if (round % 3 == 0) audio += "==";
    for (const char* type : {"input_audio_buffer.append", "response.output_audio.delta"}) {
      const char* field = std::string_view(type) == "input_audio_buffer.append" ? "audio" : "delta";
      redact::ParsedJson doc;
      const MessageFacts f = CorrelateMessage(
          Text(1, 1, WsDirection::kClientToServer, 1,
               std::string(R"({"type":")") + type + R"(",")" + field + R"(":")" + audio + "\"}"),
          &doc);
      ASSERT_EQ(f.audio_bytes, Base64DecodedSize(audio)) << "length " << audio.size();
      cut += doc.holes.size();
    }
  }
  EXPECT_GT(cut, 700u);  // the counted path, not the fallback
}

}  // namespace
}  // namespace relaytap::recorder
