// The proxy's malloc thresholds (base/malloc_tuning.h), observed through glibc's own counters. Its
// own test binary: the settings are process-wide.
#include "base/malloc_tuning.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "tests/testing/sanitizers.h"

namespace relaytap {
namespace {

class MallocTuningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::kAddressSanitizer)
      GTEST_SKIP() << "ASan replaces glibc's malloc: nothing to observe";
    ASSERT_TRUE(KeepFreedMemoryInTheHeap());
  }
};

// What the recorder's writer does to the io threads' payloads: a batch of blocks freed at the top
// of the heap. glibc's default (a 128 KiB trim threshold) hands the pages back at once; fixed at
// 16 MiB, they stay for the next allocations.
TEST_F(MallocTuningTest, ABatchFreedAtTheTopStaysInTheHeap) {
  constexpr size_t kBlock = 64 << 10, kBlocks = 128;  // 8 MiB
  std::vector<void*> blocks;
  for (size_t i = 0; i < kBlocks; ++i) {
    void* p = std::malloc(kBlock);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0x5a, kBlock);
    blocks.push_back(p);
  }
  const size_t grown = mallinfo2().arena;
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
  const struct mallinfo2 after = mallinfo2();
  EXPECT_GE(after.arena, grown) << "the freed top was trimmed";
  EXPECT_GE(after.fordblks, kBlock * kBlocks);
}

}  // namespace
}  // namespace relaytap
