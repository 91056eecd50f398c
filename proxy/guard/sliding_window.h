#pragma once
// A count over a sliding time window, kept in ten buckets (so it forgets in steps of a tenth of
// the window). Fixed size, no allocation: the guard keeps several per key.

#include <array>
#include <cstdint>

namespace relaytap::proxy::guard {

class SlidingWindow {
 public:
  static constexpr int kBuckets = 10;

  void Add(int64_t now_us, int64_t window_us, int64_t n = 1) {
    int64_t epoch = Epoch(now_us, window_us);
    int slot = static_cast<int>(epoch % kBuckets);
    if (epochs_[slot] != epoch) {
      epochs_[slot] = epoch;
      counts_[slot] = 0;
    }
    counts_[slot] += n;
  }

  int64_t Sum(int64_t now_us, int64_t window_us) const {
    int64_t epoch = Epoch(now_us, window_us);
    int64_t sum = 0;
    for (int i = 0; i < kBuckets; ++i) {
      if (epochs_[i] > epoch - kBuckets && epochs_[i] <= epoch) sum += counts_[i];
    }
    return sum;
  }

  void Clear() {
    counts_.fill(0);
    epochs_.fill(-1);
  }

 private:
  static int64_t Epoch(int64_t now_us, int64_t window_us) {
    int64_t width = window_us / kBuckets > 0 ? window_us / kBuckets : 1;
    return now_us / width;
  }

  std::array<int64_t, kBuckets> counts_{};
  std::array<int64_t, kBuckets> epochs_{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
};

}  // namespace relaytap::proxy::guard
