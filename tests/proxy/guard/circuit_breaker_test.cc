#include "proxy/guard/circuit_breaker.h"

#include <gtest/gtest.h>

namespace relaytap::proxy::guard {
namespace {

constexpr int64_t kWindowUs = 10'000'000;
constexpr int64_t kMs = 1000;

CircuitBreakerPolicy Policy() {
  CircuitBreakerPolicy p;
  p.failure_ratio = 0.5;
  p.min_requests = 4;
  p.cooldown_ms = 1000;
  p.max_cooldown_ms = 3000;
  p.half_open_probes = 2;
  p.successes_to_close = 2;
  return p;
}

TEST(CircuitBreakerTest, StaysClosedBelowMinRequestsOrRatio) {
  CircuitBreaker b(Policy(), kWindowUs);
  int64_t t = 1'000'000'000;
  EXPECT_FALSE(b.OnOutcome(true, false, t));
  EXPECT_FALSE(b.OnOutcome(true, false, t));
  EXPECT_FALSE(b.OnOutcome(true, false, t));  // 3 failures, but min_requests is 4
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  CircuitBreaker c(Policy(), kWindowUs);
  for (int i = 0; i < 6; ++i) c.OnOutcome(false, false, t);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(c.OnOutcome(true, false, t));  // 5 of 11 < 50%
  EXPECT_EQ(c.state(), BreakerState::kClosed);
  EXPECT_TRUE(c.OnOutcome(true, false, t));  // 6 of 12
}

TEST(CircuitBreakerTest, OpenHalfOpenProbesClosedWithGrowingCooldown) {
  CircuitBreaker b(Policy(), kWindowUs);
  int64_t t = 1'000'000'000;
  std::optional<BreakerTransition> tr;
  for (int i = 0; i < 3; ++i) b.OnOutcome(true, false, t);
  tr = b.OnOutcome(true, false, t);
  ASSERT_TRUE(tr);
  EXPECT_EQ(tr->to, BreakerState::kOpen);
  EXPECT_EQ(tr->cooldown_ms, 1000);
  tr.reset();
  BreakerAdmission a = b.Check(t + 400 * kMs, &tr);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.retry_after_ms, 600);
  EXPECT_FALSE(tr);
  // Cool-down over: half-open, two probes.
  a = b.Check(t + 1000 * kMs, &tr);
  ASSERT_TRUE(tr);
  EXPECT_EQ(tr->to, BreakerState::kHalfOpen);
  EXPECT_TRUE(a.allowed && a.probe);
  b.OnSent(true, t + 1000 * kMs);
  a = b.Check(t + 1001 * kMs, nullptr);
  EXPECT_TRUE(a.allowed && a.probe);
  b.OnSent(true, t + 1001 * kMs);
  a = b.Check(t + 1002 * kMs, nullptr);
  EXPECT_FALSE(a.allowed);  // probes taken
  // A probe fails: open again, for twice as long.
  tr = b.OnOutcome(true, true, t + 1100 * kMs);
  ASSERT_TRUE(tr);
  EXPECT_EQ(tr->to, BreakerState::kOpen);
  EXPECT_EQ(tr->cooldown_ms, 2000);
  EXPECT_FALSE(b.Check(t + 3000 * kMs, nullptr).allowed);
  tr.reset();
  EXPECT_TRUE(b.Check(t + 3100 * kMs, &tr).probe);
  b.OnSent(true, t + 3100 * kMs);
  EXPECT_FALSE(b.OnOutcome(false, false, t + 3150 * kMs));  // not a probe: ignored
  EXPECT_FALSE(b.OnOutcome(false, true, t + 3200 * kMs));   // 1 of 2 successes
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  b.Check(t + 3201 * kMs, nullptr);
  b.OnSent(true, t + 3201 * kMs);
  tr = b.OnOutcome(false, true, t + 3300 * kMs);
  ASSERT_TRUE(tr);
  EXPECT_EQ(tr->to, BreakerState::kClosed);
  EXPECT_EQ(b.trips_in_a_row(), 0);
  EXPECT_EQ(b.outcomes(t + 3300 * kMs), 0);  // a closed breaker starts from a clean window
  EXPECT_TRUE(b.Check(t + 3301 * kMs, nullptr).allowed);
}

TEST(CircuitBreakerTest, CooldownIsCapped) {
  CircuitBreaker b(Policy(), kWindowUs);
  int64_t t = 1'000'000'000;
  for (int i = 0; i < 4; ++i) b.OnOutcome(true, false, t);
  int64_t expect[] = {2000, 3000, 3000};
  for (int64_t want : expect) {
    t += 10'000 * kMs;
    ASSERT_TRUE(b.Check(t, nullptr).probe);
    b.OnSent(true, t);
    auto tr = b.OnOutcome(true, true, t);
    ASSERT_TRUE(tr);
    EXPECT_EQ(tr->cooldown_ms, want);
  }
}

TEST(CircuitBreakerTest, LostProbesFreeTheirSlotsAfterACooldown) {
  CircuitBreaker b(Policy(), kWindowUs);
  int64_t t = 1'000'000'000;
  for (int i = 0; i < 4; ++i) b.OnOutcome(true, false, t);
  t += 1000 * kMs;
  b.Check(t, nullptr);
  b.OnSent(true, t);
  b.Check(t, nullptr);
  b.OnSent(true, t);
  EXPECT_FALSE(b.Check(t + 500 * kMs, nullptr).allowed);
  EXPECT_TRUE(b.Check(t + 1000 * kMs, nullptr).allowed);
}

}  // namespace
}  // namespace relaytap::proxy::guard
