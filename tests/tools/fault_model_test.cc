#include "tools/fake_upstream/fault_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <vector>

#include "tests/testing/status_matchers.h"
#include "tools/fake_upstream/fault_profile.h"

namespace relaytap::tools::fake_upstream {
namespace {

using ::relaytap::testing::StatusIs;

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<std::atomic<int64_t>> now_ms = std::make_shared<std::atomic<int64_t>>(0);
  FaultModel::Clock clock() const {
    auto now = now_ms;
    return [now] { return milliseconds(now->load()); };
  }
  void Set(milliseconds t) const { now_ms->store(t.count()); }
};

std::vector<Fault> Draw(FaultModel& model, Stage stage, int n, std::string_view deployment = "") {
  std::vector<Fault> out;
  for (int i = 0; i < n; ++i) out.push_back(model.Decide(stage, deployment));
  return out;
}

int Count(const std::vector<Fault>& faults, Fault f) {
  return static_cast<int>(std::count(faults.begin(), faults.end(), f));
}

// |observed - expected| within 5 binomial standard deviations (p-value ~ 6e-7 per check).
::testing::AssertionResult WithinBinomialBounds(int observed, int n, double percent) {
  double p = percent / 100.0;
  double mean = n * p;
  double sd = std::sqrt(n * p * (1 - p));
  if (std::abs(observed - mean) <= 5 * sd + 1) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << observed << " of " << n << " is outside " << mean << " +- " << 5 * sd;
}

TEST(FaultModelTest, ObservedRatesAreWithinBinomialBoundsForTheSeed) {
  FaultProfile profile;
  profile.rates = {{Fault::kResponseFailed, 0.8},
                   {Fault::kReset, 5},
                   {Fault::kStall, 20},
                   {Fault::kUpgrade5xx, 50}};
  for (uint64_t seed : {1u, 42u, 123456789u}) {
    FaultModel model(profile, seed, ManualClock().clock());
    constexpr int kN = 20000;
    auto response = Draw(model, Stage::kResponse, kN);
    EXPECT_TRUE(WithinBinomialBounds(Count(response, Fault::kResponseFailed), kN, 0.8));
    EXPECT_TRUE(WithinBinomialBounds(Count(response, Fault::kReset), kN, 5));
    EXPECT_TRUE(WithinBinomialBounds(Count(response, Fault::kStall), kN, 20));
    EXPECT_EQ(Count(response, Fault::kUpgrade5xx), 0) << "faults stay in their stage";
    auto upgrade = Draw(model, Stage::kUpgrade, kN);
    EXPECT_TRUE(WithinBinomialBounds(Count(upgrade, Fault::kUpgrade5xx), kN, 50));
    EXPECT_EQ(Count(upgrade, Fault::kReset), 0);
    auto counts = model.counts();
    EXPECT_EQ(counts[static_cast<int>(Fault::kReset)],
              static_cast<uint64_t>(Count(response, Fault::kReset)));
  }
}

TEST(FaultModelTest, ZeroAndHundredPercentAreExact) {
  FaultProfile profile;
  profile.rates = {{Fault::kUpgrade429, 100}, {Fault::kResponseFailed, 0}};
  FaultModel model(profile, 7, ManualClock().clock());
  auto upgrade = Draw(model, Stage::kUpgrade, 1000);
  EXPECT_EQ(Count(upgrade, Fault::kUpgrade429), 1000);
  auto response = Draw(model, Stage::kResponse, 1000);
  EXPECT_EQ(Count(response, Fault::kNone), 1000);
}

TEST(FaultModelTest, SameSeedGivesTheSameSequenceAndOtherSeedsDiffer) {
  FaultProfile profile;
  profile.rates = {{Fault::kResponseFailed, 10}, {Fault::kErrorEvent, 10}, {Fault::kIdleClose, 30}};
  auto run = [&](uint64_t seed) {
    FaultModel model(profile, seed, ManualClock().clock());
    std::vector<Fault> out;
    for (int i = 0; i < 500; ++i) {
      out.push_back(model.Decide(Stage::kWsSession, ""));
      out.push_back(model.Decide(Stage::kResponse, ""));
    }
    return out;
  };
  EXPECT_EQ(run(99), run(99));
  EXPECT_NE(run(99), run(100));
  // A decision with no fault still consumes its draw: rates elsewhere do not shift the sequence.
  FaultProfile other = profile;
  other.rates[Fault::kUpgrade5xx] = 50;
  FaultModel a(profile, 5, ManualClock().clock());
  FaultModel b(other, 5, ManualClock().clock());
  for (int i = 0; i < 200; ++i) {
    b.Decide(Stage::kCompletion, "");  // no completion faults: a draw either way
    a.Decide(Stage::kCompletion, "");
    EXPECT_EQ(a.Decide(Stage::kResponse, ""), b.Decide(Stage::kResponse, ""));
  }
}

TEST(FaultModelTest, TimeWindowRaisesTheRateOnlyInsideIt) {
  FaultProfile profile;
  profile.rates = {{Fault::kResponseFailed, 0.8}};
  profile.windows.push_back({seconds(60), seconds(120), {{Fault::kResponseFailed, 15}}});
  profile.period = seconds(300);
  ASSERT_TRUE(ValidateProfile(profile).ok());
  ManualClock clock;
  FaultModel model(profile, 2026, clock.clock());
  constexpr int kN = 10000;
  const std::pair<milliseconds, double> expectations[] = {
      {seconds(0), 0.8},        {milliseconds(59999), 0.8}, {seconds(60), 15},
      {seconds(119), 15},       {seconds(120), 0.8},        {seconds(300 + 90), 15},  // next period
      {seconds(600 + 200), 0.8}};
  for (const auto& [t, percent] : expectations) {
    clock.Set(t);
    auto faults = Draw(model, Stage::kResponse, kN);
    EXPECT_TRUE(WithinBinomialBounds(Count(faults, Fault::kResponseFailed), kN, percent))
        << "at " << t.count() << " ms";
  }
  EXPECT_EQ(EffectiveRates(profile, seconds(61), "")[Fault::kResponseFailed], 15);
  EXPECT_EQ(EffectiveRates(profile, seconds(121), "")[Fault::kResponseFailed], 0.8);
}

TEST(FaultModelTest, DeploymentRuleOverridesBaseAndWindow) {
  FaultProfile profile;
  profile.rates = {{Fault::kUpgrade5xx, 1}};
  profile.windows.push_back({seconds(0), seconds(10), {{Fault::kUpgrade5xx, 20}}});
  profile.deployments["gpt-realtime-mini"] = {{Fault::kUpgrade5xx, 100}};
  profile.deployments["healthy"] = {{Fault::kUpgrade5xx, 0}};
  ManualClock clock;
  FaultModel model(profile, 1, clock.clock());
  EXPECT_EQ(Count(Draw(model, Stage::kUpgrade, 300, "gpt-realtime-mini"), Fault::kUpgrade5xx), 300);
  EXPECT_EQ(Count(Draw(model, Stage::kUpgrade, 300, "healthy"), Fault::kNone), 300);
  EXPECT_EQ(EffectiveRates(profile, seconds(5), "other")[Fault::kUpgrade5xx], 20);
  EXPECT_EQ(EffectiveRates(profile, seconds(50), "other")[Fault::kUpgrade5xx], 1);
}

TEST(FaultProfileTest, ParsesAFullProfile) {
  auto profile = ParseFaultProfile(R"({
    "seed": 42,
    "rates": {"response_failed": 0.8, "upgrade_5xx": 0.2},
    "period_s": 3600,
    "windows": [{"from_s": 600, "to_s": 900, "rates": {"response_failed": 15}}],
    "deployments": {"gpt-realtime-mini": {"upgrade_429": 50}},
    "params": {"upgrade_status": 502, "retry_after_ms": 800, "stall_ms": 3000, "drip_ms": 100,
               "idle_close_ms": 2000, "idle_close_code": 1001, "latency_ms": 5,
               "sse_reset_after": 4}
  })");
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->seed, 42u);
  EXPECT_EQ(profile->rates.at(Fault::kResponseFailed), 0.8);
  EXPECT_EQ(profile->period, seconds(3600));
  ASSERT_EQ(profile->windows.size(), 1u);
  EXPECT_EQ(profile->windows[0].from, seconds(600));
  EXPECT_EQ(profile->windows[0].rates.at(Fault::kResponseFailed), 15);
  EXPECT_EQ(profile->deployments.at("gpt-realtime-mini").at(Fault::kUpgrade429), 50);
  EXPECT_EQ(profile->params.upgrade_status, 502u);
  EXPECT_EQ(profile->params.retry_after, milliseconds(800));
  EXPECT_EQ(profile->params.idle_close_code, 1001u);
  EXPECT_EQ(profile->params.latency, milliseconds(5));
  EXPECT_EQ(profile->params.sse_reset_after, 4u);
}

