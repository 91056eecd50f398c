#pragma once
// Hands the heap buffers of spent strings back from the thread that is done with them to the
// threads that fill them.
//
// The WebSocket taps reassemble each message's payload into a std::string on an io thread, and
// the recorder's writer thread destroys it once the message is written. So every recorded audio
// message (6 to 8 KB at realtime cadence) was a malloc on one thread and a free on another. glibc
// serves that size from its bins (its per-thread cache stops at about 1 KiB): the free takes the
// allocating arena's lock and the next malloc searches the bins, and _int_malloc, _int_free and
// unlink_chunk were about 1.5 % of the proxy's CPU with recording on (BENCHMARKS.md, session 24).
// Here the writer gives the spent strings back in one batch per transaction, and a tap takes them
// a few at a time into a small per-thread stack: a message costs no allocation and at most one
// lock per kLocalRefill messages. glibc has no cross-thread hand-back of its own, and a general
// allocator (jemalloc, tcmalloc) is not among our dependencies.
//
// Bounded: only strings whose capacity is in [kMinCapacity, kMaxCapacity] are kept, at most
// kMaxSharedBytes of capacity in the shared stack and kLocalRefill strings in each thread's; the
// rest are freed as before. The shared stack must hold about one writer batch of payloads for the
// taps to find a buffer for every message: the writer gives back what it wrote in 100 ms (500
// audio messages in 8 KiB buffers, 4 MiB, at 50 realtime sessions), or 1024 messages when it is
// woken early (8 MiB); the recorder's queue held those bytes anyway. Nothing here belongs to a
// session, so idle sessions hold none of it, and the writer releases the shared stack when a batch
// interval passes without messages.
//
// Thread rule: every member is safe from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace relaytap {

class StringRecycler {
 public:
  static constexpr size_t kMinCapacity = 1024;
  static constexpr size_t kMaxCapacity = 64 * 1024;
  static constexpr size_t kMaxSharedBytes = size_t{8} << 20;
  static constexpr size_t kLocalRefill = 8;

  // The recycler the taps and the recorder share.
  static StringRecycler& Process();

  StringRecycler() = default;
  StringRecycler(const StringRecycler&) = delete;
  StringRecycler& operator=(const StringRecycler&) = delete;

  // An empty string with room for `capacity` bytes (and at most 4 times that) if a recycled one
  // in the calling thread's stack fits, refilled from the shared stack when empty; otherwise an
  // empty string with no buffer (the caller reserves as it would have). Requests under kMinCapacity
  // or over kMaxCapacity always get the latter.
  std::string Take(size_t capacity);

  // The capacity to allocate for `n` bytes when no recycled string fits: `n` rounded up to a
  // multiple of kSizeStep within [kMinCapacity, kMaxCapacity] (so that a buffer fits the next
  // message of about the same size, not only of exactly that size or less), `n` outside it.
  static constexpr size_t kSizeStep = 4096;
  static constexpr size_t SizeClass(size_t n) {
    if (n < kMinCapacity || n > kMaxCapacity) return n;
    return (n + kSizeStep - 1) / kSizeStep * kSizeStep;
  }

  // Makes room for `n` bytes in the empty string `out`: a recycled buffer if one fits (Take),
  // else a fresh one of SizeClass(n), so that it fits the next string of about this size when it
  // comes back. Nothing when `out` already has room.
  void Reserve(std::string& out, size_t n);

  // Gives the buffers of `spent` back (each is cleared first) and empties `spent`. A string is kept
  // while the shared stack has room and its capacity is in range; the rest are freed here.
  void GiveAll(std::vector<std::string>& spent);

  // Frees the shared stack (the threads' own stacks stay: at most kLocalRefill strings each).
  void Release();

  // Strings in the shared stack and their capacity, and strings in the calling thread's stack
  // (tests).
  size_t SharedForTest() const;
  size_t SharedBytesForTest() const;
  size_t LocalForTest() const;
  // Takes that a recycled string served, on the calling thread (tests).
  static uint64_t ServedOnThisThread();

 private:
  mutable std::mutex mu_;
  std::vector<std::string> shared_;  // guarded by mu_; most recently given last
  size_t shared_bytes_ = 0;          // guarded by mu_; the capacities in shared_
  // shared_.size(), written under mu_: a tap with nothing given back (no recorder) takes no lock.
  std::atomic<size_t> shared_count_{0};
};

}  // namespace relaytap
