#include "proxy/guard/retry_budget.h"

#include <gtest/gtest.h>

namespace relaytap::proxy::guard {
namespace {

constexpr int64_t kBudgetWindowUs = 10'000'000;

TEST(RetryBudgetTest, FloorThenPercentOfRecentAttempts) {
  RetryBudget b({true, 20.0, 3}, kBudgetWindowUs);
  int64_t t = 1'000'000'000;
  EXPECT_EQ(b.Allowed(t), 3);  // the floor with no traffic
  for (int i = 0; i < 30; ++i) b.OnSent(false, t);
  EXPECT_EQ(b.Allowed(t), 6);  // 20% of 30
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(b.CanRetry(t)) << i;
    b.OnSent(true, t);  // retries are attempts too: 36 attempts -> floor(7.2) = 7
  }
  EXPECT_EQ(b.Allowed(t), 7);
  EXPECT_TRUE(b.CanRetry(t));
  b.OnSent(true, t);
  EXPECT_EQ(b.retries(t), 7);
  EXPECT_EQ(b.Allowed(t), 7);  // floor(0.2 * 37)
  EXPECT_FALSE(b.CanRetry(t));
}

TEST(RetryBudgetTest, RetriesWaitingInBackoffStillCountUntilTheWindowPasses) {
  RetryBudget b({true, 0.0, 2}, kBudgetWindowUs);
  int64_t t = 5'000'000'000;
  b.OnSent(true, t);
  b.OnSent(true, t + 1'000'000);
  EXPECT_FALSE(b.CanRetry(t + 9'000'000));  // nothing in flight, but both are recent
  EXPECT_TRUE(b.CanRetry(t + 10'500'000));  // the first aged out
  EXPECT_EQ(b.retries(t + 10'500'000), 1);
  EXPECT_EQ(b.retries(t + 25'000'000), 0);
}

}  // namespace
}  // namespace relaytap::proxy::guard
