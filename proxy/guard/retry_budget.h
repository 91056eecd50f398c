#pragma once
// A retry budget over a sliding window (not only retries in flight: retries waiting in client
// backoff still count, cf. envoy#30205). Retries may be at most budget_percent of the attempts
// sent for the key in the window, but min_retries are always allowed so low traffic can retry.

#include <cstdint>

#include "proxy/guard/policy.h"
#include "proxy/guard/sliding_window.h"

namespace relaytap::proxy::guard {

class RetryBudget {
 public:
  RetryBudget(const RetryBudgetPolicy& policy, int64_t window_us)
      : policy_(policy), window_us_(window_us) {}

  // Retries allowed in the current window, given the attempts sent in it.
  int64_t Allowed(int64_t now_us) const;
  // True if one more retry fits now.
  bool CanRetry(int64_t now_us) const { return retries(now_us) < Allowed(now_us); }
  // An attempt was sent upstream.
  void OnSent(bool retry, int64_t now_us);

  int64_t attempts(int64_t now_us) const { return attempts_.Sum(now_us, window_us_); }
  int64_t retries(int64_t now_us) const { return retries_.Sum(now_us, window_us_); }

 private:
  RetryBudgetPolicy policy_;
  int64_t window_us_;
  SlidingWindow attempts_, retries_;
};

}  // namespace relaytap::proxy::guard
