#include "base/string_recycler.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace relaytap {
namespace {

std::string WithCapacity(size_t n, char fill = 'x') {
  std::string s;
  s.reserve(n);
  s.assign(n / 2, fill);
  return s;
}

TEST(StringRecyclerTest, AGivenStringIsTakenBackEmptyWithItsBuffer) {
  StringRecycler r;
  std::vector<std::string> spent;
  spent.push_back(WithCapacity(8000));
  const char* buffer = spent.back().data();
  r.GiveAll(spent);
  EXPECT_TRUE(spent.empty());
  EXPECT_EQ(r.SharedForTest(), 1u);

  const uint64_t served = StringRecycler::ServedOnThisThread();
  std::string s = r.Take(6500);
  EXPECT_EQ(s.data(), buffer);
  EXPECT_TRUE(s.empty());
  EXPECT_GE(s.capacity(), 6500u);
  EXPECT_EQ(StringRecycler::ServedOnThisThread(), served + 1);
  EXPECT_EQ(r.SharedForTest(), 0u);
}

TEST(StringRecyclerTest, SizesOutOfRangeAreNeitherKeptNorServed) {
  StringRecycler r;
  std::vector<std::string> spent;
  spent.push_back(WithCapacity(100));
  spent.push_back(WithCapacity(StringRecycler::kMaxCapacity + 4096));
  spent.push_back(std::string());
  r.GiveAll(spent);
  EXPECT_EQ(r.SharedForTest(), 0u);

  spent.push_back(WithCapacity(8000));
  r.GiveAll(spent);
  EXPECT_EQ(r.Take(StringRecycler::kMinCapacity - 1).capacity(), std::string().capacity());
  EXPECT_EQ(r.Take(StringRecycler::kMaxCapacity + 1).capacity(), std::string().capacity());
  EXPECT_EQ(r.SharedForTest(), 1u);  // neither request touched the stack
}

TEST(StringRecyclerTest, ASmallRequestDoesNotHoldALargeBuffer) {
  StringRecycler r;
  std::vector<std::string> spent;
  spent.push_back(WithCapacity(60000));
  r.GiveAll(spent);
  EXPECT_EQ(r.Take(2000).capacity(), std::string().capacity());  // 30 times the request
  EXPECT_EQ(r.LocalForTest(), 1u);  // kept on this thread for a request it fits
  EXPECT_GE(r.Take(40000).capacity(), 40000u);
  EXPECT_EQ(r.LocalForTest(), 0u);
}

TEST(StringRecyclerTest, TooSmallForTheRequestMeansAFreshString) {
  StringRecycler r;
  std::vector<std::string> spent;
  spent.push_back(WithCapacity(2000));
  r.GiveAll(spent);
  EXPECT_EQ(r.Take(9000).capacity(), std::string().capacity());
}

TEST(StringRecyclerTest, TheSharedStackIsBoundedByBytes) {
  StringRecycler r;
  std::vector<std::string> spent;
  std::vector<const char*> buffers;
  const size_t fits = StringRecycler::kMaxSharedBytes / 32768;
  for (size_t i = 0; i < fits + 10; ++i) {
    spent.push_back(WithCapacity(32768 - 1));  // capacity 32767: "fits" of them fit
    buffers.push_back(spent.back().data());
  }
  r.GiveAll(spent);
  EXPECT_EQ(r.SharedForTest(), fits);
  EXPECT_LE(r.SharedBytesForTest(), StringRecycler::kMaxSharedBytes);
  // The first take moves the kLocalRefill most recently kept to this thread, the last on top.
  EXPECT_EQ(r.Take(30000).data(), buffers[fits - 1]);
  EXPECT_EQ(r.LocalForTest(), StringRecycler::kLocalRefill - 1);
  EXPECT_EQ(r.SharedForTest(), fits - StringRecycler::kLocalRefill);

  r.Release();
  EXPECT_EQ(r.SharedForTest(), 0u);
  EXPECT_EQ(r.SharedBytesForTest(), 0u);
  EXPECT_EQ(r.LocalForTest(), StringRecycler::kLocalRefill - 1);  // this thread's stack stays
}

TEST(StringRecyclerTest, AWriterThreadGivesAndAnotherThreadTakes) {
  StringRecycler r;
  std::vector<const char*> given;
  std::thread writer([&] {
    std::vector<std::string> spent;
    for (int i = 0; i < 20; ++i) {
      spent.push_back(WithCapacity(7000, static_cast<char>('a' + i)));
      given.push_back(spent.back().data());
    }
    r.GiveAll(spent);
  });
  writer.join();
  std::vector<const char*> taken;
  std::thread io([&] {
    for (int i = 0; i < 20; ++i) {
      std::string s = r.Take(6500);
      ASSERT_TRUE(s.empty());
      taken.push_back(s.capacity() >= 6500 ? s.data() : nullptr);
      s.assign(6500, 'z');  // used like a payload, then dropped on this thread
      std::string keep = std::move(s);
      (void)keep;
    }
  });
  io.join();
  // Every take was served by a given buffer, most recent first.
  ASSERT_EQ(taken.size(), 20u);
  for (size_t i = 0; i < taken.size(); ++i) EXPECT_EQ(taken[i], given[given.size() - 1 - i]) << i;
  EXPECT_EQ(r.SharedForTest(), 0u);
}

TEST(StringRecyclerTest, ConcurrentGiversAndTakersKeepTheBounds) {
  StringRecycler r;
  constexpr int kRounds = 2000;
  std::thread giver([&] {
    std::vector<std::string> spent;
    for (int i = 0; i < kRounds; ++i) {
      spent.push_back(WithCapacity(5000 + (i % 7) * 500));
      if (spent.size() == 16) r.GiveAll(spent);
    }
    r.GiveAll(spent);
  });
  std::vector<std::thread> takers;
  for (int t = 0; t < 2; ++t) {
    takers.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::string s = r.Take(5000);
        s.assign(5000, 'q');
        EXPECT_LE(r.LocalForTest(), StringRecycler::kLocalRefill);
      }
    });
  }
  giver.join();
  for (std::thread& t : takers) t.join();
  EXPECT_LE(r.SharedBytesForTest(), StringRecycler::kMaxSharedBytes);
}

