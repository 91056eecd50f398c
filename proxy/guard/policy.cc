#include "proxy/guard/policy.h"

#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/str_cat.h"

namespace relaytap::proxy::guard {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kDefaultPolicyJson = R"json({
  "_comment": "relaytap retry guard policy. Times in milliseconds. See README 'Retry guard'.",
  "window_ms": 10000,
  "key_idle_expiry_ms": 300000,
  "max_keys": 10000,
  "max_fingerprints_per_key": 1000,
  "key_by_client": false,
  "volatile_query_params": ["api-key", "_", "t", "ts", "timestamp", "nonce"],
  "reject_retry_after_ms": 10000,
  "attempt_cap": {"enabled": true, "max_attempts": 3},
  "retry_budget": {"enabled": true, "budget_percent": 20, "min_retries": 3},
  "circuit_breaker": {
    "enabled": true,
    "failure_ratio": 0.5,
    "min_requests": 10,
    "cooldown_ms": 5000,
    "max_cooldown_ms": 60000,
    "half_open_probes": 2,
    "successes_to_close": 2
  },
  "holds": {"enabled": true, "max_hold_ms": 60000},
  "session_cap": {"enabled": false, "max_creates_after_failure": 1, "reset_on_success": true}
}
)json";

// Reads the keys of one JSON object into fields; each reader checks its own type.
using Reader = std::function<absl::Status(const Json&, const std::string& name)>;

template <class T>
Reader Number(T* out) {
  return [out](const Json& v, const std::string& name) -> absl::Status {
    if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) return absl::InvalidArgumentError(StrCat(name, " must be a number"));
    } else {
      if (!v.is_number_integer()) {
        return absl::InvalidArgumentError(StrCat(name, " must be an integer"));
      }
      if (v.is_number_unsigned() ? v.get<uint64_t>() > std::numeric_limits<T>::max()
                                 : v.get<int64_t>() < 0) {
        return absl::InvalidArgumentError(
            StrCat(name, v.is_number_unsigned() ? " is too large" : " must not be negative"));
      }
    }
    *out = v.get<T>();
    return absl::OkStatus();
  };
}

Reader Bool(bool* out) {
  return [out](const Json& v, const std::string& name) -> absl::Status {
    if (!v.is_boolean()) return absl::InvalidArgumentError(StrCat(name, " must be true or false"));
    *out = v.get<bool>();
    return absl::OkStatus();
  };
}

Reader Strings(std::vector<std::string>* out) {
  return [out](const Json& v, const std::string& name) -> absl::Status {
    if (!v.is_array()) return absl::InvalidArgumentError(StrCat(name, " must be an array"));
    out->clear();
    for (const Json& s : v) {
      if (!s.is_string()) {
        return absl::InvalidArgumentError(StrCat(name, " must hold strings only"));
      }
      out->push_back(s.get<std::string>());
    }
    return absl::OkStatus();
  };
}

absl::Status ReadObject(const Json& obj, const std::string& prefix,
                        const std::map<std::string, Reader>& readers) {
  if (!obj.is_object()) {
    return absl::InvalidArgumentError(
        StrCat(prefix.empty() ? "the policy" : prefix, " must be a JSON object"));
  }
  for (const auto& [key, value] : obj.items()) {
    std::string name = prefix.empty() ? key : StrCat(prefix, ".", key);
    if (key.starts_with("_")) continue;
    auto it = readers.find(key);
    if (it == readers.end()) return absl::InvalidArgumentError(StrCat("unknown key ", name));
    if (absl::Status st = it->second(value, name); !st.ok()) return st;
  }
  return absl::OkStatus();
}

Reader Object(std::map<std::string, Reader> readers) {
  return [readers = std::move(readers)](const Json& v, const std::string& name) {
    return ReadObject(v, name, readers);
  };
}

absl::Status Require(bool ok, std::string_view what) {
  return ok ? absl::OkStatus() : absl::InvalidArgumentError(std::string(what));
}

}  // namespace

std::string_view GuardModeName(GuardMode mode) {
  switch (mode) {
    case GuardMode::kOff:
      return "off";
    case GuardMode::kObserve:
      return "observe";
    case GuardMode::kEnforce:
      return "enforce";
  }
  return "off";
}

absl::StatusOr<GuardMode> ParseGuardMode(std::string_view text) {
  if (text == "off") return GuardMode::kOff;
  if (text == "observe") return GuardMode::kObserve;
  if (text == "enforce") return GuardMode::kEnforce;
  return absl::InvalidArgumentError(
      StrCat("unknown guard mode '", text, "' (off, observe, enforce)"));
}

std::string_view DefaultGuardPolicyJson() { return kDefaultPolicyJson; }

