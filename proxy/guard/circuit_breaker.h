#pragma once
// A circuit breaker on the failure ratio of one key's recent outcomes. Pure: the caller passes
// the time. closed -> (failure ratio over the window >= threshold, enough outcomes) -> open for a
// cool-down that doubles on each trip in a row (capped) -> half-open: a few probe attempts pass
// -> enough probe successes close it; a probe failure opens it again for longer.

#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/guard/policy.h"
#include "proxy/guard/sliding_window.h"

namespace relaytap::proxy::guard {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
std::string_view BreakerStateName(BreakerState s);

struct BreakerTransition {
  BreakerState from = BreakerState::kClosed;
  BreakerState to = BreakerState::kClosed;
  int64_t cooldown_ms = 0;  // when `to` is open
};

struct BreakerAdmission {
  bool allowed = true;
  bool probe = false;          // allowed as a half-open probe
  int64_t retry_after_ms = 0;  // when not allowed: until the breaker half-opens
};

class CircuitBreaker {
 public:
  CircuitBreaker(const CircuitBreakerPolicy& policy, int64_t window_us)
      : policy_(policy), window_us_(window_us) {}

  // Whether an attempt may pass now. May move open -> half-open (returned in *transition).
  BreakerAdmission Check(int64_t now_us, std::optional<BreakerTransition>* transition);
  // The attempt Check() allowed was really sent (a probe takes one of the half-open slots).
  void OnSent(bool probe, int64_t now_us);
  // An outcome of an attempt that was sent. Returns the transition it caused, if any.
  std::optional<BreakerTransition> OnOutcome(bool failed, bool probe, int64_t now_us);

  BreakerState state() const { return state_; }
  int64_t failures(int64_t now_us) const { return failures_.Sum(now_us, window_us_); }
  int64_t outcomes(int64_t now_us) const { return outcomes_.Sum(now_us, window_us_); }
  int trips_in_a_row() const { return trips_in_a_row_; }

 private:
  BreakerTransition Open(int64_t now_us);

  CircuitBreakerPolicy policy_;
  int64_t window_us_;
  BreakerState state_ = BreakerState::kClosed;
  SlidingWindow failures_, outcomes_;
  int trips_in_a_row_ = 0;
  int64_t open_until_us_ = 0;
  int probes_sent_ = 0;
  int probe_successes_ = 0;
  int64_t last_probe_us_ = 0;
};

}  // namespace relaytap::proxy::guard
