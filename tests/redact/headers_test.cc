#include "redact/headers.h"

#include <string>

#include "gtest/gtest.h"
#include "redact/subprotocol.h"
#include "redact/url.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using testing::Contains;

class HeadersTest : public ::testing::Test {
 protected:
  const Policy& policy_ = testing::DefaultPolicy();
  const Fingerprinter& fp_ = testing::TestFingerprinter();
};

TEST_F(HeadersTest, SecretsAreFingerprintedAndStructuralHeadersKept) {
  const HeaderList in = {
      {"api-key", "0123456789abcdef0123456789abcdefCANARY"},
      {"Authorization", "Bearer sk-CANARYabcdefghijklmnopqrst"},
      {"Cookie", "session=CANARY; other=x"},
      {"X-Unknown-Thing", "CANARY-unknown"},
      {"OpenAI-Safety-Identifier", "user-CANARY"},
      {"x-stainless-retry-count", "2"},
      {"apim-request-id", "b8a8ab0f-6a0b-4d6e-9e1f-0c3a2c1d2e3f"},
      {"X-RateLimit-Remaining-Tokens", "49950"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
  };
  const HeaderList out = RedactHeaders(in, policy_, fp_);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].first, in[i].first);  // names kept, in order
    EXPECT_FALSE(Contains(out[i].second, "CANARY")) << out[i].first << ": " << out[i].second;
  }
  EXPECT_EQ(out[0].second, fp_.Of("0123456789abcdef0123456789abcdefCANARY"));
  EXPECT_EQ(out[1].second, "Bearer " + fp_.Of("sk-CANARYabcdefghijklmnopqrst"));
  EXPECT_EQ(out[5].second, "2");
  EXPECT_EQ(out[6].second, "b8a8ab0f-6a0b-4d6e-9e1f-0c3a2c1d2e3f");
  EXPECT_EQ(out[7].second, "49950");
  EXPECT_EQ(out[8].second, fp_.Of("dGhlIHNhbXBsZSBub25jZQ=="));
}

TEST_F(HeadersTest, SecretListWinsOverAUserKeepList) {
  Policy p = policy_;
  ASSERT_TRUE(p.Extend(R"({"keep_headers": ["authorization", "api-*"]})").ok());
  EXPECT_EQ(RedactHeaderValue("API-Key", "k-CANARY", p, fp_), fp_.Of("k-CANARY"));
  EXPECT_EQ(RedactHeaderValue("authorization", "Bearer t", p, fp_), "Bearer " + fp_.Of("t"));
}

TEST_F(HeadersTest, SameKeyGivesSameFingerprintInHeaderQueryAndSubprotocol) {
  const std::string key = "sk-CANARYabcdefghijklmnopqrst";
  const std::string h = RedactHeaderValue("api-key", key, policy_, fp_);
  const std::string q = RedactTarget("/v1/realtime?api-key=" + key, policy_, fp_);
  const std::string s = RedactSubprotocols("realtime, openai-insecure-api-key." + key, fp_);
  const std::string b = RedactHeaderValue("Authorization", "Bearer " + key, policy_, fp_);
  EXPECT_TRUE(Contains(q, h)) << q;
  EXPECT_TRUE(Contains(s, h)) << s;
  EXPECT_TRUE(Contains(b, h)) << b;
}

TEST_F(HeadersTest, SubprotocolsKeepDialectAndHideKey) {
  const std::string out = RedactSubprotocols(
      "realtime, openai-insecure-api-key.sk-CANARYabcdefghijklmnopqrst, openai-beta.realtime-v1",
      fp_);
  EXPECT_EQ(out, "realtime, openai-insecure-api-key." + fp_.Of("sk-CANARYabcdefghijklmnopqrst") +
                     ", openai-beta.realtime-v1");
  EXPECT_EQ(RedactHeaderValue("Sec-WebSocket-Protocol", "realtime,  CANARY-token,", policy_, fp_),
            "realtime, " + fp_.Of("CANARY-token"));
  EXPECT_FALSE(
      Contains(RedactSubprotocols("openai-beta.sk-CANARYabcdefghijklmnopqrst", fp_), "CANARY"));
}

