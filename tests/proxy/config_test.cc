// `relaytap proxy --config FILE`: the example file holds every default, and the guard keys
// (guard, guard_policy, guard_*) follow the file's rules: wrong types and unknown keys are errors
// naming the key, null means unset, flags override the file's knobs.
#include "proxy/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "proxy/guard/guard_settings.h"
#include "proxy/guard/policy.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace relaytap::proxy {
namespace {

using ::relaytap::testing::StatusIs;

using ::testing::HasSubstr;
namespace guard = proxy::guard;

constexpr char kExample[] = RELAYTAP_SOURCE_DIR "/configs/relaytap.example.json";

std::filesystem::path WriteConfig(const std::string& name, const std::string& text) {
  std::filesystem::path file = relaytap::testing::FreshTempDir("config_guard_test") / name;
  std::ofstream(file) << text;
  return file;
}

absl::StatusOr<ProxyConfig> Load(const std::string& name, const std::string& text) {
  ProxyConfig c;
  if (absl::Status st = MergeConfigFile(WriteConfig(name, text), c); !st.ok()) return st;
  return c;
}

guard::GuardPolicy BuiltInPolicy() {
  return *guard::ParseGuardPolicy(guard::DefaultGuardPolicyJson());
}

// Every key of the example file holds its default: loading it changes nothing at all.
TEST(ConfigGuardTest, ExampleFileHoldsEveryDefault) {
  ProxyConfig c;
  ASSERT_TRUE(MergeConfigFile(kExample, c).ok());
  EXPECT_TRUE(c == ProxyConfig{});
  auto policy = guard::ResolveGuardPolicy(c.guard.policy_file, c.guard.knobs, {});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(*policy == BuiltInPolicy());
}

TEST(ConfigDiskTest, SizesAreParsedAndErrorsNameTheKey) {
  auto c = Load("disk.json", R"({"max_db_size": "2GiB", "min_free": 0})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_db_bytes, uint64_t{2} << 30);
  EXPECT_EQ(c->min_free_bytes, 0u);
  c = Load("disk.json", R"({"max_db_size": 1048576, "min_free": null})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_db_bytes, 1048576u);
  EXPECT_FALSE(c->min_free_bytes.has_value());
  for (const auto& [bad, key] : {std::pair{R"({"max_db_size": "5 apples"})", "'max_db_size'"},
                                 std::pair{R"({"min_free": -1})", "'min_free'"},
                                 std::pair{R"({"min_free": true})", "'min_free'"}}) {
    auto b = Load("disk.json", bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find(key), std::string::npos) << b.status();
  }
}

TEST(ConfigDiskTest, RotateAndKeep) {
  auto c = Load("rotate.json", R"({"rotate": "hourly", "keep": 48})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rotate, "hourly");
  EXPECT_EQ(c->keep, 48);
  for (const auto& [bad, key] :
       {std::pair{R"({"rotate": 3})", "'rotate'"}, std::pair{R"({"keep": 0})", "'keep'"}}) {
    auto b = Load("rotate.json", bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find(key), std::string::npos) << b.status();
  }
}

// ... and names every guard key, so an operator finds them there.
TEST(ConfigGuardTest, ExampleFileNamesEveryGuardKey) {
  std::ifstream in(kExample);
  auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["guard"], "off");
  for (const char* key : {"guard_policy", "guard_max_attempts", "guard_budget_percent",
                          "guard_cooldown_ms", "guard_key_by_client", "guard_session_cap"}) {
    ASSERT_TRUE(doc.contains(key)) << key;
    EXPECT_TRUE(doc[key].is_null()) << key;
    EXPECT_TRUE(doc.contains(std::string("_comment_") + key)) << key;
  }
}

TEST(ConfigGuardTest, FileOnlySetsModePolicyAndKnobs) {
  auto policy_file = WriteConfig("policy.json", R"({"window_ms": 20000,
    "circuit_breaker": {"max_cooldown_ms": 90000}})");
  auto c = Load("file_only.json", R"({"guard": "enforce", "guard_policy": ")" +
                                      policy_file.string() + R"(", "guard_max_attempts": 2,
    "guard_budget_percent": 12.5, "guard_cooldown_ms": 70000, "guard_key_by_client": true,
    "guard_session_cap": 4})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->guard.mode, guard::GuardMode::kEnforce);
  EXPECT_EQ(c->guard.policy_file, policy_file);
  auto p = guard::ResolveGuardPolicy(c->guard.policy_file, c->guard.knobs, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->window_ms, 20000);  // from the policy file
  EXPECT_EQ(p->attempt_cap.max_attempts, 2);
  EXPECT_EQ(p->retry_budget.budget_percent, 12.5);
  EXPECT_EQ(p->circuit_breaker.cooldown_ms, 70000);  // allowed by the file's max_cooldown_ms
  EXPECT_TRUE(p->key_by_client);
  EXPECT_TRUE(p->session_cap.enabled);
  EXPECT_EQ(p->session_cap.max_creates_after_failure, 4);

  auto observe = Load("observe.json", R"({"guard": "observe"})");
  ASSERT_TRUE(observe.ok()) << observe.status();
  EXPECT_EQ(observe->guard.mode, guard::GuardMode::kObserve);
  EXPECT_EQ(observe->guard.knobs, guard::GuardKnobs{});
}