TEST(StringRecyclerTest, SizeClassesRoundRecyclableSizesUpToTheStep) {
  EXPECT_EQ(StringRecycler::SizeClass(StringRecycler::kMinCapacity - 1),
            StringRecycler::kMinCapacity - 1);
  EXPECT_EQ(StringRecycler::SizeClass(StringRecycler::kMinCapacity), StringRecycler::kSizeStep);
  EXPECT_EQ(StringRecycler::SizeClass(6500), 8192u);
  EXPECT_EQ(StringRecycler::SizeClass(8192), 8192u);
  EXPECT_EQ(StringRecycler::SizeClass(StringRecycler::kMaxCapacity), StringRecycler::kMaxCapacity);
  EXPECT_EQ(StringRecycler::SizeClass(StringRecycler::kMaxCapacity + 1),
            StringRecycler::kMaxCapacity + 1);
}

TEST(StringRecyclerTest, ReserveTakesARecycledBufferOrOneOfTheSizeClass) {
  StringRecycler r;
  std::string fresh;
  r.Reserve(fresh, 6500);
  EXPECT_EQ(fresh.capacity(), StringRecycler::SizeClass(6500));
  std::vector<std::string> spent;
  spent.push_back(std::move(fresh));
  const char* buffer = spent.back().data();
  r.GiveAll(spent);
  std::string next;
  r.Reserve(next, 7000);
  EXPECT_EQ(next.data(), buffer);
  std::string roomy = WithCapacity(9000);
  const char* own = roomy.data();
  roomy.clear();
  r.Reserve(roomy, 5000);  // room already: unchanged
  EXPECT_EQ(roomy.data(), own);
}

}  // namespace
}  // namespace relaytap
