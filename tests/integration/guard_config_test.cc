// A guard set only in the `relaytap proxy --config` file, built the way `relaytap proxy` builds
// it (MergeConfigFile, then guard::ResolveGuardPolicy, then RetryGuard), really rejects through
// the proxy; the same file in observe mode forwards everything.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "proxy/config/config.h"
#include "proxy/guard/guard_settings.h"
#include "proxy/guard/retry_guard.h"
#include "tests/integration/guard_storm_clients.h"
#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {
namespace {

namespace guard = proxy::guard;

// The guard `relaytap proxy --config FILE` runs with (no --guard* flags); null when off.
std::unique_ptr<guard::RetryGuard> GuardFromConfigFile(const std::string& text) {
  std::filesystem::path file = FreshDir("guard_config") / "relaytap.json";
  std::ofstream(file) << text;
  proxy::ProxyConfig config;
  absl::Status merged = proxy::MergeConfigFile(file, config);
  EXPECT_TRUE(merged.ok()) << merged;
  auto policy = guard::ResolveGuardPolicy(config.guard.policy_file, config.guard.knobs, {});
  EXPECT_TRUE(policy.ok()) << policy.status();
  if (!merged.ok() || !policy.ok() || config.guard.mode == guard::GuardMode::kOff) return nullptr;
  return std::make_unique<guard::RetryGuard>(*std::move(policy), config.guard.mode);
}

constexpr char kTarget[] = "/openai/deployments/cfg/chat/completions?api-version=2024-10-21";

TEST(GuardConfigFileTest, EnforceFromTheFileAloneRejectsRetriesOverTheCap) {
  auto g = GuardFromConfigFile(R"({"guard": "enforce", "guard_max_attempts": 1,
                                   "_comment": "no guard flags anywhere"})");
  ASSERT_NE(g, nullptr);
  ProxyHarness::Options o;
  o.guard = g.get();
  ProxyHarness h(std::move(o));
  EXPECT_EQ(Post(h, kTarget, R"({"n":1})", 0).status, 200);  // first attempt: forwarded
  Answer retry = Post(h, kTarget, R"({"n":1})", 1);          // second attempt: over the cap
  EXPECT_EQ(retry.status, 429);
  EXPECT_EQ(retry.guard_reason, "attempt_cap");
  EXPECT_EQ(retry.should_retry, "false");
  EXPECT_EQ(UpstreamCount(h, "/openai/deployments/cfg/"), 1u);
}

TEST(GuardConfigFileTest, ObserveFromTheFileForwardsEverything) {
  auto g = GuardFromConfigFile(R"({"guard": "observe", "guard_max_attempts": 1})");
  ASSERT_NE(g, nullptr);
  ProxyHarness::Options o;
  o.guard = g.get();
  ProxyHarness h(std::move(o));
  EXPECT_EQ(Post(h, kTarget, R"({"n":2})", 0).status, 200);
  Answer retry = Post(h, kTarget, R"({"n":2})", 1);
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.guard_reason, "");
  EXPECT_EQ(UpstreamCount(h, "/openai/deployments/cfg/"), 2u);
  EXPECT_EQ(g->decisions(guard::Reason::kAttemptCap), 1u);  // what enforce would have done
}

TEST(GuardConfigFileTest, TheExampleFileLeavesTheGuardOff) {
  std::ifstream in(RELAYTAP_SOURCE_DIR "/configs/relaytap.example.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(GuardFromConfigFile(text), nullptr);
}

}  // namespace
}  // namespace relaytap::testing
