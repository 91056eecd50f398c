#pragma once
// The retry guard's policy: pure data, parsed from JSON (configs/guard.example.json) and checked
// once at startup. Every mechanism can be switched off on its own. Times are milliseconds.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace relaytap::proxy::guard {

enum class GuardMode { kOff, kObserve, kEnforce };

std::string_view GuardModeName(GuardMode mode);
// "off" | "observe" | "enforce".
absl::StatusOr<GuardMode> ParseGuardMode(std::string_view text);

struct AttemptCapPolicy {
  bool enabled = true;
  int max_attempts = 3;  // attempts in total per logical request (first + retries)
  bool operator==(const AttemptCapPolicy&) const = default;
};

struct RetryBudgetPolicy {
  bool enabled = true;
  double budget_percent = 20.0;  // retries may be at most this share of the key's recent requests
  int min_retries = 3;           // ... but this many retries per window are always allowed
  bool operator==(const RetryBudgetPolicy&) const = default;
};

struct CircuitBreakerPolicy {
  bool enabled = true;
  double failure_ratio = 0.5;   // trips when failures / outcomes in the window reach this
  int min_requests = 10;        // ... and at least this many outcomes were seen
  int64_t cooldown_ms = 5'000;  // first open period; doubles on each trip in a row
  int64_t max_cooldown_ms = 60'000;
  int half_open_probes = 2;    // attempts let through while half-open
  int successes_to_close = 2;  // successful probes that close the breaker
  bool operator==(const CircuitBreakerPolicy&) const = default;
};

struct HoldPolicy {
  bool enabled = true;
  int64_t max_hold_ms = 60'000;  // a longer retry-after is capped to this
  bool operator==(const HoldPolicy&) const = default;
};

// The in-session cap on response.create after failed responses (README "Retry guard"); off by
// default. Only sessions where it is enabled take the frame-aware relay path.
struct SessionCapPolicy {
  bool enabled = false;
  int max_creates_after_failure = 1;  // response.create forwarded after the first failure
  bool reset_on_success = true;       // a completed response ends the failure streak
  bool operator==(const SessionCapPolicy&) const = default;
};

struct GuardPolicy {
  int64_t window_ms = 10'000;            // sliding window of budgets, breaker and retry memory
  int64_t key_idle_expiry_ms = 300'000;  // a key unused this long is forgotten
  size_t max_keys = 10'000;              // memory bound: the least recently used key goes first
  size_t max_fingerprints_per_key = 1'000;
  bool key_by_client = false;  // add the client (source address) to the key
  // Query parameters left out of a request fingerprint (they change between attempts).
  std::vector<std::string> volatile_query_params = {"api-key", "_",         "t",
                                                    "ts",      "timestamp", "nonce"};
  int64_t reject_retry_after_ms = 10'000;  // retry-after of cap / budget rejections
  AttemptCapPolicy attempt_cap;
  RetryBudgetPolicy retry_budget;
  CircuitBreakerPolicy circuit_breaker;
  HoldPolicy holds;
  SessionCapPolicy session_cap;
  bool operator==(const GuardPolicy&) const = default;
};

// The embedded defaults (identical to configs/guard.example.json).
std::string_view DefaultGuardPolicyJson();

// Parses a policy document: missing keys keep their defaults; unknown keys, wrong types and
// values out of range are InvalidArgument errors naming the key. Keys starting with '_' are
// comments.
absl::StatusOr<GuardPolicy> ParseGuardPolicy(std::string_view json_text);
absl::StatusOr<GuardPolicy> LoadGuardPolicy(const std::filesystem::path& file);
absl::Status ValidateGuardPolicy(const GuardPolicy& policy);

}  // namespace relaytap::proxy::guard
