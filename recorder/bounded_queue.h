#pragma once
// Multi-producer, single-consumer queue bounded in BYTES (the producer states each item's size).
// TryPush never waits for the consumer: it takes a short mutex section and either keeps the item
// or counts it as dropped (count, bytes, and the time span of the drops). The consumer pops whole
// batches with a bounded wait. Thread rule: TryPush from any thread; PopBatch/TakeDrops from the
// one consumer thread; Close from any thread.
//
// The items live in blocks of kBlockSlots slots, and the consumer keeps up to kSpareBlocks emptied
// blocks for the producers to fill again: a std::deque allocated a node per item (an Observation
// is 600 bytes, more than a deque block) on the producing io thread and freed it on the consumer,
// a cross-thread malloc and free per recorded message (BENCHMARKS.md, session 24). Memory follows
// the items as a deque's does: one partly used block at each end beyond them, plus the spares
// (no doubling, no copy of the items when the queue grows).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
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
  size_t blocks_for_test() const {
    absl::MutexLock lock(&mu_);
    return items_.blocks();
  }
  size_t spare_blocks_for_test() const {
    absl::MutexLock lock(&mu_);
    return items_.spares();
  }

  static constexpr size_t kBlockSlots = 128;
  static constexpr size_t kSpareBlocks = 8;

 private:
  // FIFO of (item, bytes) in blocks of slots; a slot not in use holds a default-constructed item.
  class Slots {
   public:
    size_t size() const { return size_; }
    size_t blocks() const { return blocks_.size(); }
    size_t spares() const { return spare_.size(); }
    void Push(T&& item, uint64_t bytes) {
      const size_t pos = head_ + size_;
      if (pos / kBlockSlots == blocks_.size()) blocks_.push_back(TakeBlock());
      Slot& slot = (*blocks_[pos / kBlockSlots])[pos % kBlockSlots];
      slot.item = std::move(item);
      slot.bytes = bytes;
      ++size_;
    }
    // Moves the oldest item to the end of `out`; returns its bytes. Precondition: size() > 0.
    uint64_t PopInto(std::vector<T>& out) {
      Slot& slot = (*blocks_.front())[head_];
      out.push_back(std::move(slot.item));
      slot.item = T();  // what the move left behind goes now, on this thread
      const uint64_t bytes = slot.bytes;
      --size_;
      if (++head_ == kBlockSlots || size_ == 0) {
        // The front block is used up (or the queue is empty): keep it for the producers.
        if (spare_.size() < kSpareBlocks) spare_.push_back(std::move(blocks_.front()));
        blocks_.pop_front();
        head_ = 0;
      }
      return bytes;
    }

   private:
    struct Slot {
      T item{};
      uint64_t bytes = 0;
    };
    using Block = std::array<Slot, kBlockSlots>;
    std::unique_ptr<Block> TakeBlock() {
      if (spare_.empty()) return std::make_unique<Block>();
      std::unique_ptr<Block> b = std::move(spare_.back());
      spare_.pop_back();
      return b;
    }
    std::deque<std::unique_ptr<Block>> blocks_;  // in use; items from blocks_[0][head_]
    std::vector<std::unique_ptr<Block>> spare_;
    size_t head_ = 0;
    size_t size_ = 0;
  };

  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  Slots items_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  DropStats drops_ ABSL_GUARDED_BY(mu_);
  uint64_t total_dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t total_pushed_ ABSL_GUARDED_BY(mu_) = 0;
  size_t wake_items_ ABSL_GUARDED_BY(mu_) = std::numeric_limits<size_t>::max();
};

}  // namespace relaytap::recorder
