#include "tools/fake_upstream/fault_model.h"

#include <utility>

#include "base/str_cat.h"

namespace relaytap::tools::fake_upstream {
namespace {

using std::chrono::milliseconds;

struct FaultInfo {
  Fault fault;
  Stage stage;
  std::string_view name;
};

constexpr std::array<FaultInfo, kFaultCount> kFaults = {{
    {Fault::kNone, Stage::kResponse, "none"},
    {Fault::kUpgrade5xx, Stage::kUpgrade, "upgrade_5xx"},
    {Fault::kUpgrade429, Stage::kUpgrade, "upgrade_429"},
    {Fault::kSession5xx, Stage::kSession, "session_5xx"},
    {Fault::kSession429, Stage::kSession, "session_429"},
    {Fault::kHttp5xx, Stage::kCompletion, "http_5xx"},
    {Fault::kHttp429, Stage::kCompletion, "http_429"},
    {Fault::kIdleClose, Stage::kWsSession, "idle_close"},
    {Fault::kResponseFailed, Stage::kResponse, "response_failed"},
    {Fault::kErrorEvent, Stage::kResponse, "error_event"},
    {Fault::kRateLimited, Stage::kResponse, "rate_limited"},
    {Fault::kReset, Stage::kResponse, "reset"},
    {Fault::kStall, Stage::kResponse, "stall"},
    {Fault::kDrip, Stage::kResponse, "drip"},
    {Fault::kSseStall, Stage::kStream, "sse_stall"},
    {Fault::kSseDrip, Stage::kStream, "sse_drip"},
    {Fault::kSseReset, Stage::kStream, "sse_reset"},
    {Fault::kCall5xx, Stage::kCall, "call_5xx"},
    {Fault::kCall401, Stage::kCall, "call_401"},
    {Fault::kCallSlow, Stage::kCall, "call_slow"},
}};

constexpr Stage kStages[] = {Stage::kUpgrade,   Stage::kSession,  Stage::kCompletion,
                             Stage::kWsSession, Stage::kResponse, Stage::kStream,
                             Stage::kCall};

void Overlay(RateMap& into, const RateMap& from) {
  for (const auto& [fault, rate] : from) into[fault] = rate;
}

absl::Status CheckRates(const RateMap& rates, std::string_view where) {
  for (const auto& [fault, rate] : rates) {
    if (fault == Fault::kNone)
      return absl::InvalidArgumentError(StrCat(where, ": 'none' has no rate"));
    if (!(rate >= 0 && rate <= 100)) {
      return absl::InvalidArgumentError(
          StrCat(where, ": rate of ", FaultName(fault), " must be a percentage in 0..100"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSums(const RateMap& rates, std::string_view where) {
  for (Stage stage : kStages) {
    double sum = 0;
    for (const auto& [fault, rate] : rates) {
      if (fault != Fault::kNone && StageOf(fault) == stage) sum += rate;
    }
    if (sum > 100 + 1e-9) {
      return absl::InvalidArgumentError(
          StrCat(where, ": the ", StageName(stage), " faults add up to more than 100%"));
    }
  }
  return absl::OkStatus();
}

bool InRange(milliseconds v, milliseconds lo, milliseconds hi) { return v >= lo && v <= hi; }

absl::Status CheckParams(const FaultParams& p) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(StrCat("params: ", what));
  };
  for (unsigned status : {p.upgrade_status, p.session_status, p.http_status, p.call_status}) {
    if (status < 500 || status > 599) return bad("5xx statuses must be in 500..599");
  }
  const milliseconds ten_minutes{600000};
  if (!InRange(p.retry_after, milliseconds(0), milliseconds(120000))) {
    return bad("retry_after_ms must be in 0..120000");
  }
  if (!InRange(p.latency, milliseconds(0), ten_minutes) ||
      !InRange(p.stall, milliseconds(0), ten_minutes) ||
      !InRange(p.drip, milliseconds(0), milliseconds(60000)) ||
      !InRange(p.idle_close, milliseconds(1), ten_minutes) ||
      !InRange(p.call_slow, milliseconds(0), ten_minutes)) {
    return bad(
        "latency/stall/call_slow (0..600000 ms), drip (0..60000 ms), idle_close (1..600000 ms)");
  }
  if (p.sse_reset_after > 1000) return bad("sse_reset_after must be in 0..1000 (events)");
  unsigned c = p.idle_close_code;
  bool sendable = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
  if (!sendable) return bad("idle_close_code must be a close code a server may send");
  return absl::OkStatus();
}

}  // namespace

std::string RetryHeaderNames(const RetryHeaders& headers) {
  std::string out;
  for (auto [sent, name] : {std::pair{headers.retry_after, "retry-after"},
                            std::pair{headers.retry_after_ms, "retry-after-ms"},
                            std::pair{headers.x_ms_retry_after_ms, "x-ms-retry-after-ms"}}) {
    if (sent) out += StrCat(out.empty() ? "" : ",", name);
  }
  return out.empty() ? "none" : out;
}

Stage StageOf(Fault fault) { return kFaults[static_cast<int>(fault)].stage; }

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kUpgrade:
      return "upgrade";
    case Stage::kSession:
      return "session";
    case Stage::kCompletion:
      return "completion";
    case Stage::kWsSession:
      return "ws_session";
    case Stage::kResponse:
      return "response";
    case Stage::kStream:
      return "stream";
    case Stage::kCall:
      return "call";
  }
  return "?";
}

std::string_view FaultName(Fault fault) { return kFaults[static_cast<int>(fault)].name; }

std::optional<Fault> FaultFromName(std::string_view name) {
  for (const FaultInfo& info : kFaults) {
    if (info.fault != Fault::kNone && info.name == name) return info.fault;
  }
  return std::nullopt;
}

std::string KnownFaultNames() {
  std::string out;
  for (const FaultInfo& info : kFaults) {
    if (info.fault == Fault::kNone) continue;
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

absl::Status ValidateProfile(const FaultProfile& profile) {
  if (auto s = CheckRates(profile.rates, "rates"); !s.ok()) return s;
  if (profile.period && profile.period->count() <= 0) {
    return absl::InvalidArgumentError("period must be positive");
  }
  for (size_t i = 0; i < profile.windows.size(); ++i) {
    const Window& w = profile.windows[i];
    std::string where = StrCat("windows[", i, "]");
    if (w.from.count() < 0 || w.to <= w.from) {
      return absl::InvalidArgumentError(StrCat(where, ": needs 0 <= from < to"));
    }
    if (profile.period && w.to > *profile.period) {
      return absl::InvalidArgumentError(StrCat(where, ": ends after the period"));
    }
    if (auto s = CheckRates(w.rates, where); !s.ok()) return s;
  }
  for (const auto& [name, rates] : profile.deployments) {
    if (name.empty()) return absl::InvalidArgumentError("deployments: empty deployment name");
    if (auto s = CheckRates(rates, StrCat("deployments.", name)); !s.ok()) return s;
  }
  // Every combination the model can meet: base, + one window, + one rule.
  std::vector<const RateMap*> windows = {nullptr};
  for (const Window& w : profile.windows) windows.push_back(&w.rates);
  std::vector<std::pair<std::string, const RateMap*>> rules = {{"", nullptr}};
  for (const auto& [name, rates] : profile.deployments) rules.emplace_back(name, &rates);
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    for (const auto& [name, rule] : rules) {
      RateMap merged = profile.rates;
      if (windows[wi]) Overlay(merged, *windows[wi]);
      if (rule) Overlay(merged, *rule);
      std::string where = "rates";
      if (wi > 0) where += StrCat(" in windows[", wi - 1, "]");
      if (rule) where += StrCat(" for deployment ", name);
      if (auto s = CheckSums(merged, where); !s.ok()) return s;
    }
  }
  return CheckParams(profile.params);
}

RateMap EffectiveRates(const FaultProfile& profile, milliseconds elapsed,
                       std::string_view deployment) {
  RateMap rates = profile.rates;
  milliseconds t = elapsed;
  if (profile.period && profile.period->count() > 0) t = elapsed % *profile.period;
  for (const Window& w : profile.windows) {
    if (t >= w.from && t < w.to) {
      Overlay(rates, w.rates);
      break;  // the first matching window wins
    }
  }
  if (!deployment.empty()) {
    auto it = profile.deployments.find(std::string(deployment));
    if (it != profile.deployments.end()) Overlay(rates, it->second);
  }
  return rates;
}

FaultModel::FaultModel(FaultProfile profile, uint64_t seed, Clock clock)
    : profile_(std::move(profile)), seed_(seed), clock_(std::move(clock)), state_(seed) {}

FaultModel::Clock FaultModel::SteadyClockFromNow() {
  auto start = std::chrono::steady_clock::now();
  return [start] {
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  };
}

uint64_t FaultModel::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Fault FaultModel::Decide(Stage stage, std::string_view deployment) {
  RateMap rates = EffectiveRates(profile_, clock_(), deployment);
  std::lock_guard lock(mu_);
  // 53 random bits -> [0, 100).
  double u = static_cast<double>(Next() >> 11) * (100.0 / 9007199254740992.0);
  Fault picked = Fault::kNone;
  double cumulative = 0;
  for (const FaultInfo& info : kFaults) {
    if (info.fault == Fault::kNone || info.stage != stage) continue;
    auto it = rates.find(info.fault);
    if (it == rates.end()) continue;
    cumulative += it->second;
    if (u < cumulative) {
      picked = info.fault;
      break;
    }
  }
  ++counts_[static_cast<int>(picked)];
  return picked;
}

std::array<uint64_t, kFaultCount> FaultModel::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace relaytap::tools::fake_upstream
