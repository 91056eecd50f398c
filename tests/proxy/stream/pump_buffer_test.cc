// The pumps' per-thread buffer cache: a released buffer is the next one taken on the thread, the
// cache holds at most kCachedPerThread, and a buffer stays its holder's until released.
#include "proxy/stream/pump_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace relaytap::proxy {
namespace {

TEST(PumpBufferTest, AReleasedBufferIsTheNextOneTakenOnTheThread) {
  PumpBuffer a;
  EXPECT_FALSE(a.held());
  char* first = a.Get();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(a.Get(), first);                    // held: the same buffer until released
  std::memset(first, 'x', PumpBuffer::kBytes);  // the whole size is writable
  const size_t cached = PumpBuffer::CachedOnThisThread();
  a.Release();
  EXPECT_FALSE(a.held());
  EXPECT_EQ(PumpBuffer::CachedOnThisThread(), cached + 1);
  PumpBuffer b;
  EXPECT_EQ(b.Get(), first);
  EXPECT_EQ(PumpBuffer::CachedOnThisThread(), cached);
}

TEST(PumpBufferTest, TheCacheIsBoundedAndHoldersKeepDistinctBuffers) {
  std::vector<std::unique_ptr<PumpBuffer>> held;
  std::vector<char*> seen;
  for (size_t i = 0; i < 2 * PumpBuffer::kCachedPerThread; ++i) {
    held.push_back(std::make_unique<PumpBuffer>());
    char* p = held.back()->Get();
    for (char* q : seen) ASSERT_NE(p, q);
    seen.push_back(p);
  }
  held.clear();  // releases all: the cache keeps only kCachedPerThread, frees the rest
  EXPECT_EQ(PumpBuffer::CachedOnThisThread(), PumpBuffer::kCachedPerThread);
}

TEST(PumpBufferTest, EachThreadHasItsOwnCache) {
  PumpBuffer mine;
  mine.Get();
  mine.Release();
  const size_t here = PumpBuffer::CachedOnThisThread();
  ASSERT_GT(here, 0u);
  size_t there_before = 99, there_after = 99;
  std::thread t([&] {
    there_before = PumpBuffer::CachedOnThisThread();
    PumpBuffer b;
    b.Get();
    b.Release();
    there_after = PumpBuffer::CachedOnThisThread();
  });
  t.join();
  EXPECT_EQ(there_before, 0u);
  EXPECT_EQ(there_after, 1u);
  EXPECT_EQ(PumpBuffer::CachedOnThisThread(), here);
}

}  // namespace
}  // namespace relaytap::proxy
