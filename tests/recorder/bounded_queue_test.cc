#include "recorder/bounded_queue.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace relaytap::recorder {
namespace {

TEST(BoundedQueueTest, KeepsItemsUnderTheByteBoundAndCountsDrops) {
  BoundedQueue<std::string> q(100);
  EXPECT_TRUE(q.TryPush("a", 60, 1000));
  EXPECT_TRUE(q.TryPush("b", 40, 1001));
  EXPECT_FALSE(q.TryPush("c", 1, 2000));
  EXPECT_FALSE(q.TryPush("d", 30, 3000));
  EXPECT_EQ(q.bytes(), 100u);
  DropStats d = q.TakeDrops();
  EXPECT_EQ(d.observations, 2u);
  EXPECT_EQ(d.bytes, 31u);
  EXPECT_EQ(d.first_us, 2000);
  EXPECT_EQ(d.last_us, 3000);
  EXPECT_TRUE(q.TakeDrops().empty());
  EXPECT_EQ(q.total_dropped(), 2u);
}

TEST(BoundedQueueTest, PopBatchFreesBytesAndKeepsOrder) {
  BoundedQueue<int> q(10);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.TryPush(int{i}, 2, 0));
  std::vector<int> out;
  ASSERT_TRUE(q.PopBatch(&out, absl::Now(), 1, 3));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(q.bytes(), 4u);
  EXPECT_TRUE(q.TryPush(9, 6, 0));
}

TEST(BoundedQueueTest, PopBatchWaitIsBoundedWhenEmpty) {
  BoundedQueue<int> q(10);
  std::vector<int> out;
  absl::Time start = absl::Now();
  EXPECT_TRUE(q.PopBatch(&out, start + absl::Milliseconds(20), 1, 10));
  EXPECT_TRUE(out.empty());
}

TEST(BoundedQueueTest, CloseWakesConsumerAndRefusesPushes) {
  BoundedQueue<int> q(10);
  ASSERT_TRUE(q.TryPush(1, 1, 0));
  std::thread closer([&q] { q.Close(); });
  std::vector<int> out;
  EXPECT_TRUE(q.PopBatch(&out, absl::Now() + absl::Seconds(10), 100, 10));
  closer.join();
  EXPECT_EQ(out, std::vector<int>{1});
  EXPECT_FALSE(q.PopBatch(&out, absl::Now() + absl::Seconds(10), 100, 10));
  EXPECT_FALSE(q.TryPush(2, 1, 5));
  EXPECT_EQ(q.TakeDrops().observations, 1u);
}

TEST(BoundedQueueTest, ManyProducersNeverBlockAndAccountForEverything) {
  BoundedQueue<int> q(1000);
  std::atomic<uint64_t> kept{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) kept += q.TryPush(int{i}, 10, 1) ? 1 : 0;
    });
  }
  for (auto& p : producers) p.join();
  EXPECT_EQ(kept.load(), 100u);
  EXPECT_EQ(q.TakeDrops().observations, 20000u - 100u);
}

// The ring wraps around and grows with items in it, in order, and keeps its slots between
// batches (no allocation per item) until a burst's backlog is emptied.
TEST(BoundedQueueTest, TheRingWrapsGrowsKeepsOrderAndGivesABurstBack) {
  BoundedQueue<std::string> q(uint64_t{1} << 40);
  std::vector<std::string> out;
  int next_in = 0, next_out = 0;
  const auto push = [&](int n) {
    for (int i = 0; i < n; ++i, ++next_in) ASSERT_TRUE(q.TryPush(std::to_string(next_in), 1, 0));
  };
  const auto pop = [&](size_t max) {
    out.clear();
    ASSERT_TRUE(q.PopBatch(&out, absl::Now(), 1, max));
    for (const std::string& s : out) EXPECT_EQ(s, std::to_string(next_out++));
  };
  push(50);
  pop(40);   // head at 40 of 64 slots
  push(60);  // wraps, then grows with 70 items in it
  EXPECT_EQ(q.size(), 70u);
  EXPECT_EQ(q.slots_for_test(), 128u);
  pop(1000);
  EXPECT_EQ(next_out, 110);
  EXPECT_EQ(q.slots_for_test(), 128u);  // kept for the next batches
  EXPECT_EQ(q.bytes(), 0u);

  push(static_cast<int>(BoundedQueue<std::string>::kKeptSlots) + 1);  // a burst
  EXPECT_GT(q.slots_for_test(), BoundedQueue<std::string>::kKeptSlots);
  pop(100);
  EXPECT_GT(q.slots_for_test(), BoundedQueue<std::string>::kKeptSlots);  // not empty yet
  pop(1 << 20);
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(q.slots_for_test(), 0u);  // emptied: the burst's slots are gone
  push(3);
  pop(10);
  EXPECT_EQ(next_out, next_in);
}

}  // namespace
}  // namespace relaytap::recorder
