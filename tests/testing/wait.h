#pragma once
// Waiting in tests, in the style of Envoy's waitFor…: poll a condition until it holds or a
// deadline passes, and return an AssertionResult that says what did not happen. Tests use
// ASSERT_TRUE(WaitFor(...)), never a fixed sleep that they rely on for ordering.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>

namespace relaytap::testing {

// Long enough for a loaded CI machine under a sanitizer; a hang still fails one test, not the run.
inline constexpr std::chrono::milliseconds kWaitLimit{20'000};

// Calls `done` until it returns true or `limit` has passed, sleeping between calls (1 ms at
// first, backing off to 50 ms). Bounded in time and in count: every round but the last sleeps at
// least 1 ms or reaches the deadline. `done` is called once more at the deadline, so a slow last
// sleep does not fail the wait.
template <typename Predicate>
[[nodiscard]] ::testing::AssertionResult WaitFor(Predicate&& done, std::string_view what,
                                                 std::chrono::milliseconds limit = kWaitLimit) {
  using Clock = std::chrono::steady_clock;
  constexpr std::chrono::milliseconds kMaxPause{50};
  const Clock::time_point deadline = Clock::now() + limit;
  std::chrono::milliseconds pause{1};
  for (int64_t round = 0; round <= limit.count() + 1; ++round) {
    if (done()) return ::testing::AssertionSuccess();
    const Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, kMaxPause);
  }
  return ::testing::AssertionFailure()
         << "timed out after " << limit.count() << " ms waiting for " << what;
}

}  // namespace relaytap::testing
