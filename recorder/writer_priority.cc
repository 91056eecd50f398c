#include "recorder/writer_priority.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace relaytap::recorder {

WriterPriority::WriterPriority(int increment) : tid_(gettid()) {
  pthread_setname_np(pthread_self(), "relaytap-rec");
  if (increment <= 0) return;
  errno = 0;
  base_ = getpriority(PRIO_PROCESS, static_cast<id_t>(tid_));
  if (errno != 0) return;
  low_ = std::min(19, base_ + increment);
  if (low_ == base_) return;
  if (Set(low_)) {
    lowered_ = true;
  } else {
    RELAYTAP_LOG(kWarn, "recorder: cannot lower the writer thread's priority (",
                 std::strerror(errno), "); it competes with the relay for CPU");
  }
}

bool WriterPriority::Set(int nice) {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(tid_), nice) == 0;
}

void WriterPriority::OnBacklog(uint64_t queued_bytes, uint64_t max_bytes) {
  if (low_ == base_) return;  // never lowered: nothing to adapt
  if (lowered_ && can_restore_ && queued_bytes > max_bytes / 2) {
    if (Set(base_)) {
      lowered_ = false;
      RELAYTAP_LOG(kDebug, "recorder: writer backlog ", queued_bytes, " bytes: normal priority");
    } else {
      can_restore_ = false;
      RELAYTAP_LOG(kWarn, "recorder: writer backlog past half the queue, but its priority cannot "
                   "be raised back (", std::strerror(errno), "); it may drop under load");
    }
  } else if (!lowered_ && queued_bytes < max_bytes / 8) {
    if (Set(low_)) lowered_ = true;
  }
}

}  // namespace relaytap::recorder
