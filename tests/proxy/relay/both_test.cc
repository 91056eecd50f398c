// Both(a, b, stop): both results whichever side ends first, the first side started first, and an
// exception on either side rethrown only after the other side ended (the relay's frames must
// outlive both pumps).
#include "proxy/relay/both.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace relaytap::proxy {
namespace {

using std::chrono::milliseconds;

// Ends after `ms` (0: at once), noting its name in `order`, with `value` or by throwing it.
Awaitable<int> After(int ms, int value, std::vector<std::string>& order, std::string name,
                     bool throws = false) {
  if (ms > 0) {
    Timer t(co_await net::this_coro::executor);
    t.expires_after(milliseconds(ms));
    co_await t.async_wait();
  }
  order.push_back(name);
  if (throws) throw std::runtime_error(name);
  co_return value;
}

// Waits until `*released` (polled every millisecond, at most 2 s), then ends.
Awaitable<int> UntilReleased(const bool* released, std::vector<std::string>& order) {
  Timer t(co_await net::this_coro::executor);
  for (int i = 0; i < 2000 && !*released; ++i) {
    t.expires_after(milliseconds(1));
    co_await t.async_wait();
  }
  order.push_back(*released ? "released" : "never released");
  co_return 7;
}

struct Ran {
  std::optional<std::tuple<int, int>> result;
  std::string error;  // what() of the exception Both ended with
  bool ended = false;
};

template <class Make>
Ran RunBoth(Make make) {
  net::io_context ioc;
  Ran ran;
  net::co_spawn(ioc, make(), [&](std::exception_ptr e, std::tuple<int, int> r) {
    ran.ended = true;
    if (!e) {
      ran.result = r;
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& err) {
      ran.error = err.what();
    }
  });
  ioc.run_for(std::chrono::seconds(10));
  return ran;
}

TEST(BothTest, ReturnsBothResultsWhenTheFirstEndsFirst) {
  std::vector<std::string> order;
  Ran ran = RunBoth([&] { return Both(After(0, 1, order, "a"), After(20, 2, order, "b"), [] {}); });
  ASSERT_TRUE(ran.result.has_value());
  EXPECT_EQ(*ran.result, std::make_tuple(1, 2));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

TEST(BothTest, ReturnsBothResultsWhenTheSecondEndsFirst) {
  std::vector<std::string> order;
  Ran ran = RunBoth([&] { return Both(After(20, 1, order, "a"), After(0, 2, order, "b"), [] {}); });
  ASSERT_TRUE(ran.result.has_value());
  EXPECT_EQ(*ran.result, std::make_tuple(1, 2));
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a"}));
}

// The relay's ends depend on it: the first side runs first (the pump test's ordinary ends).
TEST(BothTest, TheFirstSideStartsFirst) {
  std::vector<std::string> order;
  Ran ran = RunBoth([&] { return Both(After(0, 1, order, "a"), After(0, 2, order, "b"), [] {}); });
  ASSERT_TRUE(ran.result.has_value());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

TEST(BothTest, AThrowingSecondSideStopsTheFirstAndRethrowsAfterItEnded) {
  std::vector<std::string> order;
  bool released = false;
  int stops = 0;
  Ran ran = RunBoth([&] {
    return Both(UntilReleased(&released, order), After(5, 2, order, "b", /*throws=*/true), [&] {
      ++stops;
      released = true;
    });
  });
  EXPECT_TRUE(ran.ended);
  EXPECT_EQ(ran.error, "b");
  EXPECT_EQ(stops, 1);
  // The first side ended (released by stop) before Both returned.
  EXPECT_EQ(order, (std::vector<std::string>{"b", "released"}));
}

TEST(BothTest, AThrowingFirstSideIsRethrownOnceTheSecondEnded) {
  std::vector<std::string> order;
  int stops = 0;
  Ran ran = RunBoth([&] {
    return Both(After(0, 1, order, "a", /*throws=*/true), After(20, 2, order, "b"),
                [&] { ++stops; });
  });
  EXPECT_EQ(ran.error, "a");
  EXPECT_EQ(stops, 0);  // stop is for the inline side's failure; the spawned one ends nothing
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace relaytap::proxy
