#include "proxy/guard/policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testing/status_matchers.h"

namespace relaytap::proxy::guard {
namespace {

using ::relaytap::testing::StatusIs;

TEST(GuardPolicyTest, EmbeddedDefaultsEqualTheExampleFileAndTheStructDefaults) {
  std::ifstream in(std::filesystem::path(RELAYTAP_SOURCE_DIR) / "configs/guard.example.json");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), DefaultGuardPolicyJson());
  absl::StatusOr<GuardPolicy> p = ParseGuardPolicy(DefaultGuardPolicyJson());
  ASSERT_TRUE(p.ok()) << p.status();
  GuardPolicy d;
  EXPECT_EQ(p->window_ms, d.window_ms);
  EXPECT_EQ(p->attempt_cap.max_attempts, 3);
  EXPECT_EQ(p->retry_budget.budget_percent, 20.0);
  EXPECT_EQ(p->retry_budget.min_retries, d.retry_budget.min_retries);
  EXPECT_EQ(p->circuit_breaker.cooldown_ms, d.circuit_breaker.cooldown_ms);
  EXPECT_EQ(p->circuit_breaker.half_open_probes, d.circuit_breaker.half_open_probes);
  EXPECT_EQ(p->holds.max_hold_ms, d.holds.max_hold_ms);
  EXPECT_EQ(p->volatile_query_params, d.volatile_query_params);
  EXPECT_FALSE(p->session_cap.enabled);
  EXPECT_EQ(p->session_cap.max_creates_after_failure, d.session_cap.max_creates_after_failure);
  EXPECT_EQ(p->session_cap.reset_on_success, d.session_cap.reset_on_success);
}

TEST(GuardPolicyTest, MissingKeysKeepDefaultsAndCommentsAreIgnored) {
  auto p = ParseGuardPolicy(R"({"_note": 1, "attempt_cap": {"max_attempts": 5}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->attempt_cap.max_attempts, 5);
  EXPECT_TRUE(p->attempt_cap.enabled);
  EXPECT_EQ(p->window_ms, 10'000);
}

TEST(GuardPolicyTest, ErrorsNameTheKey) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {"[1]", "must be a JSON object"},
      {"{", "not valid JSON"},
      {R"({"windw_ms": 5})", "unknown key windw_ms"},
      {R"({"attempt_cap": {"max": 2}})", "unknown key attempt_cap.max"},
      {R"({"window_ms": "10"})", "window_ms must be an integer"},
      {R"({"window_ms": -5})", "window_ms must not be negative"},
      {R"({"attempt_cap": {"max_attempts": 4294967296}})", "max_attempts is too large"},
      {R"({"window_ms": 5})", "window_ms must be at least 100"},
      {R"({"key_by_client": 1})", "key_by_client must be true or false"},
      {R"({"retry_budget": {"budget_percent": 120}})", "budget_percent must be between 0 and 100"},
      {R"({"circuit_breaker": {"failure_ratio": 0}})", "failure_ratio must be in (0, 1]"},
      {R"({"circuit_breaker": {"successes_to_close": 3}})", "successes_to_close"},
      {R"({"attempt_cap": {"max_attempts": 0}})", "max_attempts must be at least 1"},
      {R"({"volatile_query_params": [1]})", "must hold strings only"},
      {R"({"session_cap": {"enabled": "yes"}})", "session_cap.enabled must be true or false"},
      {R"({"session_cap": {"max": 1}})", "unknown key session_cap.max"},
      {R"({"session_cap": {"max_creates_after_failure": -1}})", "must not be negative"},
      {R"({"session_cap": {"max_creates_after_failure": 2000000}})",
       "session_cap.max_creates_after_failure must be between 0 and 1000000"},
  };
  for (const Case& c : cases) {
    auto p = ParseGuardPolicy(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_THAT(p, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos)
        << c.json << " -> " << p.status().message();
  }
}

TEST(GuardPolicyTest, SessionCapIsReadFromTheDocument) {
  auto p = ParseGuardPolicy(
      R"({"session_cap": {"enabled": true, "max_creates_after_failure": 0,
                          "reset_on_success": false}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->session_cap.enabled);
  EXPECT_EQ(p->session_cap.max_creates_after_failure, 0);
  EXPECT_FALSE(p->session_cap.reset_on_success);
}

TEST(GuardPolicyTest, LoadNamesTheFile) {
  auto missing = LoadGuardPolicy("/nonexistent/guard.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/guard.json"), std::string::npos);
}

TEST(GuardPolicyTest, Modes) {
  EXPECT_EQ(*ParseGuardMode("off"), GuardMode::kOff);
  EXPECT_EQ(*ParseGuardMode("observe"), GuardMode::kObserve);
  EXPECT_EQ(*ParseGuardMode("enforce"), GuardMode::kEnforce);
  EXPECT_FALSE(ParseGuardMode("on").ok());
  EXPECT_EQ(GuardModeName(GuardMode::kObserve), "observe");
}

}  // namespace
}  // namespace relaytap::proxy::guard
