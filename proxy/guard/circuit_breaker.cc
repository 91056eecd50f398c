#include "proxy/guard/circuit_breaker.h"

#include <algorithm>

namespace relaytap::proxy::guard {

std::string_view BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

BreakerAdmission CircuitBreaker::Check(int64_t now_us,
                                       std::optional<BreakerTransition>* transition) {
  BreakerAdmission a;
  if (state_ == BreakerState::kOpen && now_us >= open_until_us_) {
    state_ = BreakerState::kHalfOpen;
    probes_sent_ = 0;
    probe_successes_ = 0;
    if (transition) *transition = BreakerTransition{BreakerState::kOpen, state_, 0};
  }
  if (state_ == BreakerState::kOpen) {
    a.allowed = false;
    a.retry_after_ms = std::max<int64_t>(1, (open_until_us_ - now_us + 999) / 1000);
    return a;
  }
  if (state_ == BreakerState::kHalfOpen) {
    // Probes whose outcome never came (the app went away) free their slots after a cool-down.
    if (probes_sent_ >= policy_.half_open_probes &&
        now_us - last_probe_us_ >= policy_.cooldown_ms * 1000) {
      probes_sent_ = probe_successes_;
    }
    if (probes_sent_ >= policy_.half_open_probes) {
      a.allowed = false;
      a.retry_after_ms = policy_.cooldown_ms;
      return a;
    }
    a.probe = true;
  }
  return a;
}

void CircuitBreaker::OnSent(bool probe, int64_t now_us) {
  if (probe && state_ == BreakerState::kHalfOpen) {
    probes_sent_++;
    last_probe_us_ = now_us;
  }
}

BreakerTransition CircuitBreaker::Open(int64_t now_us) {
  BreakerTransition t{state_, BreakerState::kOpen, 0};
  int shift = std::min(trips_in_a_row_, 20);
  t.cooldown_ms = std::min(policy_.max_cooldown_ms, policy_.cooldown_ms << shift);
  trips_in_a_row_++;
  state_ = BreakerState::kOpen;
  open_until_us_ = now_us + t.cooldown_ms * 1000;
  return t;
}

std::optional<BreakerTransition> CircuitBreaker::OnOutcome(bool failed, bool probe,
                                                           int64_t now_us) {
  if (state_ == BreakerState::kHalfOpen && probe) {
    if (failed) return Open(now_us);
    if (++probe_successes_ < policy_.successes_to_close) return std::nullopt;
    state_ = BreakerState::kClosed;
    trips_in_a_row_ = 0;
    failures_.Clear();
    outcomes_.Clear();
    return BreakerTransition{BreakerState::kHalfOpen, BreakerState::kClosed, 0};
  }
  if (state_ != BreakerState::kClosed) return std::nullopt;  // late answers of earlier attempts
  outcomes_.Add(now_us, window_us_);
  if (failed) failures_.Add(now_us, window_us_);
  int64_t total = outcomes_.Sum(now_us, window_us_);
  int64_t bad = failures_.Sum(now_us, window_us_);
  if (failed && total >= policy_.min_requests &&
      static_cast<double>(bad) >= policy_.failure_ratio * static_cast<double>(total)) {
    return Open(now_us);
  }
  return std::nullopt;
}

}  // namespace relaytap::proxy::guard