absl::StatusOr<GuardPolicy> ParseGuardPolicy(std::string_view json_text) {
  Json doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("the policy is not valid JSON");
  GuardPolicy p;
  AttemptCapPolicy& cap = p.attempt_cap;
  RetryBudgetPolicy& budget = p.retry_budget;
  CircuitBreakerPolicy& cb = p.circuit_breaker;
  const std::map<std::string, Reader> readers = {
      {"window_ms", Number(&p.window_ms)},
      {"key_idle_expiry_ms", Number(&p.key_idle_expiry_ms)},
      {"max_keys", Number(&p.max_keys)},
      {"max_fingerprints_per_key", Number(&p.max_fingerprints_per_key)},
      {"key_by_client", Bool(&p.key_by_client)},
      {"volatile_query_params", Strings(&p.volatile_query_params)},
      {"reject_retry_after_ms", Number(&p.reject_retry_after_ms)},
      {"attempt_cap",
       Object({{"enabled", Bool(&cap.enabled)}, {"max_attempts", Number(&cap.max_attempts)}})},
      {"retry_budget", Object({{"enabled", Bool(&budget.enabled)},
                               {"budget_percent", Number(&budget.budget_percent)},
                               {"min_retries", Number(&budget.min_retries)}})},
      {"circuit_breaker", Object({{"enabled", Bool(&cb.enabled)},
                                  {"failure_ratio", Number(&cb.failure_ratio)},
                                  {"min_requests", Number(&cb.min_requests)},
                                  {"cooldown_ms", Number(&cb.cooldown_ms)},
                                  {"max_cooldown_ms", Number(&cb.max_cooldown_ms)},
                                  {"half_open_probes", Number(&cb.half_open_probes)},
                                  {"successes_to_close", Number(&cb.successes_to_close)}})},
      {"holds", Object({{"enabled", Bool(&p.holds.enabled)},
                        {"max_hold_ms", Number(&p.holds.max_hold_ms)}})},
      {"session_cap",
       Object({{"enabled", Bool(&p.session_cap.enabled)},
               {"max_creates_after_failure", Number(&p.session_cap.max_creates_after_failure)},
               {"reset_on_success", Bool(&p.session_cap.reset_on_success)}})},
  };
  if (absl::Status st = ReadObject(doc, "", readers); !st.ok()) return st;
  if (absl::Status st = ValidateGuardPolicy(p); !st.ok()) return st;
  return p;
}

absl::StatusOr<GuardPolicy> LoadGuardPolicy(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read guard policy ", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<GuardPolicy> p = ParseGuardPolicy(text.str());
  if (!p.ok()) {
    return absl::InvalidArgumentError(
        StrCat("guard policy ", file.string(), ": ", std::string(p.status().message())));
  }
  return p;
}

absl::Status ValidateGuardPolicy(const GuardPolicy& p) {
  const CircuitBreakerPolicy& cb = p.circuit_breaker;
  absl::Status checks[] = {
      Require(p.window_ms >= 100, "window_ms must be at least 100"),
      Require(p.key_idle_expiry_ms >= p.window_ms, "key_idle_expiry_ms must be >= window_ms"),
      Require(p.max_keys >= 1, "max_keys must be at least 1"),
      Require(p.max_fingerprints_per_key >= 1, "max_fingerprints_per_key must be at least 1"),
      Require(p.attempt_cap.max_attempts >= 1, "attempt_cap.max_attempts must be at least 1"),
      Require(p.retry_budget.budget_percent >= 0 && p.retry_budget.budget_percent <= 100,
              "retry_budget.budget_percent must be between 0 and 100"),
      Require(cb.failure_ratio > 0 && cb.failure_ratio <= 1,
              "circuit_breaker.failure_ratio must be in (0, 1]"),
      Require(cb.min_requests >= 1, "circuit_breaker.min_requests must be at least 1"),
      Require(cb.cooldown_ms >= 1, "circuit_breaker.cooldown_ms must be at least 1"),
      Require(cb.max_cooldown_ms >= cb.cooldown_ms,
              "circuit_breaker.max_cooldown_ms must be >= cooldown_ms"),
      Require(cb.half_open_probes >= 1, "circuit_breaker.half_open_probes must be at least 1"),
      Require(cb.successes_to_close >= 1 && cb.successes_to_close <= cb.half_open_probes,
              "circuit_breaker.successes_to_close must be between 1 and half_open_probes"),
      Require(p.holds.max_hold_ms >= 1, "holds.max_hold_ms must be at least 1"),
      Require(p.reject_retry_after_ms >= 1, "reject_retry_after_ms must be at least 1"),
      Require(p.session_cap.max_creates_after_failure >= 0 &&
                  p.session_cap.max_creates_after_failure <= 1'000'000,
              "session_cap.max_creates_after_failure must be between 0 and 1000000"),
  };
  for (absl::Status& st : checks) {
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace relaytap::proxy::guard
