#pragma once
// The fake upstream's fault model: which fault (if any) to inject at each decision point. Pure
// apart from a mutex: time comes from an injected clock and randomness from a seeded PRNG, so the
// same seed and the same order of decisions give the same faults.
//
// Decision points (stages), and the faults each can pick (at most one per decision):
//   upgrade      WebSocket upgrade request      upgrade_5xx, upgrade_429
//   session      POST session / client secret   session_5xx, session_429
//   completion   chat/completions, responses    http_5xx, http_429
//   ws_session   once per accepted WebSocket    idle_close
//   response     each response.create           response_failed, error_event, rate_limited,
//                                               reset, stall, drip
//   stream       each streamed (SSE) chat       sse_stall (nothing after the first event for
//                completion / Responses answer  `stall`), sse_drip (`drip` between events),
//                                               sse_reset (TCP RST after `sse_reset_after` events)
//   call         each WebRTC call set-up        call_5xx, call_401 (an expired ephemeral token),
//                (POST …/realtime/calls, …/v1/  call_slow (the SDP answer after `call_slow`)
//                realtimertc)
// Rates are percentages. Effective rates: the base rates, overridden by the active time window,
// overridden by the rule for the request's deployment.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace relaytap::tools::fake_upstream {

enum class Stage { kUpgrade, kSession, kCompletion, kWsSession, kResponse, kStream, kCall };

enum class Fault {
  kNone,
  kUpgrade5xx,
  kUpgrade429,
  kSession5xx,
  kSession429,
  kHttp5xx,
  kHttp429,
  kIdleClose,
  kResponseFailed,
  kErrorEvent,
  kRateLimited,
  kReset,
  kStall,
  kDrip,
  kSseStall,
  kSseDrip,
  kSseReset,
  kCall5xx,
  kCall401,
  kCallSlow,
};
inline constexpr int kFaultCount = static_cast<int>(Fault::kCallSlow) + 1;

Stage StageOf(Fault fault);
std::string_view StageName(Stage stage);
std::string_view FaultName(Fault fault);  // "none", "upgrade_5xx", ...
std::optional<Fault> FaultFromName(std::string_view name);
std::string KnownFaultNames();  // "upgrade_5xx, upgrade_429, ..." for error messages and --help

// Percent per fault; absent = not overridden (in windows and rules) or 0 (in the base).
using RateMap = std::map<Fault, double>;

struct Window {
  std::chrono::milliseconds from{0};  // since start (modulo `period` when set), inclusive
  std::chrono::milliseconds to{0};    // exclusive
  RateMap rates;
};

// The retry hints an HTTP 429 fault carries. Azure sends all three; dropping some lets a test
// (or an app owner) see which one a client, or relaytap's guard, actually honours.
struct RetryHeaders {
  bool retry_after = true;          // retry-after: seconds, rounded up
  bool retry_after_ms = true;       // retry-after-ms
  bool x_ms_retry_after_ms = true;  // x-ms-retry-after-ms
  bool operator==(const RetryHeaders&) const = default;
};

// "retry-after,retry-after-ms,x-ms-retry-after-ms" (the names sent, in that order), or "none".
std::string RetryHeaderNames(const RetryHeaders& headers);

// How the faults behave when they fire.
struct FaultParams {
  unsigned upgrade_status = 503;
  unsigned session_status = 500;
  unsigned http_status = 500;
  unsigned call_status = 500;                   // call_5xx
  std::chrono::milliseconds retry_after{1500};  // retry-after-ms on the 429s
  RetryHeaders retry_headers;                   // which retry headers the 429s carry
  std::chrono::milliseconds latency{0};         // before every HTTP answer and upgrade
  std::chrono::milliseconds stall{5000};        // pause mid-response (SSE: after the first event)
  std::chrono::milliseconds drip{250};          // gap between events of a dripping response
  unsigned sse_reset_after = 2;                 // SSE events sent before sse_reset's TCP RST
  std::chrono::milliseconds idle_close{10000};  // silence after which idle_close closes
  unsigned idle_close_code = 1011;
  std::chrono::milliseconds call_slow{3000};  // call_slow: wait before the SDP answer
};

struct FaultProfile {
  RateMap rates;
  std::vector<Window> windows;
  std::optional<std::chrono::milliseconds> period;  // windows repeat with this period
  std::map<std::string, RateMap> deployments;       // per-deployment rules
  FaultParams params;
  std::optional<uint64_t> seed;
};

// Rates in 0..100, per-stage sums <= 100 in every combination of window and rule, windows
// ordered and inside the period, parameters in range. The message names the offending item.
absl::Status ValidateProfile(const FaultProfile& profile);

// The rates in force `elapsed` after start for `deployment` (may be empty).
RateMap EffectiveRates(const FaultProfile& profile, std::chrono::milliseconds elapsed,
                       std::string_view deployment);

class FaultModel {
 public:
  using Clock = std::function<std::chrono::milliseconds()>;  // time since start

  // `profile` must be valid (ValidateProfile).
  FaultModel(FaultProfile profile, uint64_t seed, Clock clock);
  // A clock that reads the steady clock relative to the moment of this call.
  static Clock SteadyClockFromNow();

  // Draws exactly one number from the PRNG and picks a fault of `stage` (or kNone). Thread-safe.
  Fault Decide(Stage stage, std::string_view deployment);

  const FaultProfile& profile() const { return profile_; }
  const FaultParams& params() const { return profile_.params; }
  uint64_t seed() const { return seed_; }
  // Decisions so far per fault (kNone included), for the log and tests.
  std::array<uint64_t, kFaultCount> counts() const;

 private:
  uint64_t Next();  // splitmix64; caller holds mu_

  const FaultProfile profile_;
  const uint64_t seed_;
  const Clock clock_;
  mutable std::mutex mu_;
  uint64_t state_;
  std::array<uint64_t, kFaultCount> counts_{};
};

}  // namespace relaytap::tools::fake_upstream
