#include "proxy/guard/guard_settings.h"

#include <string>
#include <string_view>

#include "base/str_cat.h"

namespace relaytap::proxy::guard {
namespace {

enum class KnobSource { kConfigFile, kFlag };

// Sets `field` from `knob` when the knob is set; says whether it was.
template <class T>
bool Override(const std::optional<T>& knob, T& field) {
  if (knob) field = *knob;
  return knob.has_value();
}

// One knob: its two names and how it changes a policy.
struct Knob {
  std::string_view config_key;
  std::string_view flag;
  bool (*apply)(const GuardKnobs&, GuardPolicy&);  // false when the knob is unset
};

constexpr Knob kKnobs[] = {
    {"guard_max_attempts", "--guard-max-attempts",
     [](const GuardKnobs& k, GuardPolicy& p) {
       return Override(k.max_attempts, p.attempt_cap.max_attempts);
     }},
    {"guard_budget_percent", "--guard-budget-percent",
     [](const GuardKnobs& k, GuardPolicy& p) {
       return Override(k.budget_percent, p.retry_budget.budget_percent);
     }},
    {"guard_cooldown_ms", "--guard-cooldown-ms",
     [](const GuardKnobs& k, GuardPolicy& p) {
       return Override(k.cooldown_ms, p.circuit_breaker.cooldown_ms);
     }},
    {"guard_key_by_client", "--guard-key-by-client",
     [](const GuardKnobs& k, GuardPolicy& p) {
       return Override(k.key_by_client, p.key_by_client);
     }},
    {"guard_session_cap", "--guard-session-cap",
     [](const GuardKnobs& k, GuardPolicy& p) {
       if (k.session_cap) p.session_cap.enabled = true;
       return Override(k.session_cap, p.session_cap.max_creates_after_failure);
     }},
};

absl::Status ApplyKnobs(const GuardKnobs& knobs, KnobSource source, GuardPolicy& policy) {
  for (const Knob& knob : kKnobs) {
    if (!knob.apply(knobs, policy)) continue;
    if (absl::Status st = ValidateGuardPolicy(policy); !st.ok()) {
      std::string name = source == KnobSource::kFlag ? std::string(knob.flag)
                                                     : StrCat("config key '", knob.config_key, "'");
      return absl::InvalidArgumentError(StrCat(name, ": ", std::string(st.message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GuardPolicy> ResolveGuardPolicy(
    const std::optional<std::filesystem::path>& policy_file, const GuardKnobs& file_knobs,
    const GuardKnobs& flag_knobs) {
  absl::StatusOr<GuardPolicy> policy =
      policy_file ? LoadGuardPolicy(*policy_file) : ParseGuardPolicy(DefaultGuardPolicyJson());
  if (!policy.ok()) return policy.status();
  if (absl::Status st = ApplyKnobs(file_knobs, KnobSource::kConfigFile, *policy); !st.ok()) {
    return st;
  }
  if (absl::Status st = ApplyKnobs(flag_knobs, KnobSource::kFlag, *policy); !st.ok()) return st;
  return policy;
}

}  // namespace relaytap::proxy::guard
