#include "recorder/writer_priority.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace relaytap::recorder {

void WriterPriority::AttachToCurrentThread() {
  pthread_setname_np(pthread_self(), "relaytap-rec");
  if (increment_ <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  tid_ = gettid();
  errno = 0;
  base_ = getpriority(PRIO_PROCESS, static_cast<id_t>(tid_));
  if (errno != 0) return;
  low_ = std::min(19, base_ + increment_);
  if (low_ == base_) return;
  // Lowering is only safe if it can be undone: without CAP_SYS_NICE (or RLIMIT_NICE) a thread
  // can never get its priority back, and a writer stuck low on a busy machine drops. Probe one
  // level down and back (harmless either way: at worst the thread stays one level lower).
  if (!Set(base_ + 1) || !Set(base_)) {
    low_ = base_;
    RELAYTAP_LOG(kInfo,
                 "recorder: the writer thread keeps the relay's priority (a lowered "
                 "priority could not be raised back without CAP_SYS_NICE)");
    return;
  }
  if (Set(low_)) {
    lowered_.store(true);
  } else {
    low_ = base_;
    RELAYTAP_LOG(kWarn, "recorder: cannot lower the writer thread's priority (",
                 std::strerror(errno), "); it competes with the relay for CPU");
  }
}

void WriterPriority::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  lowered_.store(false);
  low_ = base_;  // never lowered again
}

bool WriterPriority::Set(int nice) const {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(tid_), nice) == 0;
}

void WriterPriority::Restore() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lowered_.load()) return;  // another thread did, or the writer detached
  if (Set(base_)) {
    lowered_.store(false);
    return;
  }
  const int err = errno;
  lowered_.store(false);  // stays low; do not retry on every push
  can_restore_ = false;
  RELAYTAP_LOG(kWarn,
               "recorder: writer backlog past a quarter of the queue, but its priority "
               "cannot be raised back (",
               std::strerror(err), "); it may drop under load");
}

void WriterPriority::OnWriterBacklog(uint64_t queued_bytes, uint64_t max_bytes) {
  if (lowered_.load(std::memory_order_relaxed) || queued_bytes >= max_bytes / 16) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (low_ == base_ || !can_restore_ || lowered_.load()) return;
  if (Set(low_)) lowered_.store(true);
}

}  // namespace relaytap::recorder
