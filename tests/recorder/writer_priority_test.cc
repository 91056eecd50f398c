// The writer thread names itself and lowers its own priority (RecorderOptions::
// writer_nice_increment) so the relay's io threads win the CPU; the rest of the process keeps its
// priority.
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder {
namespace {

// The nice value of this process's thread named `name` (from /proc/self/task/*/stat, field 19),
// or nullopt if there is no such thread.
std::optional<int> NiceOfThreadNamed(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
    size_t close = stat.rfind(')');  // the name may hold spaces; fields follow the last ')'
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
      if (i == 19) return std::stoi(field);
    }
  }
  return std::nullopt;
}

// Waits (bounded) until the writer has committed `n` observations: it has run its set-up.
::testing::AssertionResult WaitWritten(const Recorder& r, uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (r.stats().written >= n) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return ::testing::AssertionFailure() << "written " << r.stats().written << " < " << n;
}

std::unique_ptr<Recorder> OpenWithIncrement(const std::string& dir, int increment) {
  RecorderOptions o;
  o.db_path = dir + "/relaytap.db";
  o.key_dir = dir + "/ca";
  o.batch_interval = absl::Milliseconds(5);
  o.writer_nice_increment = increment;
  auto r = Recorder::Open(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(WriterPriorityTest, WriterThreadRunsAtALowerPriorityThanTheRest) {
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, 0);  // this (the main) thread
  ASSERT_EQ(errno, 0);
  auto rec = OpenWithIncrement(testing::MakeTempDir("writer_nice"), 7);
  ASSERT_NE(rec, nullptr);
  ASSERT_TRUE(rec->TrySubmit(testing::Closed(1, 1'752'566'400'000'000)));
  ASSERT_TRUE(WaitWritten(*rec, 1));
  EXPECT_EQ(NiceOfThreadNamed("relaytap-rec"), std::min(19, base + 7));
  EXPECT_EQ(getpriority(PRIO_PROCESS, 0), base);  // the caller's thread is untouched
  EXPECT_TRUE(rec->Close().ok());
}

TEST(WriterPriorityTest, ZeroIncrementKeepsTheProcessPriority) {
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  auto rec = OpenWithIncrement(testing::MakeTempDir("writer_nice0"), 0);
  ASSERT_NE(rec, nullptr);
  ASSERT_TRUE(rec->TrySubmit(testing::Closed(1, 1'752'566'400'000'000)));
  ASSERT_TRUE(WaitWritten(*rec, 1));
  EXPECT_EQ(NiceOfThreadNamed("relaytap-rec"), base);
  EXPECT_TRUE(rec->Close().ok());
}

}  // namespace
}  // namespace relaytap::recorder
