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

// Items go into blocks of slots, in order across block boundaries; emptied blocks are kept as
// spares (up to kSpareBlocks) for the next items, the rest are freed: no allocation per item, and
// no memory held for a burst's backlog once it is written.
TEST(BoundedQueueTest, BlocksKeepOrderAreReusedAndABurstIsGivenBack) {
  using Queue = BoundedQueue<std::string>;
  constexpr int kBlock = static_cast<int>(Queue::kBlockSlots);
  Queue q(uint64_t{1} << 40);
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
  push(kBlock + 10);  // two blocks
  EXPECT_EQ(q.blocks_for_test(), 2u);
  pop(kBlock - 5);  // the first block not used up yet
  EXPECT_EQ(q.blocks_for_test(), 2u);
  pop(10);  // the first block used up: a spare now
  EXPECT_EQ(q.blocks_for_test(), 1u);
  EXPECT_EQ(q.spare_blocks_for_test(), 1u);
  push(kBlock);  // the spare is filled again, no new block
  EXPECT_EQ(q.blocks_for_test(), 2u);
  EXPECT_EQ(q.spare_blocks_for_test(), 0u);
  pop(1 << 20);
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.blocks_for_test(), 0u);
  EXPECT_EQ(q.spare_blocks_for_test(), 2u);

  push(kBlock * 20);  // a burst: 20 blocks
  EXPECT_EQ(q.blocks_for_test(), 20u);
  pop(1 << 20);
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(q.blocks_for_test(), 0u);
  EXPECT_EQ(q.spare_blocks_for_test(), Queue::kSpareBlocks);  // the rest were freed
  push(3);
  pop(10);
  EXPECT_EQ(next_out, next_in);
}

}  // namespace
}  // namespace relaytap::recorder