TEST(FaultProfileTest, InvalidProfilesGiveClearErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"rate": {}})", "unknown key 'rate'"},
      {R"({"rates": {"explode": 1}})", "unknown fault 'explode'"},
      {R"({"rates": {"reset": "5"}})", "must be a number"},
      {R"({"rates": {"reset": 101}})", "0..100"},
      {R"({"rates": {"reset": -1}})", "0..100"},
      {R"({"rates": {"reset": 60, "stall": 50}})", "response faults add up to more than 100%"},
      {R"({"rates": {"reset": 60}, "windows": [{"from_s": 0, "to_s": 5, "rates": {"drip": 50}}]})",
       "in windows[0]"},
      {R"({"rates": {"upgrade_5xx": 60}, "deployments": {"d": {"upgrade_429": 50}}})",
       "for deployment d"},
      {R"({"windows": [{"from_s": 10, "to_s": 5, "rates": {}}]})", "0 <= from < to"},
      {R"({"windows": [{"from_s": 1, "rates": {}}]})", "needs from_s, to_s and rates"},
      {R"({"period_s": 60, "windows": [{"from_s": 0, "to_s": 90, "rates": {}}]})",
       "ends after the period"},
      {R"({"period_s": 0})", "period must be positive"},
      {R"({"seed": -3})", "seed"},
      {R"({"params": {"upgrade_status": 404}})", "500..599"},
      {R"({"params": {"idle_close_code": 1006}})", "close code"},
      {R"({"params": {"retry_after_ms": 500000}})", "retry_after_ms"},
      {R"({"params": {"stalls_ms": 5}})", "unknown key 'stalls_ms'"},
      {R"({"params": {"retry_headers": "retry-after"}})", "params.retry_headers: must be an array"},
      {R"({"params": {"retry_headers": ["x-retry-after"]}})", "unknown header \"x-retry-after\""},
      {R"({"params": {"retry_headers": [3]}})", "params.retry_headers: unknown header 3"},
      {R"({"params": {"sse_reset_after": 1001}})", "sse_reset_after must be in 0..1000"},
      {R"({"params": {"sse_reset_after": -1}})", "params.sse_reset_after"},
      {R"({"rates": {"sse_stall": 60, "sse_reset": 50}})",
       "stream faults add up to more than 100%"},
  };
  for (const auto& [text, expected] : cases) {
    auto profile = ParseFaultProfile(text);
    ASSERT_FALSE(profile.ok()) << text;
    EXPECT_THAT(profile, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
    EXPECT_THAT(std::string(profile.status().message()), HasSubstr(expected)) << text;
  }
}

