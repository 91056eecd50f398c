#pragma once
// The recorder's writer thread runs at a lower priority than the relay's io threads while its
// queue is shallow, so that under CPU contention the relay wins and the queue absorbs the delay.
// The moment a push takes the backlog past a quarter of the queue's bound, the pushing thread puts
// the writer back to the process's priority (so a busy machine does not turn a low priority into
// drops: a writer starved at a low priority cannot notice its own backlog in time); the writer
// lowers itself again once its backlog is under a sixteenth. On Linux a nice value set through a
// thread id applies to that thread alone.
// Thread rule: AttachToCurrentThread, OnWriterBacklog and Detach on the writer thread; OnPush from
// any thread (one relaxed atomic load unless the backlog is deep; priority changes are rare and
// take a mutex).
//
// Going back up needs CAP_SYS_NICE (or RLIMIT_NICE). The writer probes that before it lowers
// itself; where it cannot, it keeps the relay's priority (a priority that can never come back
// would turn a busy machine into drops). Should a later raise still be refused, that is logged
// once and the thread stays lower (overflow is dropped and written as a gap, as always).

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace relaytap::recorder {

class WriterPriority {
 public:
  // `increment`: nice levels below the process while the backlog is shallow (capped at nice
  // 19); 0 or less never changes the priority.
  explicit WriterPriority(int increment) : increment_(increment) {}

  // Names the calling thread "relaytap-rec" and lowers its priority.
  void AttachToCurrentThread();
  // The writer thread is about to end: its id must not be reniced any more (ids are reused).
  void Detach();

  // After a push (or a refused one): the queue's fill and bound.
  void OnPush(uint64_t queued_bytes, uint64_t max_bytes) {
    if (queued_bytes > max_bytes / 4 && lowered_.load(std::memory_order_relaxed)) Restore();
  }
  // Before each batch, on the writer thread.
  void OnWriterBacklog(uint64_t queued_bytes, uint64_t max_bytes);

  bool lowered() const { return lowered_.load(std::memory_order_acquire); }

 private:
  void Restore();
  bool Set(int nice) const;

  const int increment_;
  std::mutex mu_;  // held while changing the priority or detaching
  pid_t tid_ = 0;  // written before lowered_ is first set, read under mu_
  int base_ = 0;
  int low_ = 0;
  std::atomic<bool> lowered_{false};  // the fast path's flag; changed under mu_
  bool can_restore_ = true;           // under mu_
};

}  // namespace relaytap::recorder
