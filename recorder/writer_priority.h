#pragma once
// The recorder's writer thread runs at a lower priority than the relay's io threads while its
// queue is shallow, so that under CPU contention the relay wins and the queue absorbs the delay;
// once the backlog passes half the queue's bound it goes back to the process's priority (so a
// busy machine does not turn a low priority into drops), and lowers it again once the backlog
// is under an eighth. Thread rule: constructed and used on the writer thread only; on Linux a
// nice value set through a thread id applies to that thread alone.
//
// Going back up needs CAP_SYS_NICE (or RLIMIT_NICE): without it the first refusal is logged and
// the thread stays at the lower priority (overflow is dropped and written as a gap, as always).

#include <sys/types.h>

#include <cstdint>

namespace relaytap::recorder {

class WriterPriority {
 public:
  // Names the calling thread "relaytap-rec" and raises its nice value by `increment` (capped at
  // 19). 0 or less: the priority is never changed.
  explicit WriterPriority(int increment);

  // Called with the queue's current fill before each batch.
  void OnBacklog(uint64_t queued_bytes, uint64_t max_bytes);

  bool lowered() const { return lowered_; }

 private:
  bool Set(int nice);

  pid_t tid_ = 0;
  int base_ = 0;
  int low_ = 0;
  bool lowered_ = false;
  bool can_restore_ = true;
};

}  // namespace relaytap::recorder
