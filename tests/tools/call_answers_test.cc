// The fake upstream's WebRTC call set-up answers (tools/fake_upstream/call_answers.h), without a
// socket: the SDP answer parses as one, the faults and the token checks answer as Azure would.
#include "tools/fake_upstream/call_answers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/str_cat.h"
#include "redact/sdp_shape.h"
#include "tests/testing/canary_sdp.h"

namespace relaytap::tools::fake_upstream {
namespace {

TEST(CallAnswersTest, AnOfferGetsA201WithAnSdpAnswerAndACallId) {
  const std::string offer = testing::CanarySdp(true);
  StringResponse r = CallAnswer({offer, "application/sdp", "Bearer ek_1"}, Fault::kNone, {});
  EXPECT_EQ(r.result_int(), 201);
  EXPECT_EQ(r[boost::beast::http::field::content_type], "application/sdp");
  EXPECT_TRUE(
      std::string(r[boost::beast::http::field::location]).starts_with("/v1/realtime/calls/rtc_"));
  const redact::SdpShape shape = redact::ParseSdpShape(r.body());
  EXPECT_TRUE(shape.valid);
  EXPECT_EQ(shape.malformed_lines, 0);
  ASSERT_EQ(shape.media.size(), 2u);
  EXPECT_EQ(shape.media[0].codecs, std::vector<std::string>{"opus/48000/2"});
  EXPECT_EQ(shape.media[0].setup, "passive");
  EXPECT_EQ(shape.candidates.host, 1);
  EXPECT_EQ(shape.fingerprint_algorithms, std::vector<std::string>{"sha-256"});
  // A multipart form with an `sdp` part is an offer too.
  const std::string form =
      StrCat("--b\r\nContent-Disposition: form-data; name=\"sdp\"\r\n\r\n", offer, "\r\n--b--\r\n");
  EXPECT_EQ(CallAnswer({form, "multipart/form-data; boundary=b", "Bearer sk-x"}, Fault::kNone, {})
                .result_int(),
            201);
}

TEST(CallAnswersTest, FaultsTokensAndBadOffers) {
  const std::string offer = testing::CanarySdp(true);
  FaultParams p;
  p.call_status = 503;
  StringResponse r = CallAnswer({offer, "application/sdp", "Bearer ek_1"}, Fault::kCall5xx, p);
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r["x-relaytap-fake-fault"], "call_5xx");
  r = CallAnswer({offer, "application/sdp", "Bearer ek_1"}, Fault::kCall401, p);
  EXPECT_EQ(r.result_int(), 401);
  EXPECT_EQ(nlohmann::json::parse(r.body())["error"]["code"], "token_expired");
  CallRequest expired{offer, "application/sdp", "Bearer ek_1"};
  expired.token_expired = true;
  EXPECT_EQ(CallAnswer(expired, Fault::kNone, p).result_int(), 401);
  EXPECT_EQ(CallAnswer({offer, "application/sdp", ""}, Fault::kNone, p).result_int(), 401);
  EXPECT_EQ(CallAnswer({"{}", "application/json", "Bearer ek_1"}, Fault::kNone, p).result_int(),
            400);
}

TEST(CallAnswersTest, TokenTtlAndIssuedTokens) {
  EXPECT_EQ(RequestedTokenTtl(R"({"expires_after":{"anchor":"created_at","seconds":0}})"), 0);
  EXPECT_EQ(RequestedTokenTtl(R"({"expires_after":{"seconds":99999}})"), 7200);
  EXPECT_EQ(RequestedTokenTtl("not json"), 600);
  auto ga = IssuedToken(R"({"value":"ek_a","expires_at":17,"session":{}})");
  ASSERT_TRUE(ga.has_value());
  EXPECT_EQ(ga->first, "ek_a");
  EXPECT_EQ(ga->second, 17);
  auto preview = IssuedToken(R"({"id":"sess_1","client_secret":{"value":"ek_b","expires_at":9}})");
  ASSERT_TRUE(preview.has_value());
  EXPECT_EQ(preview->first, "ek_b");
  EXPECT_FALSE(IssuedToken("{}").has_value());
  EXPECT_EQ(BearerOf("Bearer  ek_c "), "ek_c");
  EXPECT_EQ(BearerOf("Basic abc"), "");
  EXPECT_TRUE(IsCallPath("/openai/v1/realtime/calls"));
  EXPECT_TRUE(IsCallPath("/v1/realtimertc"));
  EXPECT_FALSE(IsCallPath("/v1/realtime/calls/rtc_1/hangup"));
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream
