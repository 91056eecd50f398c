#include "proxy/guard/retry_guard.h"

#include <gtest/gtest.h>

namespace relaytap::proxy::guard {
namespace {

constexpr int64_t kUsPerMs = 1000;

class RetryGuardTest : public ::testing::Test {
 protected:
  RetryGuardTest() {
    policy_.window_ms = 10'000;
    policy_.circuit_breaker.min_requests = 4;
    policy_.circuit_breaker.cooldown_ms = 1000;
    policy_.circuit_breaker.max_cooldown_ms = 4000;
    policy_.retry_budget.min_retries = 2;
  }
  std::unique_ptr<RetryGuard> Make(GuardMode mode = GuardMode::kEnforce) {
    return std::make_unique<RetryGuard>(
        policy_, mode, [this] { return now_; }, [] { return uint64_t{0}; });
  }
  static RequestFacts Req(uint64_t fp, int retry_count = -1, std::string deployment = "d1") {
    RequestFacts f;
    f.host = "h.openai.azure.com";
    f.deployment = std::move(deployment);
    f.client = "127.0.0.1";
    f.fingerprint = fp;
    f.stainless_retry_count = retry_count;
    return f;
  }
  static RequestFacts Upgrade(std::string client = "127.0.0.1") {
    RequestFacts f = Req(0);
    f.websocket_upgrade = true;
    f.client = std::move(client);
    return f;
  }

  GuardPolicy policy_;
  int64_t now_ = 1'700'000'000'000'000;
};

TEST_F(RetryGuardTest, SdkRetryCountAndAttemptCap) {
  auto g = Make();
  Decision d = g->Decide(Req(1, 0));
  EXPECT_EQ(d.verdict, Verdict::kForward);
  EXPECT_EQ(d.reason, Reason::kFirstAttempt);
  EXPECT_EQ(d.key, "h.openai.azure.com/d1");
  g->RecordOutcome(d, {500, std::nullopt});
  d = g->Decide(Req(2, 2));  // third attempt: within the cap of 3
  EXPECT_EQ(d.reason, Reason::kRetryAllowed);
  EXPECT_EQ(d.signal, RetrySignal::kSdkRetryCount);
  EXPECT_EQ(d.counts.attempt, 3);
  d = g->Decide(Req(3, 3));
  EXPECT_EQ(d.verdict, Verdict::kReject);
  EXPECT_EQ(d.reason, Reason::kAttemptCap);
  EXPECT_EQ(d.counts.attempt, 4);
  EXPECT_EQ(d.retry_after_ms, policy_.reject_retry_after_ms);
  EXPECT_EQ(g->decisions(Reason::kAttemptCap), 1u);
}

TEST_F(RetryGuardTest, IdenticalRequestAfterAFailureIsARetry) {
  auto g = Make();
  Decision d = g->Decide(Req(42));
  EXPECT_FALSE(d.retry);
  g->RecordOutcome(d, {503, std::nullopt});
  now_ += 100 * kUsPerMs;
  d = g->Decide(Req(42));
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.signal, RetrySignal::kFingerprint);
  EXPECT_EQ(d.counts.attempt, 2);
  g->RecordOutcome(d, {503, std::nullopt});
  d = g->Decide(Req(42));
  EXPECT_EQ(d.counts.attempt, 3);
  EXPECT_EQ(d.verdict, Verdict::kForward);
  g->RecordOutcome(d, {503, std::nullopt});
  d = g->Decide(Req(42));
  EXPECT_EQ(d.reason, Reason::kAttemptCap);
  // Each rejected attempt keeps the request "failed": a naive client stays capped.
  d = g->Decide(Req(42));
  EXPECT_EQ(d.reason, Reason::kAttemptCap);
  EXPECT_EQ(d.counts.attempt, 5);
  // After a success the same request is a new one; after the window it is forgotten.
  Decision other = g->Decide(Req(43));
  g->RecordOutcome(other, {200, std::nullopt});
  EXPECT_FALSE(g->Decide(Req(43)).retry);
  now_ += 11'000 * kUsPerMs;
  EXPECT_FALSE(g->Decide(Req(42)).retry);
}

TEST_F(RetryGuardTest, SameRequestFromAnotherClientIsNotARetry) {
  auto g = Make();
  Decision d = g->Decide(Req(42));
  g->RecordOutcome(d, {500, std::nullopt});
  RequestFacts f = Req(42);
  f.client = "10.0.0.2";
  EXPECT_FALSE(g->Decide(f).retry);
}

TEST_F(RetryGuardTest, BudgetLimitsRetriesAcrossRequests) {
  policy_.circuit_breaker.enabled = false;
  policy_.retry_budget.budget_percent = 20;
  policy_.retry_budget.min_retries = 2;
  auto g = Make();
  for (int i = 0; i < 10; ++i) g->Decide(Req(100 + i, 0));  // 10 first attempts
  // 20% of 10 = 2 (the floor is 2 as well): two retries pass, the third does not.
  EXPECT_EQ(g->Decide(Req(1, 1)).reason, Reason::kRetryAllowed);
  EXPECT_EQ(g->Decide(Req(2, 1)).reason, Reason::kRetryAllowed);
  Decision d = g->Decide(Req(3, 1));
  EXPECT_EQ(d.reason, Reason::kRetryBudget);
  EXPECT_EQ(d.counts.window_attempts, 12);
  EXPECT_EQ(d.counts.window_retries, 2);
  EXPECT_EQ(d.counts.retries_allowed, 2);
  // A first attempt is never rejected by the budget.
  EXPECT_EQ(g->Decide(Req(4, 0)).verdict, Verdict::kForward);
  // The window passes: retries may go again.
  now_ += 11'000 * kUsPerMs;
  EXPECT_EQ(g->Decide(Req(5, 1)).reason, Reason::kRetryAllowed);
}

TEST_F(RetryGuardTest, BreakerRejectsFirstAttemptsWhileOpenAndClosesAfterProbes) {
  auto g = Make();
  std::vector<GuardEvent> events;
  for (int i = 0; i < 4; ++i) {
    Decision d = g->Decide(Req(10 + i, 0));
    ASSERT_EQ(d.verdict, Verdict::kForward);
    auto e = g->RecordOutcome(d, {500, std::nullopt});
    events.insert(events.end(), e.begin(), e.end());
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "breaker_open");
  EXPECT_EQ(events[0].retry_after_ms, 1000);
  Decision d = g->Decide(Req(20, 0));
  EXPECT_EQ(d.verdict, Verdict::kReject);
  EXPECT_EQ(d.reason, Reason::kBreakerOpen);
  EXPECT_EQ(d.retry_after_ms, 1000);
  EXPECT_EQ(d.counts.breaker, "open");
  // Another deployment on the same host is untouched.
  EXPECT_EQ(g->Decide(Req(21, 0, "healthy")).reason, Reason::kFirstAttempt);
  now_ += 1000 * kUsPerMs;
  Decision p1 = g->Decide(Req(22, 0));
  EXPECT_EQ(p1.reason, Reason::kBreakerProbe);
  ASSERT_EQ(p1.events.size(), 1u);
  EXPECT_EQ(p1.events[0].kind, "breaker_half_open");
  Decision p2 = g->Decide(Req(23, 0));
  EXPECT_EQ(p2.reason, Reason::kBreakerProbe);
  EXPECT_EQ(g->Decide(Req(24, 0)).reason, Reason::kBreakerOpen);  // probes taken
  EXPECT_TRUE(g->RecordOutcome(p1, {200, std::nullopt}).empty());
  auto closed = g->RecordOutcome(p2, {200, std::nullopt});
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].kind, "breaker_closed");
  EXPECT_EQ(g->Decide(Req(25, 0)).reason, Reason::kFirstAttempt);
}

TEST_F(RetryGuardTest, RetryAfterHoldsTheKey) {
  auto g = Make();
  Decision d = g->Decide(Req(1, 0));
  auto events = g->RecordOutcome(d, {429, 1500});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "hold_start");
  EXPECT_EQ(events[0].retry_after_ms, 1500);
  now_ += 500 * kUsPerMs;
  d = g->Decide(Req(2, 0));  // even a first attempt waits
  EXPECT_EQ(d.reason, Reason::kRetryAfterHold);
  EXPECT_EQ(d.retry_after_ms, 1000);
  now_ += 1000 * kUsPerMs;
  d = g->Decide(Req(3, 0));
  EXPECT_EQ(d.reason, Reason::kFirstAttempt);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, "hold_end");
  // A hold is capped, and 5xx other than 503 holds nothing.
  g->RecordOutcome(d, {503, 10'000'000});
  now_ += policy_.holds.max_hold_ms * kUsPerMs;
  EXPECT_NE(g->Decide(Req(4, 0)).reason, Reason::kRetryAfterHold);
  policy_.circuit_breaker.enabled = false;
  auto h = Make();
  Decision e = h->Decide(Req(5, 0));
  EXPECT_TRUE(h->RecordOutcome(e, {500, 1000}).empty());
}

TEST_F(RetryGuardTest, FirstAttemptIsNeverRejectedUnlessBreakerOpenOrHold) {
  policy_.circuit_breaker.enabled = false;
  policy_.holds.enabled = false;
  policy_.retry_budget.min_retries = 0;
  policy_.retry_budget.budget_percent = 0;
  policy_.attempt_cap.max_attempts = 1;
  auto g = Make();
  for (int i = 0; i < 200; ++i) {
    Decision d = g->Decide(Req(1000 + i, i % 2 == 0 ? 0 : -1));
    ASSERT_EQ(d.verdict, Verdict::kForward) << i;
    g->RecordOutcome(d, {i % 3 == 0 ? 429 : 500, 5000});
  }
  EXPECT_EQ(g->Decide(Req(1, 1)).verdict, Verdict::kReject);  // but retries are
}

TEST_F(RetryGuardTest, FailedUpgradesFromOneClientMakeItsNextUpgradeARetry) {
  policy_.circuit_breaker.enabled = false;
  auto g = Make();
  Decision d = g->Decide(Upgrade());
  EXPECT_FALSE(d.retry);
  g->RecordOutcome(d, {503, std::nullopt});
  EXPECT_FALSE(g->Decide(Upgrade("10.0.0.9")).retry);  // another client
  d = g->Decide(Upgrade());
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.signal, RetrySignal::kFailedUpgrades);
  EXPECT_EQ(d.counts.attempt, 2);
  g->RecordOutcome(d, {0, std::nullopt});  // reset before the 101
  d = g->Decide(Upgrade());
  EXPECT_EQ(d.counts.attempt, 3);
  g->RecordOutcome(d, {500, std::nullopt});
  EXPECT_EQ(g->Decide(Upgrade()).reason, Reason::kAttemptCap);
  EXPECT_EQ(g->Decide(Upgrade()).counts.attempt, 5);
  // A session that opens clears the client's record.
  now_ += 11'000 * kUsPerMs;
  d = g->Decide(Upgrade());
  EXPECT_FALSE(d.retry);
  g->RecordOutcome(d, {101, std::nullopt});
  EXPECT_FALSE(g->Decide(Upgrade()).retry);
}

TEST_F(RetryGuardTest, FailedSessionsAfterA101MakeTheClientsNextUpgradeARetry) {
  policy_.circuit_breaker.enabled = false;
  auto g = Make();
  // Each session opens (101) and then fails (response.failed or an upstream reset).
  for (int attempt = 1; attempt <= 3; ++attempt) {
    Decision d = g->Decide(Upgrade());
    EXPECT_EQ(d.verdict, Verdict::kForward);
    EXPECT_EQ(d.counts.attempt, attempt);
    EXPECT_EQ(d.retry, attempt > 1);
    if (attempt > 1) {
      EXPECT_EQ(d.signal, RetrySignal::kFailedUpgrades);
    }
    g->RecordOutcome(d, {101, std::nullopt});
    g->RecordSessionEnd(d, /*failed=*/true);
  }
  Decision capped = g->Decide(Upgrade());
  EXPECT_EQ(capped.reason, Reason::kAttemptCap);
  EXPECT_FALSE(g->Decide(Upgrade("10.0.0.9")).retry);  // another client is a first attempt
  // A clean session ends the streak; a rejected upgrade opened no session to report.
  g->RecordSessionEnd(capped, /*failed=*/false);
  EXPECT_EQ(g->Decide(Upgrade()).reason, Reason::kAttemptCap);
  now_ += 11'000 * kUsPerMs;  // past the window: the next upgrade is a first attempt again
  Decision d = g->Decide(Upgrade());
  EXPECT_FALSE(d.retry);
  g->RecordOutcome(d, {101, std::nullopt});
  g->RecordSessionEnd(d, /*failed=*/false);
  EXPECT_FALSE(g->Decide(Upgrade()).retry);
}

TEST_F(RetryGuardTest, ObserveDecidesTheSameButAccountsEverythingAsSent) {
  auto observe = Make(GuardMode::kObserve);
  Decision d = observe->Decide(Req(7, 0));
  observe->RecordOutcome(d, {500, std::nullopt});
  for (int i = 1; i <= 3; ++i) observe->Decide(Req(7, i));
  d = observe->Decide(Req(7, 4));
  EXPECT_EQ(d.verdict, Verdict::kReject);  // what enforce would do
  EXPECT_EQ(d.reason, Reason::kAttemptCap);
  // Sent: counts are those before this attempt, and every earlier one was accounted as sent.
  EXPECT_EQ(d.counts.window_attempts, 4);
  EXPECT_EQ(d.counts.window_retries, 3);
  Decision next = observe->Decide(Req(8, 0));
  EXPECT_EQ(next.counts.window_attempts, 5);
  EXPECT_EQ(next.counts.window_retries, 4);
}

TEST_F(RetryGuardTest, MemoryIsBounded) {
  policy_.max_keys = 5;
  policy_.max_fingerprints_per_key = 3;
  policy_.circuit_breaker.enabled = false;
  policy_.key_idle_expiry_ms = 20'000;
  auto g = Make();
  for (int i = 0; i < 50; ++i) {
    Decision d = g->Decide(Req(1, 0, "d" + std::to_string(i)));
    g->RecordOutcome(d, {200, std::nullopt});
  }
  EXPECT_EQ(g->key_count(), 5u);
  for (int i = 0; i < 10; ++i) {
    now_ += kUsPerMs;
    Decision d = g->Decide(Req(500 + i, 0));
    g->RecordOutcome(d, {500, std::nullopt});
  }
  EXPECT_FALSE(g->Decide(Req(500, 0)).retry);  // evicted: only the 3 newest are remembered
  EXPECT_TRUE(g->Decide(Req(509, 0)).retry);
  now_ += 30'000 * kUsPerMs;
  g->Decide(Req(1, 0, "fresh"));
  EXPECT_EQ(g->key_count(), 1u);  // idle keys expired
  // Failed upgrades are remembered for at most max_fingerprints_per_key clients per key.
  for (int i = 0; i < 10; ++i) {
    Decision u = g->Decide(Upgrade("10.0.0." + std::to_string(i)));
    g->RecordOutcome(u, {503, std::nullopt});
  }
  EXPECT_TRUE(g->Decide(Upgrade("10.0.0.2")).retry);
  EXPECT_FALSE(g->Decide(Upgrade("10.0.0.9")).retry);
}

}  // namespace
}  // namespace relaytap::proxy::guard
