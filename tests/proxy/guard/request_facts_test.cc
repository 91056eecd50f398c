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
  EXPECT_NE(RequestFingerprint("POST", "/ab", "c", vol),
            RequestFingerprint("POST", "/a", "bc", vol));
}

TEST(RequestFactsTest, RetryCount) {
  EXPECT_EQ(ParseRetryCount("0"), 0);
  EXPECT_EQ(ParseRetryCount("2"), 2);
  EXPECT_EQ(ParseRetryCount("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryCount("x"), std::nullopt);
  EXPECT_EQ(ParseRetryCount(""), std::nullopt);
}

// The three retry hints, each alone: retry-after-ms, x-ms-retry-after-ms, retry-after.
std::optional<int64_t> Ms(std::string_view v, int64_t now = 0) {
  return RetryAfterMs({.retry_after_ms = v}, now);
}
std::optional<int64_t> XMs(std::string_view v, int64_t now = 0) {
  return RetryAfterMs({.x_ms_retry_after_ms = v}, now);
}
std::optional<int64_t> Seconds(std::string_view v, int64_t now = 0) {
  return RetryAfterMs({.retry_after = v}, now);
}

TEST(RequestFactsTest, RetryAfterEachHeaderAlone) {
  EXPECT_EQ(Ms("1500"), 1500);
  EXPECT_EQ(Ms("12.2"), 13);  // rounded up
  EXPECT_EQ(Ms(" 0 "), 0);
  EXPECT_EQ(XMs("2500"), 2500);
  EXPECT_EQ(XMs("0.1"), 1);
  EXPECT_EQ(XMs("0"), 0);
  EXPECT_EQ(Seconds("2"), 2000);
  EXPECT_EQ(Seconds("0.5"), 500);
  EXPECT_EQ(RetryAfterMs({}, 0), std::nullopt);
}

// x-ms-retry-after-ms has exactly the bounds and validation of retry-after-ms.
TEST(RequestFactsTest, RetryAfterMillisecondHeadersShareOneValidation) {
  for (std::string_view bad : {"", "-3", "+3", "x", "12ms", "1e", "nan", "inf", "1 2"}) {
    EXPECT_EQ(Ms(bad), std::nullopt) << bad;
    EXPECT_EQ(XMs(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(Ms("1e15"), 1'000'000'000'000);  // capped
  EXPECT_EQ(XMs("1e15"), 1'000'000'000'000);
}

// azure-core's order: retry-after-ms, x-ms-retry-after-ms, Retry-After.
TEST(RequestFactsTest, RetryAfterPrecedence) {
  EXPECT_EQ(RetryAfterMs(
                {.retry_after_ms = "1500", .x_ms_retry_after_ms = "2500", .retry_after = "9"}, 0),
            1500);
  EXPECT_EQ(RetryAfterMs({.retry_after_ms = "1500", .x_ms_retry_after_ms = "2500"}, 0), 1500);
  EXPECT_EQ(RetryAfterMs({.retry_after_ms = "1500", .retry_after = "9"}, 0), 1500);
  EXPECT_EQ(RetryAfterMs({.x_ms_retry_after_ms = "2500", .retry_after = "9"}, 0), 2500);
  // A zero in a higher header still wins: it is a valid "retry now".
  EXPECT_EQ(RetryAfterMs({.retry_after_ms = "0", .x_ms_retry_after_ms = "2500"}, 0), 0);
}

// A malformed value falls through to the next header.
TEST(RequestFactsTest, RetryAfterMalformedFallsThrough) {
  EXPECT_EQ(RetryAfterMs(
                {.retry_after_ms = "soon", .x_ms_retry_after_ms = "2500", .retry_after = "9"}, 0),
            2500);
  EXPECT_EQ(
      RetryAfterMs({.retry_after_ms = "-1", .x_ms_retry_after_ms = "x", .retry_after = "9"}, 0),
      9000);
  EXPECT_EQ(RetryAfterMs({.x_ms_retry_after_ms = "1.5.0", .retry_after = "3"}, 0), 3000);
  EXPECT_EQ(
      RetryAfterMs({.retry_after_ms = "x", .x_ms_retry_after_ms = "-2", .retry_after = "later"}, 0),
      std::nullopt);
}

// retry-after as an HTTP-date (IMF-fixdate) is a wait until that time, from the given now.
TEST(RequestFactsTest, RetryAfterHttpDateIsTheWaitUntilThatTime) {
  constexpr int64_t kNow = 1'445'412'470'000'000;  // Wed, 21 Oct 2015 07:27:50 GMT
  constexpr std::string_view kDate = "Wed, 21 Oct 2015 07:28:00 GMT";
  EXPECT_EQ(Seconds(kDate, kNow), 10'000);
  EXPECT_EQ(Seconds(kDate, kNow + 250'000), 9'750);
  EXPECT_EQ(Seconds(kDate, kNow + 9'999'001), 1);                // rounded up
  EXPECT_EQ(Seconds("Wed, 21 Oct 2015 07:27:00 GMT", kNow), 0);  // already past
  EXPECT_EQ(RetryAfterMs({.retry_after_ms = "700", .retry_after = kDate}, kNow), 700);
  EXPECT_EQ(RetryAfterMs({.x_ms_retry_after_ms = "800", .retry_after = kDate}, kNow), 800);
  EXPECT_EQ(RetryAfterMs({.x_ms_retry_after_ms = "bad", .retry_after = kDate}, kNow), 10'000);
  EXPECT_EQ(Seconds("Wednesday, 21-Oct-15 07:28:00 GMT", kNow), std::nullopt);  // RFC 850
  EXPECT_EQ(Seconds("Wed, 21 Oct 2015 07:28:00", kNow), std::nullopt);          // no zone
  EXPECT_EQ(Seconds("soon", kNow), std::nullopt);
}

TEST(RequestFactsTest, ClientHost) {
  EXPECT_EQ(ClientHost("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(ClientHost("[::1]:5000"), "::1");
  EXPECT_EQ(ClientHost("::1"), "::1");
}

}  // namespace
}  // namespace relaytap::proxy::guard
