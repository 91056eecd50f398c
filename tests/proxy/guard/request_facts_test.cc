#include "proxy/guard/request_facts.h"

#include <gtest/gtest.h>

namespace relaytap::proxy::guard {
namespace {

TEST(RequestFactsTest, DeploymentFromPathOrQuery) {
  EXPECT_EQ(DeploymentFromTarget("/openai/deployments/gpt-4o/chat/completions?api-version=1"),
            "gpt-4o");
  EXPECT_EQ(DeploymentFromTarget("https://x.openai.azure.com/openai/deployments/d1/embeddings"),
            "d1");
  EXPECT_EQ(DeploymentFromTarget("/openai/realtime?api-version=2024-10-01&deployment=rt-1"),
            "rt-1");
  EXPECT_EQ(DeploymentFromTarget("/openai/v1/realtime?model=gpt-realtime"), "gpt-realtime");
  EXPECT_EQ(DeploymentFromTarget("/openai/v1/responses"), "");
  // Only safe characters are kept: a name ends at anything else.
  EXPECT_EQ(DeploymentFromTarget("/openai/realtime?deployment=a%20b"), "a");
  EXPECT_EQ(DeploymentFromTarget("/x?model=" + std::string(300, 'm')).size(), 128u);
}

TEST(RequestFactsTest, Key) {
  EXPECT_EQ(GuardKey("h.openai.azure.com", "d", ""), "h.openai.azure.com/d");
  EXPECT_EQ(GuardKey("h", "", ""), "h");
  EXPECT_EQ(GuardKey("h", "d", "10.0.0.1"), "h/d client=10.0.0.1");
}

TEST(RequestFactsTest, FingerprintIgnoresVolatileParamsAndParamOrder) {
  std::vector<std::string> vol = {"api-key", "nonce"};
  uint64_t a = RequestFingerprint("POST", "/p?a=1&b=2&api-key=SECRET1", "{}", vol);
  EXPECT_EQ(a, RequestFingerprint("POST", "/p?b=2&a=1&api-key=SECRET2&nonce=9", "{}", vol));
  EXPECT_EQ(a, RequestFingerprint("POST", "https://h/p?b=2&a=1", "{}", vol));
  EXPECT_NE(a, RequestFingerprint("GET", "/p?a=1&b=2", "{}", vol));
  EXPECT_NE(a, RequestFingerprint("POST", "/q?a=1&b=2", "{}", vol));
  EXPECT_NE(a, RequestFingerprint("POST", "/p?a=1&b=3", "{}", vol));
  EXPECT_NE(a, RequestFingerprint("POST", "/p?a=1&b=2", "{ }", vol));
  EXPECT_NE(RequestFingerprint("POST", "/ab", "c", vol), RequestFingerprint("POST", "/a", "bc", vol));
}

TEST(RequestFactsTest, RetryCount) {
  EXPECT_EQ(ParseRetryCount("0"), 0);
  EXPECT_EQ(ParseRetryCount("2"), 2);
  EXPECT_EQ(ParseRetryCount("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryCount("x"), std::nullopt);
  EXPECT_EQ(ParseRetryCount(""), std::nullopt);
}

TEST(RequestFactsTest, RetryAfterMsWinsOverSeconds) {
  constexpr int64_t kNow = 1'445'412'470'000'000;  // Wed, 21 Oct 2015 07:27:50 GMT
  EXPECT_EQ(RetryAfterMs("2", "1500", kNow), 1500);
  EXPECT_EQ(RetryAfterMs("2", "", kNow), 2000);
  EXPECT_EQ(RetryAfterMs("0.5", "", kNow), 500);
  EXPECT_EQ(RetryAfterMs("", "12.2", kNow), 13);
  EXPECT_EQ(RetryAfterMs("", "", kNow), std::nullopt);
  EXPECT_EQ(RetryAfterMs("-3", "x", kNow), std::nullopt);
}

// retry-after as an HTTP-date (IMF-fixdate) is a wait until that time, from the given now.
TEST(RequestFactsTest, RetryAfterHttpDateIsTheWaitUntilThatTime) {
  constexpr int64_t kNow = 1'445'412'470'000'000;  // Wed, 21 Oct 2015 07:27:50 GMT
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", "", kNow), 10'000);
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", "", kNow + 250'000), 9'750);
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", "", kNow + 9'999'001), 1);  // rounded up
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:27:00 GMT", "", kNow), 0);  // already past
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", "700", kNow), 700);  // -ms wins
  EXPECT_EQ(RetryAfterMs("Wednesday, 21-Oct-15 07:28:00 GMT", "", kNow), std::nullopt);  // RFC 850
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:28:00", "", kNow), std::nullopt);  // no zone
  EXPECT_EQ(RetryAfterMs("soon", "", kNow), std::nullopt);
}

TEST(RequestFactsTest, ClientHost) {
  EXPECT_EQ(ClientHost("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(ClientHost("[::1]:5000"), "::1");
  EXPECT_EQ(ClientHost("::1"), "::1");
}

}  // namespace
}  // namespace relaytap::proxy::guard