// A knob the file leaves null keeps the policy file's value; false is a value, not "unset".
TEST(ConfigGuardTest, NullKnobsKeepThePolicyValue) {
  auto policy_file = WriteConfig("by_client.json", R"({"key_by_client": true,
    "attempt_cap": {"max_attempts": 5}})");
  auto c = Load("nulls.json", R"({"guard_policy": ")" + policy_file.string() + R"(",
    "guard_max_attempts": null, "guard_key_by_client": null})");
  ASSERT_TRUE(c.ok()) << c.status();
  auto p = guard::ResolveGuardPolicy(c->guard.policy_file, c->guard.knobs, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->attempt_cap.max_attempts, 5);
  EXPECT_TRUE(p->key_by_client);
  c->guard.knobs.key_by_client = false;
  p = guard::ResolveGuardPolicy(c->guard.policy_file, c->guard.knobs, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->key_by_client);
}

TEST(ConfigGuardTest, FlagsOverrideTheFileKnobs) {
  auto c = Load("override.json", R"({"guard": "enforce", "guard_max_attempts": 2,
    "guard_budget_percent": 10, "guard_session_cap": 3})");
  ASSERT_TRUE(c.ok()) << c.status();
  guard::GuardKnobs flags;
  flags.max_attempts = 6;
  flags.session_cap = 0;
  auto p = guard::ResolveGuardPolicy(c->guard.policy_file, c->guard.knobs, flags);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->attempt_cap.max_attempts, 6);      // the flag wins
  EXPECT_EQ(p->retry_budget.budget_percent, 10);  // no flag: the file's
  EXPECT_EQ(p->session_cap.max_creates_after_failure, 0);
  // The file's knobs are applied over the policy file, the flags over both.
  flags = {};
  flags.cooldown_ms = 100;
  p = guard::ResolveGuardPolicy(std::nullopt, {.cooldown_ms = 9000}, flags);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->circuit_breaker.cooldown_ms, 100);
}

