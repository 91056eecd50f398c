#pragma once
// A recorder::Sink for loopback tests that keeps every observation in memory, in arrival order.
// Waits block on a condition variable (woken by each TrySubmit) and are bounded in time.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <variant>
#include <vector>

#include "recorder/sink.h"
#include "tests/testing/wait.h"

namespace relaytap::testing {

class RecordingSink : public recorder::Sink {
 public:
  // recorder::Sink
  bool TrySubmit(recorder::Observation&& obs) noexcept override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      all_.push_back(std::move(obs));
    }
    arrived_.notify_all();
    return true;
  }

  // The observations of type T (that satisfy `keep`), in arrival order.
  template <typename T, typename Keep>
  std::vector<T> Of(Keep keep) const {
    std::lock_guard<std::mutex> lock(mu_);
    return OfLocked<T>(keep);
  }
  template <typename T>
  std::vector<T> Of() const {
    return Of<T>(Any{});
  }

  // Waits until at least `n` observations of type T (that satisfy `keep`) arrived.
  template <typename T, typename Keep>
  [[nodiscard]] ::testing::AssertionResult WaitFor(size_t n, Keep keep,
                                                   std::chrono::milliseconds limit = kWaitLimit) {
    std::unique_lock<std::mutex> lock(mu_);
    if (arrived_.wait_for(lock, limit, [&] { return CountLocked<T>(keep) >= n; })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "timed out after " << limit.count() << " ms: " << CountLocked<T>(keep) << " of " << n
           << " observations of the awaited type arrived";
  }
  template <typename T>
  [[nodiscard]] ::testing::AssertionResult WaitFor(size_t n,
                                                   std::chrono::milliseconds limit = kWaitLimit) {
    return WaitFor<T>(n, Any{}, limit);
  }

 private:
  struct Any {
    template <typename T>
    bool operator()(const T&) const {
      return true;
    }
  };
  template <typename T, typename Keep>
  std::vector<T> OfLocked(Keep& keep) const {
    std::vector<T> out;
    for (const auto& o : all_) {
      const T* t = std::get_if<T>(&o);
      if (t != nullptr && keep(*t)) out.push_back(*t);
    }
    return out;
  }

  template <typename T, typename Keep>
  size_t CountLocked(Keep& keep) const {
    size_t n = 0;
    for (const auto& o : all_) {
      const T* t = std::get_if<T>(&o);
      if (t != nullptr && keep(*t)) ++n;
    }
    return n;
  }

  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<recorder::Observation> all_;  // guarded by mu_
};

}  // namespace relaytap::testing
