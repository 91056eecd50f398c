#pragma once
// The bytes that WebSocket messages being reassembled may hold, across every frame tap of the
// process (#14 item 4). A tap takes from the budget before its message's payload grows and gives
// it all back when the message is handed on (the recorder's queue has its own bound) or dropped.
// When the budget is spent, the message is still counted and timed but its payload is not kept,
// so a crowd of large or half-sent messages cannot make the proxy's memory grow without bound.
// Thread rule: TryTake/Give from any thread (one atomic); the process budget lives for ever.

#include <atomic>
#include <cstdint>

namespace relaytap::proxy::ws {

class ReassemblyBudget {
 public:
  static constexpr uint64_t kDefaultProcessBytes = uint64_t{128} << 20;

  explicit ReassemblyBudget(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  ReassemblyBudget(const ReassemblyBudget&) = delete;
  ReassemblyBudget& operator=(const ReassemblyBudget&) = delete;

  // The budget every tap uses unless told otherwise: kDefaultProcessBytes.
  static ReassemblyBudget& Process();

  // Takes `bytes` if they fit under the bound; false (and nothing taken) otherwise.
  bool TryTake(uint64_t bytes) {
    uint64_t held = held_.load(std::memory_order_relaxed);
    do {
      if (bytes > max_bytes_ || held > max_bytes_ - bytes) return false;
    } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
    return true;
  }
  void Give(uint64_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }

  uint64_t held() const { return held_.load(std::memory_order_relaxed); }
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  const uint64_t max_bytes_;
  std::atomic<uint64_t> held_{0};
};

}  // namespace relaytap::proxy::ws
