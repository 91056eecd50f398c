#pragma once
// Multi-producer, single-consumer queue bounded in BYTES (the producer states each item's size).
// TryPush never waits for the consumer: it takes a short mutex section and either keeps the item
// or counts it as dropped (count, bytes, and the time span of the drops). The consumer pops whole
// batches with a bounded wait. Thread rule: TryPush from any thread; PopBatch/TakeDrops from the
// one consumer thread; Close from any thread.
//
// The items live in a ring of slots that grows by doubling and is kept while the queue is in use:
// a std::deque allocated a node per item (an Observation is 600 bytes, more than a deque block)
// on the producing io thread and freed it on the consumer, a cross-thread malloc and free per
// recorded message (BENCHMARKS.md, session 24). A ring emptied at more than kKeptSlots slots
// gives its memory back.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace relaytap::recorder {

struct DropStats {
  uint64_t observations = 0;
  uint64_t bytes = 0;
  int64_t first_us = 0;  // UTC microseconds of the first and last drop; 0 when none
  int64_t last_us = 0;

  bool empty() const { return observations == 0; }
  void Add(uint64_t n, uint64_t b, int64_t from_us, int64_t to_us) {
    if (n == 0) return;
    if (observations == 0 || from_us < first_us) first_us = from_us;
    if (to_us > last_us) last_us = to_us;
    observations += n;
    bytes += b;
  }
};

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // Keeps `item` if `bytes` more fit under the bound and the queue is open; otherwise counts a
  // drop stamped `now_us` and returns false. `item` is left untouched on failure. `queued_bytes`
  // (if given) receives the fill after the call.
  bool TryPush(T&& item, uint64_t bytes, int64_t now_us, uint64_t* queued_bytes = nullptr) {
    absl::MutexLock lock(&mu_);
    if (queued_bytes != nullptr) *queued_bytes = bytes_;
    if (closed_ || bytes > max_bytes_ - std::min(bytes_, max_bytes_)) {
      drops_.Add(1, bytes, now_us, now_us);
      total_dropped_ += 1;
      return false;
    }
    items_.Push(std::move(item), bytes);
    bytes_ += bytes;
    total_pushed_ += 1;
    if (queued_bytes != nullptr) *queued_bytes = bytes_;
    if (items_.size() == wake_items_) cv_.Signal();
    return true;
  }

  // Waits until `deadline`, until at least `wake_items` are queued, or until Close(); then moves
  // up to `max_items` into `out` (appended). Returns false once closed and empty.
  bool PopBatch(std::vector<T>* out, absl::Time deadline, size_t wake_items, size_t max_items) {
    absl::MutexLock lock(&mu_);
    wake_items_ = std::max<size_t>(wake_items, 1);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || items_.size() >= wake_items_;
    };
    while (!ready()) {
      if (cv_.WaitWithDeadline(&mu_, deadline)) break;
    }
    wake_items_ = std::numeric_limits<size_t>::max();
    size_t n = std::min(items_.size(), max_items);
    for (size_t i = 0; i < n; ++i) bytes_ -= items_.PopInto(*out);
    if (items_.size() == 0) items_.ShrinkIfLarge();
    return !(closed_ && items_.size() == 0 && n == 0);
  }

  // Refuses further pushes (they count as drops) and wakes the consumer.
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    cv_.SignalAll();
  }

  // Returns the drops since the last call and resets them.
  DropStats TakeDrops() {
    absl::MutexLock lock(&mu_);
    return std::exchange(drops_, DropStats{});
  }
  // Puts back drops that could not be written yet (merged with newer ones).
  void ReturnDrops(const DropStats& d) {
    absl::MutexLock lock(&mu_);
    drops_.Add(d.observations, d.bytes, d.first_us, d.last_us);
  }

  uint64_t bytes() const {
    absl::MutexLock lock(&mu_);
    return bytes_;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return items_.size();
  }
  uint64_t total_dropped() const {
    absl::MutexLock lock(&mu_);
    return total_dropped_;
  }
  uint64_t total_pushed() const {
    absl::MutexLock lock(&mu_);
    return total_pushed_;
  }
  uint64_t max_bytes() const { return max_bytes_; }
  size_t slots_for_test() const {
    absl::MutexLock lock(&mu_);
    return items_.capacity();
  }

  // A ring emptied at more slots than this frees them (a burst's backlog is not kept).
  static constexpr size_t kKeptSlots = 4096;

 private:
  // FIFO of (item, bytes) in a ring of slots; a slot outside [head, head + size) holds a
  // default-constructed item.
  class Ring {
   public:
    size_t size() const { return size_; }
    size_t capacity() const { return slots_.size(); }
    void Push(T&& item, uint64_t bytes) {
      if (size_ == slots_.size()) Grow();
      Slot& slot = slots_[(head_ + size_) % slots_.size()];
      slot.item = std::move(item);
      slot.bytes = bytes;
      ++size_;
    }
    // Moves the oldest item to the end of `out`; returns its bytes. Precondition: size() > 0.
    uint64_t PopInto(std::vector<T>& out) {
      Slot& slot = slots_[head_];
      out.push_back(std::move(slot.item));
      slot.item = T();  // what the move left behind goes now, on this thread
      head_ = (head_ + 1) % slots_.size();
      --size_;
      return slot.bytes;
    }
    void ShrinkIfLarge() {
      if (size_ == 0 && slots_.size() > kKeptSlots) {
        std::vector<Slot>().swap(slots_);
        head_ = 0;
      }
    }

   private:
    struct Slot {
      T item{};
      uint64_t bytes = 0;
    };
    void Grow() {
      std::vector<Slot> bigger(std::max<size_t>(64, slots_.size() * 2));
      for (size_t i = 0; i < size_; ++i) {
        bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
      }
      slots_.swap(bigger);
      head_ = 0;
    }
    std::vector<Slot> slots_;
    size_t head_ = 0;
    size_t size_ = 0;
  };

  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  Ring items_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  DropStats drops_ ABSL_GUARDED_BY(mu_);
  uint64_t total_dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t total_pushed_ ABSL_GUARDED_BY(mu_) = 0;
  size_t wake_items_ ABSL_GUARDED_BY(mu_) = std::numeric_limits<size_t>::max();
};

}  // namespace relaytap::recorder
