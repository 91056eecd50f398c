// The writer thread names itself and lowers its own priority (RecorderOptions::
// writer_nice_increment) so the relay's io threads win the CPU; the rest of the process keeps its
// priority.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "tests/recorder/recorder_test_support.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/wait.h"

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
  return relaytap::testing::WaitFor([&] { return r.stats().written >= n; }, "committed rows")
         << " (written " << r.stats().written << " < " << n << ")";
}

// Waits (bounded) until the writer thread's nice value is `want`.
::testing::AssertionResult WaitNice(int want) {
  return relaytap::testing::WaitFor([&] { return NiceOfThreadNamed("relaytap-rec") == want; },
                                    "the writer's nice value")
         << " (" << NiceOfThreadNamed("relaytap-rec").value_or(-100) << " != " << want << ")";
}

// Whether this process may lower a thread's nice value again (root or CAP_SYS_NICE).
bool CanRestorePriority() {
  bool ok = false;
  std::thread t([&ok] {
    const id_t tid = static_cast<id_t>(gettid());
    errno = 0;
    const int base = getpriority(PRIO_PROCESS, tid);
    if (errno != 0 || base >= 19) return;
    ok = setpriority(PRIO_PROCESS, tid, base + 1) == 0 && setpriority(PRIO_PROCESS, tid, base) == 0;
  });
  t.join();
  return ok;
}

// Holds the writer inside its Nth batch until released (bounded: 10 s, then lets it go).
class BatchGate {
 public:
  void Enter() {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return released_ >= entered_; });
  }
  bool WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_ >= n; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    ++released_;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  int released_ = 0;
};

std::unique_ptr<Recorder> OpenWithIncrement(const std::string& dir, int increment,
                                            BatchGate* gate = nullptr) {
  RecorderOptions o;
  o.db_path = dir + "/relaytap.db";
  o.key_dir = dir + "/ca";
  o.batch_interval = absl::Milliseconds(5);
  o.writer_nice_increment = increment;
  o.queue_max_bytes = 1 << 20;
  if (gate) o.before_batch_for_test = [gate](sqlite::Database&) { gate->Enter(); };
  auto r = Recorder::Open(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(WriterPriorityTest, WriterThreadRunsAtALowerPriorityThanTheRest) {
  if (!CanRestorePriority()) GTEST_SKIP() << "no CAP_SYS_NICE: the writer keeps its priority";
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

// A push that takes the backlog past a quarter of the queue brings the writer back to the
// process's priority (so a busy machine does not turn the lower priority into drops), even while
// the writer is stuck in a batch; once drained it is lowered again.
TEST(WriterPriorityTest, ABacklogPastAQuarterOfTheQueueRestoresThePriorityUntilDrained) {
  if (!CanRestorePriority()) GTEST_SKIP() << "no CAP_SYS_NICE: a nice value cannot go back down";
  const int base = getpriority(PRIO_PROCESS, 0);
  const int low = std::min(19, base + 7);
  if (low == base) GTEST_SKIP() << "already at nice 19";
  BatchGate gate;
  auto rec = OpenWithIncrement(testing::MakeTempDir("writer_nice_backlog"), 7, &gate);
  ASSERT_NE(rec, nullptr);
  ASSERT_TRUE(rec->TrySubmit(testing::Closed(1, testing::kT0)));
  ASSERT_TRUE(gate.WaitEntered(1));  // the writer is held inside its first batch
  ASSERT_TRUE(WaitNice(low));
  const std::string audio = R"({"type":"input_audio_buffer.append","audio":")" +
                            testing::Base64(6000, 'b') + "\"}";  // ~8 KB
  int submitted = 0;
  for (; submitted < 70; ++submitted) {  // ~0.6 MiB of the 1 MiB bound: past a quarter, no drop
    ASSERT_TRUE(rec->TrySubmit(testing::Text(2, submitted + 1, WsDirection::kClientToServer,
                                             testing::kT0 + submitted, audio)));
  }
  // Restored by the pushes themselves: the writer is still held inside its first batch.
  EXPECT_TRUE(WaitNice(base));
  gate.Release();
  ASSERT_TRUE(gate.WaitEntered(2));  // the batch of the backlog, held again: still restored
  EXPECT_TRUE(WaitNice(base));
  gate.Release();
  ASSERT_TRUE(WaitWritten(*rec, 1 + submitted));
  EXPECT_TRUE(WaitNice(low));  // drained: lowered again
  EXPECT_EQ(rec->stats().dropped, 0u);
  for (int i = 0; i < 8; ++i) gate.Release();  // later batches (the final one at Close) pass
  EXPECT_TRUE(rec->Close().ok());
}

}  // namespace
}  // namespace relaytap::recorder
