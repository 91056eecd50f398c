#pragma once
// Reading fault profiles: the JSON profile file (`relaytap fake-upstream --profile FILE`) and the
// command-line forms `--fault NAME=PCT` and `--rule DEPLOYMENT:NAME=PCT[,NAME=PCT...]`. Pure.
//
// Profile file (every key optional; unknown keys are errors):
//   {
//     "seed": 42,
//     "rates": {"response_failed": 0.8, "upgrade_5xx": 0.2},
//     "period_s": 3600,
//     "windows": [{"from_s": 600, "to_s": 900, "rates": {"response_failed": 15}}],
//     "deployments": {"gpt-realtime-mini": {"upgrade_429": 50}},
//     "params": {"upgrade_status": 503, "session_status": 500, "http_status": 500,
//                "retry_after_ms": 1500, "latency_ms": 0, "stall_ms": 5000, "drip_ms": 250,
//                "idle_close_ms": 10000, "idle_close_code": 1011, "sse_reset_after": 2,
//                "retry_headers": ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"]}
//   }
// `retry_headers` names the retry hints the HTTP 429 faults carry (default: all three; [] none).

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/fake_upstream/fault_model.h"

namespace relaytap::tools::fake_upstream {

// Parses and validates a profile. Errors name the key and, for JSON syntax errors, the byte.
absl::StatusOr<FaultProfile> ParseFaultProfile(std::string_view json_text);

// "NAME=PCT" into `rates` (overriding an earlier value for NAME).
absl::Status ParseFaultSpec(std::string_view spec, RateMap* rates);

// "retry-after,x-ms-retry-after-ms" (any of retry-after, retry-after-ms, x-ms-retry-after-ms,
// comma-separated) or "none" into `out`, replacing it. Errors name the unknown header.
absl::Status ParseRetryHeaderList(std::string_view list, RetryHeaders* out);

// "DEPLOYMENT:NAME=PCT[,NAME=PCT...]" into profile->deployments.
absl::Status ParseRuleSpec(std::string_view spec, FaultProfile* profile);

}  // namespace relaytap::tools::fake_upstream
