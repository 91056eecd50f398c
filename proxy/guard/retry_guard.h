#pragma once
// The stateful retry-storm guard shared by every connection on every io thread. For each request
// it decides forward or reject, with a reason, from the key's state (hold, breaker, budget) and
// whether the request is a retry (SDK retry count, a recently failed identical request, or a new
// WebSocket upgrade after failed ones from the same client). Outcomes fed back update the state.
//
// State is per process and memory-bounded: keys unused for key_idle_expiry_ms are forgotten,
// at most max_keys are kept (the least recently used goes first), and fingerprints per key are
// bounded. Time and randomness are injected. One absl::Mutex, never held across I/O (callers
// are coroutines; no method here suspends).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "proxy/guard/circuit_breaker.h"
#include "proxy/guard/policy.h"
#include "proxy/guard/request_facts.h"
#include "proxy/guard/retry_budget.h"

namespace relaytap::proxy::guard {

enum class Verdict { kForward, kReject };

// Why: each reason has its own counter and its own code in local answers and in the store.
enum class Reason {
  kFirstAttempt,    // forward: not a retry
  kRetryAllowed,    // forward: a retry within cap and budget
  kBreakerProbe,    // forward: a half-open probe
  kAttemptCap,      // reject 429: too many attempts for this logical request
  kRetryBudget,     // reject 429: retries over the key's budget
  kBreakerOpen,     // reject 503: breaker open (or half-open with its probes taken)
  kRetryAfterHold,  // reject 429: upstream asked to wait (retry-after / retry-after-ms)
};
inline constexpr int kReasonCount = 7;
std::string_view ReasonName(Reason r);  // "first_attempt", ..., "retry_after_hold"

enum class RetrySignal { kNone, kSdkRetryCount, kFingerprint, kFailedUpgrades };
std::string_view RetrySignalName(RetrySignal s);

struct DecisionCounts {
  int attempt = 1;              // this attempt's number within its logical request
  int64_t window_attempts = 0;  // attempts sent for the key in the window (before this one)
  int64_t window_retries = 0;
  int64_t retries_allowed = 0;  // the budget for the window
  int64_t window_failures = 0;  // breaker window
  int64_t window_outcomes = 0;
  std::string breaker = "closed";
};

// Something that happened to a key's state: breaker transitions, holds starting and ending.
struct GuardEvent {
  std::string kind;  // "breaker_open", "breaker_half_open", "breaker_closed", "hold_start",
                     // "hold_end"
  std::string key;
  int64_t at_us = 0;
  int64_t retry_after_ms = 0;  // open cool-down or hold length
};

struct Decision {
  Verdict verdict = Verdict::kForward;
  Reason reason = Reason::kFirstAttempt;
  RetrySignal signal = RetrySignal::kNone;
  bool retry = false;
  bool probe = false;
  int64_t retry_after_ms = 0;  // rejections: when to try again
  int64_t at_us = 0;
  std::string key;
  DecisionCounts counts;
  std::vector<GuardEvent> events;  // transitions the decision caused (half-open, hold end)
  // For the outcome: what the request was.
  uint64_t fingerprint = 0;
  std::string client;
  bool websocket_upgrade = false;
};

// What came back for a forwarded attempt. status 0: no answer (dial failure, reset, timeout).
struct AttemptOutcome {
  int status = 0;
  std::optional<int64_t> retry_after_ms;  // from the response head (RetryAfterMs)
};

// 0, 408, 429 and 5xx count as failures.
bool IsFailure(const AttemptOutcome& o);

class RetryGuard {
 public:
  using Clock = std::function<int64_t()>;    // microseconds
  using Random = std::function<uint64_t()>;  // uniform 64-bit values

  // `clock` and `random` may be empty: the system clock and a fixed-seed generator.
  RetryGuard(GuardPolicy policy, GuardMode mode, Clock clock = {}, Random random = {});

  GuardMode mode() const { return mode_; }
  const GuardPolicy& policy() const { return policy_; }
  bool enforcing() const { return mode_ == GuardMode::kEnforce; }

  // Decides for one request. In observe mode the decision is what enforce would do, and the
  // request is accounted as sent (it is).
  Decision Decide(const RequestFacts& facts);
  // The outcome of a decision whose request was sent upstream.
  std::vector<GuardEvent> RecordOutcome(const Decision& decision, const AttemptOutcome& outcome);
  // The realtime session a forwarded upgrade opened (101) has ended: `failed` when it saw a
  // failed response or upstream reset it. A failed session makes the same client's next upgrade
  // on the key a retry (as a failed upgrade does); a clean one ends the streak.
  void RecordSessionEnd(const Decision& upgrade, bool failed);

  size_t key_count() const;
  uint64_t decisions(Reason r) const;

 private:
  struct Fingerprint {
    int attempts = 0;
    int64_t last_us = 0;
    bool failed = false;
  };
  struct FailedUpgrades {
    int count = 0;
    int64_t last_us = 0;
  };
  struct KeyState {
    KeyState(const GuardPolicy& p, int64_t window_us)
        : breaker(p.circuit_breaker, window_us), budget(p.retry_budget, window_us) {}
    CircuitBreaker breaker;
    RetryBudget budget;
    int64_t hold_until_us = 0;
    bool holding = false;
    int64_t last_used_us = 0;
    absl::flat_hash_map<uint64_t, Fingerprint> fingerprints;
    absl::flat_hash_map<std::string, FailedUpgrades> failed_upgrades;  // by client address
  };

  KeyState& StateFor(const std::string& key, int64_t now_us) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Sweep(int64_t now_us) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Classify(KeyState& ks, const RequestFacts& facts, int64_t now_us, Decision& d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Judge(KeyState& ks, int64_t now_us, Decision& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Account(KeyState& ks, const RequestFacts& facts, int64_t now_us, const Decision& d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RememberFingerprint(KeyState& ks, uint64_t fp, int attempt, bool failed, int64_t now_us)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The client's failed-upgrade record, created if there is room (bounded per key).
  FailedUpgrades* UpgradeRecord(KeyState& ks, const std::string& client, int64_t now_us)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t Jitter(int64_t ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Log(const GuardEvent& e) const;

  const GuardPolicy policy_;
  const GuardMode mode_;
  const int64_t window_us_;
  Clock clock_;
  mutable absl::Mutex mu_;
  Random random_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<KeyState>> keys_ ABSL_GUARDED_BY(mu_);
  int64_t last_sweep_us_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t counters_[kReasonCount] ABSL_GUARDED_BY(mu_) = {};
};

}  // namespace relaytap::proxy::guard