TEST_F(HeadersTest, LocationGoesThroughTheUrlRule) {
  const std::string out =
      RedactHeaderValue("Location", "/v1/realtime/calls/rtc_479a?token=CANARY", policy_, fp_);
  EXPECT_EQ(out, "/v1/realtime/calls/rtc_479a?token=" + fp_.Of("CANARY"));
}

class TargetTest : public HeadersTest {};

TEST_F(TargetTest, KeepsDeploymentAndHidesKey) {
  const std::string out =
      RedactTarget("/openai/realtime?api-key=CANARY&deployment=gpt-4o", policy_, fp_);
  EXPECT_EQ(out, "/openai/realtime?api-key=" + fp_.Of("CANARY") + "&deployment=gpt-4o");
}

TEST_F(TargetTest, PercentEncodedValuesAreDecodedBeforeFingerprinting) {
  const std::string out = RedactTarget(
      "/openai/realtime?api-version=2024-10-01-preview&Authorization=Bearer%20CANARY%20x"
      "&deployment=gpt%2D4o&token=a%20CANARY",
      policy_, fp_);
  EXPECT_FALSE(Contains(out, "CANARY")) << out;
  EXPECT_TRUE(Contains(out, "api-version=2024-10-01-preview"));
  EXPECT_TRUE(Contains(out, "Authorization=Bearer%20" + fp_.Of("CANARY x"))) << out;
  EXPECT_TRUE(Contains(out, "deployment=gpt%2D4o"));
  EXPECT_TRUE(Contains(out, "token=" + fp_.Of("a CANARY")));
  EXPECT_EQ(RedactTarget("/x?api%2Dkey=CANARY", policy_, fp_), "/x?api%2Dkey=" + fp_.Of("CANARY"));
}

TEST_F(TargetTest, CredentialNamesNeverKeptEvenIfPolicySaysSo) {
  Policy p = policy_;
  ASSERT_TRUE(
      p.Extend(R"({"keep_query_params": ["api-key", "key", "token", "sig", "code"]})").ok());
  const std::string out =
      RedactTarget("/x?API-KEY=CANARY1&key=CANARY2&token=CANARY3&sig=CANARY4&code=CANARY5", p, fp_);
  EXPECT_FALSE(Contains(out, "CANARY")) << out;
}

TEST_F(TargetTest, UnknownParamsHiddenAndOddNamesHashed) {
  const std::string out = RedactTarget(
      "/v1/realtime?model=gpt-realtime&x-ms-client-request-id=CANARY&flag&"
      "sk-CANARYabcdefghijklmnopqrstu#frag-CANARY",
      policy_, fp_);
  EXPECT_FALSE(Contains(out, "CANARY")) << out;
  EXPECT_TRUE(Contains(out, "/v1/realtime?model=gpt-realtime&x-ms-client-request-id=hmac:"));
  EXPECT_TRUE(Contains(out, "&flag&"));
}

TEST_F(TargetTest, PathKeptUnlessItHoldsASecret) {
  EXPECT_EQ(RedactTarget("/openai/deployments/gpt-4o/realtime", policy_, fp_),
            "/openai/deployments/gpt-4o/realtime");
  EXPECT_FALSE(
      Contains(RedactTarget("/keys/sk-CANARYabcdefghijklmnopqrstu/x", policy_, fp_), "CANARY"));
  EXPECT_FALSE(Contains(RedactTarget("https://user:CANARY@host/x", policy_, fp_), "CANARY"));
}

TEST(PercentDecodeTest, DecodesAndLeavesMalformedEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2fc"), "a b/c");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
}

}  // namespace
}  // namespace relaytap::redact
