#pragma once
// The retry guard as an operator sets it: a mode, a policy file and five knobs that override
// single policy values. Two layers exist, the `relaytap proxy --config` file and the command
// line (which wins); this turns them into one validated policy whose errors name the config key
// or the flag that caused them. Pure apart from reading the policy file.

#include <cstdint>
#include <filesystem>
#include <optional>

#include "absl/status/statusor.h"
#include "proxy/guard/policy.h"

namespace relaytap::proxy::guard {

// Each knob, when set, overrides one policy value; unset keeps the policy's.
struct GuardKnobs {
  std::optional<int> max_attempts;       // attempt_cap.max_attempts
  std::optional<double> budget_percent;  // retry_budget.budget_percent
  std::optional<int64_t> cooldown_ms;    // circuit_breaker.cooldown_ms
  std::optional<bool> key_by_client;     // key_by_client
  std::optional<int> session_cap;        // session_cap: enabled, max_creates_after_failure = N
  bool operator==(const GuardKnobs&) const = default;
};

// The guard settings of one layer (the config file's keys guard, guard_policy, guard_*).
struct GuardSettings {
  GuardMode mode = GuardMode::kOff;
  std::optional<std::filesystem::path> policy_file;  // unset: the built-in policy
  GuardKnobs knobs;
  bool operator==(const GuardSettings&) const = default;
};

// The policy in force: `policy_file` (or the built-in defaults), then `file_knobs`, then
// `flag_knobs`. Each knob is checked (ValidateGuardPolicy) right after it is applied, so an
// error names it, as its config file key for `file_knobs` and as its flag for `flag_knobs`:
// InvalidArgument "config key 'guard_cooldown_ms': circuit_breaker.cooldown_ms must be at least
// 1", "--guard-cooldown-ms: ...". Policy file errors name the file (NotFound when it cannot be
// read).
absl::StatusOr<GuardPolicy> ResolveGuardPolicy(
    const std::optional<std::filesystem::path>& policy_file, const GuardKnobs& file_knobs,
    const GuardKnobs& flag_knobs);

}  // namespace relaytap::proxy::guard
