#pragma once
// glibc malloc settings for the long-running proxy (not for the short commands).

namespace relaytap {

// Fixes glibc's trim and mmap thresholds (see the .cc for why and what it costs). Call once,
// early, before the proxy's threads start. Returns false if glibc refused a setting (the
// defaults then stay; nothing else depends on it).
bool KeepFreedMemoryInTheHeap();

}  // namespace relaytap