TEST(FaultProfileTest, CommandLineSpecs) {
  RateMap rates;
  EXPECT_TRUE(ParseFaultSpec("response_failed=0.8", &rates).ok());
  EXPECT_EQ(rates.at(Fault::kResponseFailed), 0.8);
  EXPECT_TRUE(ParseFaultSpec("response_failed=15", &rates).ok());
  EXPECT_EQ(rates.at(Fault::kResponseFailed), 15);
  EXPECT_THAT(std::string(ParseFaultSpec("boom=1", &rates).message()), HasSubstr("known: "));
  EXPECT_FALSE(ParseFaultSpec("reset", &rates).ok());
  EXPECT_FALSE(ParseFaultSpec("reset=", &rates).ok());
  EXPECT_FALSE(ParseFaultSpec("reset=1x", &rates).ok());
  EXPECT_FALSE(ParseFaultSpec("reset=200", &rates).ok());

  FaultProfile profile;
  EXPECT_TRUE(ParseRuleSpec("gpt-realtime-mini:upgrade_5xx=100,reset=3", &profile).ok());
  EXPECT_EQ(profile.deployments.at("gpt-realtime-mini").at(Fault::kUpgrade5xx), 100);
  EXPECT_EQ(profile.deployments.at("gpt-realtime-mini").at(Fault::kReset), 3);
  EXPECT_FALSE(ParseRuleSpec("upgrade_5xx=100", &profile).ok());
  EXPECT_FALSE(ParseRuleSpec(":upgrade_5xx=100", &profile).ok());
  EXPECT_FALSE(ParseRuleSpec("d:", &profile).ok());
}

