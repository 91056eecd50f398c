#include "base/malloc_tuning.h"

#include <malloc.h>

namespace relaytap {
namespace {

// Free memory at the top of an arena that glibc keeps instead of returning it to the kernel.
constexpr int kTrimThreshold = 16 << 20;
// Blocks at least this large get their own mapping (glibc's default starts at 128 KiB and rises
// with the blocks freed; fixing the trim threshold fixes this one too, so it is set as well).
constexpr int kMmapThreshold = 4 << 20;

}  // namespace

// Why: with recording on, the io threads allocate each message's payload and the recorder's
// writer frees it, a batch at a time. Each batch freed leaves a free top in the io thread's arena
// larger than glibc's default trim threshold (128 KiB), so the writer gave those pages back
// (madvise MADV_DONTNEED) and the io threads faulted them in again on the next messages:
// sysmalloc with the page faults under it, and madvise, were 2.1-2.2 % of the proxy's CPU samples
// at realtime cadence with recording (perf, 50 sessions), most of it on the relay's own threads.
// With the threshold fixed at 16 MiB: 0.2-0.5 % (BENCHMARKS.md, session 22).
// What it costs: after a burst, each arena (one per io thread, the writer's, the main thread's)
// keeps up to 16 MiB of what it freed, never more than it held at its peak; idle sessions' own
// memory is unchanged (bench.sh --idle 2000 and 9000, A/B 1.00).
bool KeepFreedMemoryInTheHeap() {
  const bool mmap_set = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1;
  const bool trim_set = mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
  return mmap_set && trim_set;
}

}  // namespace relaytap