// Wrong types and unknown guard keys stop the file from loading, naming the key.
TEST(ConfigGuardTest, WrongTypesNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"guard": "on"})", "config key 'guard' must be \"off\", \"observe\" or \"enforce\""},
      {R"({"guard": true})", "config key 'guard' must be \"off\""},
      {R"({"guard": null})", "config key 'guard' must be \"off\""},
      {R"({"guard_policy": 3})", "config key 'guard_policy' must be a path string or null"},
      {R"({"guard_max_attempts": "3"})", "config key 'guard_max_attempts' must be an integer"},
      {R"({"guard_max_attempts": 2.5})", "config key 'guard_max_attempts' must be an integer"},
      {R"({"guard_max_attempts": 3000000000})", "config key 'guard_max_attempts' must be an"},
      {R"({"guard_budget_percent": "20%"})", "config key 'guard_budget_percent' must be a number"},
      {R"({"guard_cooldown_ms": true})", "config key 'guard_cooldown_ms' must be an integer"},
      {R"({"guard_key_by_client": "yes"})", "config key 'guard_key_by_client' must be true, false"},
      {R"({"guard_session_cap": [1]})", "config key 'guard_session_cap' must be an integer"},
      {R"({"guard_mode": "enforce"})", "unknown config key 'guard_mode'"},
      {R"({"guard_max_atempts": null})", "unknown config key 'guard_max_atempts'"},
  };
  int i = 0;
  for (const auto& [text, expected] : cases) {
    auto c = Load("type" + std::to_string(i++) + ".json", text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(expected)) << text;
  }
}

// Values the policy rules reject name the config key (from the file) or the flag.
TEST(ConfigGuardTest, InvalidKnobValuesNameTheKeyOrTheFlag) {
  struct Case {
    guard::GuardKnobs knobs;
    const char* key;
    const char* flag;
    const char* rule;
  };
  const Case cases[] = {
      {{.max_attempts = 0},
       "config key 'guard_max_attempts': ",
       "--guard-max-attempts: ",
       "attempt_cap.max_attempts must be at least 1"},
      {{.budget_percent = 150},
       "config key 'guard_budget_percent': ",
       "--guard-budget-percent: ",
       "retry_budget.budget_percent must be between 0 and 100"},
      {{.budget_percent = -1},
       "config key 'guard_budget_percent': ",
       "--guard-budget-percent: ",
       "retry_budget.budget_percent must be between 0 and 100"},
      {{.cooldown_ms = 0},
       "config key 'guard_cooldown_ms': ",
       "--guard-cooldown-ms: ",
       "circuit_breaker.cooldown_ms must be at least 1"},
      {{.cooldown_ms = 600000},
       "config key 'guard_cooldown_ms': ",
       "--guard-cooldown-ms: ",
       "circuit_breaker.max_cooldown_ms must be >= cooldown_ms"},
      {{.session_cap = -1},
       "config key 'guard_session_cap': ",
       "--guard-session-cap: ",
       "session_cap.max_creates_after_failure must be between 0 and 1000000"},
      {{.session_cap = 1000001},
       "config key 'guard_session_cap': ",
       "--guard-session-cap: ",
       "session_cap.max_creates_after_failure must be between 0 and 1000000"},
  };
  for (const Case& c : cases) {
    auto from_file = guard::ResolveGuardPolicy(std::nullopt, c.knobs, {});
    ASSERT_FALSE(from_file.ok()) << c.key;
    EXPECT_THAT(from_file, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(std::string(from_file.status().message()), std::string(c.key) + c.rule);
    auto from_flag = guard::ResolveGuardPolicy(std::nullopt, {}, c.knobs);
    ASSERT_FALSE(from_flag.ok()) << c.flag;
    EXPECT_EQ(std::string(from_flag.status().message()), std::string(c.flag) + c.rule);
  }
}

// A policy file named by the config file is read like --guard-policy: errors name the file.
TEST(ConfigGuardTest, PolicyFileErrorsNameTheFile) {
  auto missing =
      guard::ResolveGuardPolicy(std::filesystem::path("/nonexistent/policy.json"), {}, {});
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("cannot read guard policy /nonexistent/policy.json"));
  auto typo = WriteConfig("typo_policy.json", R"({"attempt_cap": {"max_atempts": 2}})");
  auto bad = guard::ResolveGuardPolicy(typo, {}, {});
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("unknown key attempt_cap.max_atempts"));
}

}  // namespace
}  // namespace relaytap::proxy