TEST(FaultProfileTest, RetryHeadersDefaultToAllThreeAndCanBeChosen) {
  EXPECT_EQ(RetryHeaderNames(FaultParams{}.retry_headers),
            "retry-after,retry-after-ms,x-ms-retry-after-ms");
  auto only_x_ms = ParseFaultProfile(R"({"params": {"retry_headers": ["x-ms-retry-after-ms"]}})");
  ASSERT_TRUE(only_x_ms.ok()) << only_x_ms.status();
  EXPECT_EQ(RetryHeaderNames(only_x_ms->params.retry_headers), "x-ms-retry-after-ms");
  auto none = ParseFaultProfile(R"({"params": {"retry_headers": []}})");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(RetryHeaderNames(none->params.retry_headers), "none");

  RetryHeaders which;
  ASSERT_TRUE(ParseRetryHeaderList("retry-after,x-ms-retry-after-ms", &which).ok());
  EXPECT_EQ(RetryHeaderNames(which), "retry-after,x-ms-retry-after-ms");
  ASSERT_TRUE(ParseRetryHeaderList("retry-after-ms", &which).ok());
  EXPECT_EQ(RetryHeaderNames(which), "retry-after-ms");
  ASSERT_TRUE(ParseRetryHeaderList("none", &which).ok());
  EXPECT_EQ(RetryHeaderNames(which), "none");
  for (std::string_view bad : {"", "retry-after,", "Retry-After-Ms", "x-ms-retry-after"}) {
    RetryHeaders kept;
    absl::Status st = ParseRetryHeaderList(bad, &kept);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_THAT(std::string(st.message()), HasSubstr("is not one of")) << bad;
    EXPECT_EQ(kept, RetryHeaders{}) << bad;  // untouched on error
  }
}

TEST(FaultModelTest, NamesRoundTrip) {
  for (int i = 1; i < kFaultCount; ++i) {
    Fault f = static_cast<Fault>(i);
    EXPECT_EQ(FaultFromName(FaultName(f)), f);
  }
  EXPECT_FALSE(FaultFromName("none").has_value());
  EXPECT_EQ(StageOf(Fault::kIdleClose), Stage::kWsSession);
  EXPECT_EQ(StageOf(Fault::kSession429), Stage::kSession);
  for (Fault f : {Fault::kSseStall, Fault::kSseDrip, Fault::kSseReset}) {
    EXPECT_EQ(StageOf(f), Stage::kStream) << FaultName(f);
  }
  EXPECT_EQ(StageName(Stage::kStream), "stream");
  EXPECT_EQ(FaultFromName("sse_reset"), Fault::kSseReset);
  for (Fault f : {Fault::kCall5xx, Fault::kCall401, Fault::kCallSlow}) {
    EXPECT_EQ(StageOf(f), Stage::kCall) << FaultName(f);
  }
  EXPECT_EQ(FaultFromName("call_401"), Fault::kCall401);
}

TEST(FaultModelTest, CallParamsParseAndValidate) {
  auto parsed = ParseFaultProfile(R"({"rates": {"call_5xx": 30, "call_slow": 70},
                                      "params": {"call_status": 502, "call_slow_ms": 250}})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  FaultProfile p = *parsed;
  EXPECT_EQ(p.params.call_status, 502u);
  EXPECT_EQ(p.params.call_slow, std::chrono::milliseconds(250));
  EXPECT_TRUE(ValidateProfile(p).ok());
  p.rates[Fault::kCall401] = 10;  // the call stage now adds up to 110%
  EXPECT_FALSE(ValidateProfile(p).ok());
  p.rates.erase(Fault::kCall401);
  p.params.call_status = 404;
  EXPECT_FALSE(ValidateProfile(p).ok());
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream
