#include "proxy/guard/retry_guard.h"

#include <algorithm>
#include <random>

#include "base/log.h"

namespace relaytap::proxy::guard {
namespace {

constexpr std::string_view kReasonNames[kReasonCount] = {
    "first_attempt", "retry_allowed", "breaker_probe",   "attempt_cap",
    "retry_budget",  "breaker_open",  "retry_after_hold"};

int64_t CeilMs(int64_t us) { return std::max<int64_t>(1, (us + 999) / 1000); }

std::string_view TransitionKind(BreakerState to) {
  switch (to) {
    case BreakerState::kOpen:
      return "breaker_open";
    case BreakerState::kHalfOpen:
      return "breaker_half_open";
    case BreakerState::kClosed:
      return "breaker_closed";
  }
  return "breaker_closed";
}

// Identical requests from different clients are not retries of each other.
uint64_t PerClient(uint64_t fingerprint, std::string_view client) {
  if (fingerprint == 0) return 0;
  uint64_t h = fingerprint;
  for (unsigned char c : client) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h == 0 ? 1 : h;
}

}  // namespace

std::string_view ReasonName(Reason r) { return kReasonNames[static_cast<int>(r)]; }

std::string_view RetrySignalName(RetrySignal s) {
  switch (s) {
    case RetrySignal::kNone:
      return "none";
    case RetrySignal::kSdkRetryCount:
      return "x_stainless_retry_count";
    case RetrySignal::kFingerprint:
      return "fingerprint";
    case RetrySignal::kFailedUpgrades:
      return "failed_upgrades";
  }
  return "none";
}

bool IsFailure(const AttemptOutcome& o) {
  return o.status == 0 || o.status == 408 || o.status == 429 || o.status >= 500;
}

RetryGuard::RetryGuard(GuardPolicy policy, GuardMode mode, Clock clock, Random random)
    : policy_(std::move(policy)),
      mode_(mode),
      window_us_(policy_.window_ms * 1000),
      clock_(std::move(clock)),
      random_(std::move(random)) {
  if (!clock_) clock_ = [] { return NowUnixMicros(); };
  if (!random_) random_ = [gen = std::mt19937_64(0x5eed)]() mutable { return gen(); };
}

size_t RetryGuard::key_count() const {
  absl::MutexLock lock(&mu_);
  return keys_.size();
}

uint64_t RetryGuard::decisions(Reason r) const {
  absl::MutexLock lock(&mu_);
  return counters_[static_cast<int>(r)];
}

RetryGuard::KeyState& RetryGuard::StateFor(const std::string& key, int64_t now_us) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (keys_.size() >= policy_.max_keys) Sweep(now_us);
    if (keys_.size() >= policy_.max_keys) {
      auto oldest = std::min_element(keys_.begin(), keys_.end(), [](const auto& a, const auto& b) {
        return a.second->last_used_us < b.second->last_used_us;
      });
      keys_.erase(oldest);
    }
    it = keys_.emplace(key, std::make_unique<KeyState>(policy_, window_us_)).first;
  }
  it->second->last_used_us = now_us;
  return *it->second;
}

void RetryGuard::Sweep(int64_t now_us) {
  last_sweep_us_ = now_us;
  int64_t expiry_us = policy_.key_idle_expiry_ms * 1000;
  absl::erase_if(keys_, [&](const auto& kv) {
    const KeyState& ks = *kv.second;
    bool busy = ks.holding && now_us < ks.hold_until_us;  // an idle breaker is forgotten
    return !busy && now_us - ks.last_used_us > expiry_us;
  });
  for (auto& [key, ks] : keys_) {
    absl::erase_if(ks->fingerprints,
                   [&](const auto& f) { return now_us - f.second.last_us > window_us_; });
    absl::erase_if(ks->failed_upgrades,
                   [&](const auto& f) { return now_us - f.second.last_us > window_us_; });
  }
}

void RetryGuard::RememberFingerprint(KeyState& ks, uint64_t fp, int attempt, bool failed,
                                     int64_t now_us) {
  if (fp == 0) return;
  if (!ks.fingerprints.contains(fp) && ks.fingerprints.size() >= policy_.max_fingerprints_per_key) {
    absl::erase_if(ks.fingerprints,
                   [&](const auto& f) { return now_us - f.second.last_us > window_us_; });
    if (ks.fingerprints.size() >= policy_.max_fingerprints_per_key) {
      auto oldest = std::min_element(
          ks.fingerprints.begin(), ks.fingerprints.end(),
          [](const auto& a, const auto& b) { return a.second.last_us < b.second.last_us; });
      ks.fingerprints.erase(oldest);
    }
  }
  Fingerprint& f = ks.fingerprints[fp];
  f.attempts = std::max(f.attempts, attempt);
  f.last_us = now_us;
  f.failed = failed;
}

RetryGuard::FailedUpgrades* RetryGuard::UpgradeRecord(KeyState& ks, const std::string& client,
                                                      int64_t now_us) {
  auto it = ks.failed_upgrades.find(client);
  if (it != ks.failed_upgrades.end()) return &it->second;
  if (ks.failed_upgrades.size() >= policy_.max_fingerprints_per_key) {
    absl::erase_if(ks.failed_upgrades,
                   [&](const auto& f) { return now_us - f.second.last_us > window_us_; });
    if (ks.failed_upgrades.size() >= policy_.max_fingerprints_per_key) return nullptr;
  }
  return &ks.failed_upgrades[client];
}

int64_t RetryGuard::Jitter(int64_t ms) {
  return ms + static_cast<int64_t>(random_() % static_cast<uint64_t>(ms / 10 + 1));
}

void RetryGuard::Classify(KeyState& ks, const RequestFacts& facts, int64_t now_us, Decision& d) {
  if (facts.stainless_retry_count > 0) {
    d.retry = true;
    d.signal = RetrySignal::kSdkRetryCount;
    d.counts.attempt = facts.stainless_retry_count + 1;
    return;
  }
  if (auto it = ks.fingerprints.find(d.fingerprint);
      d.fingerprint != 0 && it != ks.fingerprints.end() && it->second.failed &&
      now_us - it->second.last_us <= window_us_) {
    d.retry = true;
    d.signal = RetrySignal::kFingerprint;
    d.counts.attempt = it->second.attempts + 1;
    return;
  }
  if (facts.websocket_upgrade) {
    auto it = ks.failed_upgrades.find(d.client);
    if (it != ks.failed_upgrades.end() && it->second.count > 0 &&
        now_us - it->second.last_us <= window_us_) {
      d.retry = true;
      d.signal = RetrySignal::kFailedUpgrades;
      d.counts.attempt = it->second.count + 1;
    }
  }
}

void RetryGuard::Judge(KeyState& ks, int64_t now_us, Decision& d) {
  auto reject = [&](Reason r, int64_t after_ms) {
    d.verdict = Verdict::kReject;
    d.reason = r;
    d.retry_after_ms = after_ms;
  };
  d.counts.window_attempts = ks.budget.attempts(now_us);
  d.counts.window_retries = ks.budget.retries(now_us);
  d.counts.retries_allowed = ks.budget.Allowed(now_us);
  if (policy_.holds.enabled && ks.holding && now_us < ks.hold_until_us) {
    reject(Reason::kRetryAfterHold, Jitter(CeilMs(ks.hold_until_us - now_us)));
  } else if (policy_.circuit_breaker.enabled) {
    std::optional<BreakerTransition> t;
    BreakerAdmission a = ks.breaker.Check(now_us, &t);
    if (t) d.events.push_back({std::string(TransitionKind(t->to)), d.key, now_us, 0});
    if (!a.allowed) reject(Reason::kBreakerOpen, Jitter(a.retry_after_ms));
    d.probe = a.allowed && a.probe;
  }
  if (d.verdict == Verdict::kForward && d.retry) {
    if (policy_.attempt_cap.enabled && d.counts.attempt > policy_.attempt_cap.max_attempts) {
      reject(Reason::kAttemptCap, policy_.reject_retry_after_ms);
    } else if (policy_.retry_budget.enabled && !ks.budget.CanRetry(now_us)) {
      reject(Reason::kRetryBudget, policy_.reject_retry_after_ms);
    }
  }
  if (d.verdict == Verdict::kReject) {
    d.probe = false;
  } else {
    d.reason =
        d.probe ? Reason::kBreakerProbe : (d.retry ? Reason::kRetryAllowed : Reason::kFirstAttempt);
  }
  d.counts.window_failures = ks.breaker.failures(now_us);
  d.counts.window_outcomes = ks.breaker.outcomes(now_us);
  d.counts.breaker = std::string(BreakerStateName(ks.breaker.state()));
}

void RetryGuard::Account(KeyState& ks, const RequestFacts& facts, int64_t now_us,
                         const Decision& d) {
  bool sent = d.verdict == Verdict::kForward || mode_ != GuardMode::kEnforce;
  if (sent) {
    ks.budget.OnSent(d.retry, now_us);
    ks.breaker.OnSent(d.probe, now_us);
    RememberFingerprint(ks, d.fingerprint, d.counts.attempt, /*failed=*/false, now_us);
    return;
  }
  // Rejected here: to the app this attempt failed, so its next one is a retry too.
  RememberFingerprint(ks, d.fingerprint, d.counts.attempt, /*failed=*/true, now_us);
  if (facts.websocket_upgrade) {
    if (FailedUpgrades* f = UpgradeRecord(ks, d.client, now_us)) {
      f->count = std::max(f->count, d.counts.attempt);
      f->last_us = now_us;
    }
  }
}

Decision RetryGuard::Decide(const RequestFacts& facts) {
  int64_t now_us = clock_();
  Decision d;
  d.at_us = now_us;
  d.key = GuardKey(facts.host, facts.deployment, policy_.key_by_client ? facts.client : "");
  d.client = facts.client;
  d.fingerprint = PerClient(facts.fingerprint, facts.client);
  d.websocket_upgrade = facts.websocket_upgrade;
  {
    absl::MutexLock lock(&mu_);
    if (now_us - last_sweep_us_ > window_us_) Sweep(now_us);
    KeyState& ks = StateFor(d.key, now_us);
    if (ks.holding && now_us >= ks.hold_until_us) {
      ks.holding = false;
      d.events.push_back({"hold_end", d.key, now_us, 0});
    }
    Classify(ks, facts, now_us, d);
    Judge(ks, now_us, d);
    Account(ks, facts, now_us, d);
    counters_[static_cast<int>(d.reason)]++;
  }
  for (const GuardEvent& e : d.events) Log(e);
  return d;
}

std::vector<GuardEvent> RetryGuard::RecordOutcome(const Decision& d, const AttemptOutcome& o) {
  int64_t now_us = clock_();
  bool failed = IsFailure(o);
  std::vector<GuardEvent> events;
  {
    absl::MutexLock lock(&mu_);
    KeyState& ks = StateFor(d.key, now_us);
    if (policy_.circuit_breaker.enabled) {
      if (auto t = ks.breaker.OnOutcome(failed, d.probe, now_us)) {
        events.push_back({std::string(TransitionKind(t->to)), d.key, now_us, t->cooldown_ms});
      }
    }
    if (auto it = ks.fingerprints.find(d.fingerprint); it != ks.fingerprints.end()) {
      it->second.failed = failed;
      it->second.last_us = now_us;
    }
    if (d.websocket_upgrade) {
      if (FailedUpgrades* f = failed ? UpgradeRecord(ks, d.client, now_us) : nullptr) {
        if (now_us - f->last_us > window_us_) f->count = 0;
        f->count = std::max(f->count + 1, d.counts.attempt);
        f->last_us = now_us;
      } else if (!failed) {
        ks.failed_upgrades.erase(d.client);
      }
    }
    if (policy_.holds.enabled && (o.status == 429 || o.status == 503) && o.retry_after_ms) {
      int64_t hold_ms = std::min(*o.retry_after_ms, policy_.holds.max_hold_ms);
      int64_t until = now_us + hold_ms * 1000;
      if (hold_ms > 0 && until > ks.hold_until_us) {
        ks.hold_until_us = until;
        if (!ks.holding) events.push_back({"hold_start", d.key, now_us, hold_ms});
        ks.holding = true;
      }
    }
  }
  for (const GuardEvent& e : events) Log(e);
  return events;
}

void RetryGuard::RecordSessionEnd(const Decision& d, bool failed) {
  if (!d.websocket_upgrade || d.verdict != Verdict::kForward) return;
  int64_t now_us = clock_();
  absl::MutexLock lock(&mu_);
  KeyState& ks = StateFor(d.key, now_us);
  if (!failed) {
    ks.failed_upgrades.erase(d.client);
    return;
  }
  if (FailedUpgrades* f = UpgradeRecord(ks, d.client, now_us)) {
    if (now_us - f->last_us > window_us_) f->count = 0;
    f->count = std::max(f->count + 1, d.counts.attempt);
    f->last_us = now_us;
  }
}

void RetryGuard::Log(const GuardEvent& e) const {
  if (e.kind == "breaker_open") {
    RELAYTAP_LOG(kWarn, "guard(", GuardModeName(mode_), "): breaker for ", e.key, " open for ",
                 e.retry_after_ms, " ms");
  } else if (e.kind.starts_with("breaker_")) {
    RELAYTAP_LOG(kInfo, "guard(", GuardModeName(mode_), "): breaker for ", e.key, " ",
                 e.kind.substr(8));
  } else {
    RELAYTAP_LOG(kDebug, "guard(", GuardModeName(mode_), "): ", e.kind, " ", e.key,
                 e.retry_after_ms > 0 ? StrCat(" ", e.retry_after_ms, " ms") : "");
  }
}

}  // namespace relaytap::proxy::guard
