#include "proxy/guard/reject_response.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace relaytap::proxy::guard {
namespace {

TEST(RejectResponseTest, StatusCodeHeadersAndAzureErrorShape) {
  struct Case {
    Reason reason;
    int status;
  } cases[] = {{Reason::kAttemptCap, 429},
               {Reason::kRetryBudget, 429},
               {Reason::kRetryAfterHold, 429},
               {Reason::kBreakerOpen, 503}};
  for (const Case& c : cases) {
    Decision d;
    d.verdict = Verdict::kReject;
    d.reason = c.reason;
    d.retry_after_ms = 1500;
    d.key = "h.openai.azure.com/d1";
    std::string r = BuildRejectResponse(d);
    std::string name(ReasonName(c.reason));
    EXPECT_TRUE(r.starts_with("HTTP/1.1 " + std::to_string(c.status) + " ")) << r;
    EXPECT_NE(r.find("\r\nretry-after: 2\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nretry-after-ms: 1500\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nx-should-retry: false\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nx-relaytap-guard: " + name + "\r\n"), std::string::npos);
    size_t body_at = r.find("\r\n\r\n");
    ASSERT_NE(body_at, std::string::npos);
    std::string body = r.substr(body_at + 4);
    EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
    auto j = nlohmann::json::parse(body);
    EXPECT_EQ(j["error"]["code"], "relaytap_" + name);
    EXPECT_EQ(j["error"]["type"], "relaytap_guard");
    EXPECT_NE(j["error"]["message"].get<std::string>().find("1500 ms"), std::string::npos);
  }
}

TEST(RejectResponseTest, CountsJson) {
  Decision d;
  d.counts.attempt = 4;
  d.retry = true;
  d.signal = RetrySignal::kSdkRetryCount;
  auto j = nlohmann::json::parse(CountsJson(d));
  EXPECT_EQ(j["attempt"], 4);
  EXPECT_EQ(j["signal"], "x_stainless_retry_count");
}

}  // namespace
}  // namespace relaytap::proxy::guard
