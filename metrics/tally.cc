#include "metrics/tally.h"

#include <algorithm>

#include "recorder/first_delta.h"

namespace relaytap::metrics {
namespace {

using recorder::kOutcomeCount;

// Slot layout of pending_ / published_: counters, then each histogram as its buckets, +Inf,
// count and sum (microseconds), then the guard pairs.
constexpr size_t kConnections = 0;
constexpr size_t kExchanges = kConnections + kModeCount * kOutcomeCount;
constexpr size_t kSessions = kExchanges + kOutcomeCount;
constexpr size_t kMessages = kSessions + kOutcomeCount;
constexpr size_t kBytes = kMessages + 2;
constexpr size_t kStageSlots = kStageBuckets.size() + 3;
constexpr size_t kStages = kBytes + 2;
constexpr size_t kFirstDelta = kStages + kStageCount * kStageSlots;
constexpr size_t kFirstDeltaSlots = kFirstDeltaBuckets.size() + 3;
constexpr size_t kGuard = kFirstDelta + kFirstDeltaSlots;
constexpr size_t kSlotCount = kGuard + kGuardSlots;

size_t OutcomeIndex(recorder::Outcome o) { return static_cast<size_t>(o); }

Mode ModeOf(const recorder::ConnectionOpened& o) {
  if (o.intercepted) return Mode::kIntercept;
  return o.tunnel ? Mode::kTunnel : Mode::kPlain;
}

Histogram ReadHistogram(const std::atomic<uint64_t>* slots, size_t bounds) {
  Histogram h;
  h.buckets.resize(bounds + 1);
  for (size_t i = 0; i <= bounds; ++i) h.buckets[i] = slots[i].load(std::memory_order_relaxed);
  h.count = slots[bounds + 1].load(std::memory_order_relaxed);
  h.sum_us = slots[bounds + 2].load(std::memory_order_relaxed);
  return h;
}

}  // namespace

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kIntercept:
      return "intercept";
    case Mode::kTunnel:
      return "tunnel";
    case Mode::kPlain:
      return "plain";
    case Mode::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view StageName(Stage s) {
  switch (s) {
    case Stage::kDns:
      return "dns";
    case Stage::kTcp:
      return "tcp";
    case Stage::kTls:
      return "tls";
    case Stage::kProxy:
      return "proxy";
    case Stage::kUpgrade:
      return "upgrade";
  }
  return "?";
}

Tally::Tally()
    : pending_(kSlotCount, 0), published_(std::make_unique<std::atomic<uint64_t>[]>(kSlotCount)) {
  for (size_t i = 0; i < kSlotCount; ++i) published_[i].store(0, std::memory_order_relaxed);
}

Tally::~Tally() = default;

void Tally::Observe(size_t first_slot, std::span<const double> bounds, int64_t us) {
  if (us < 0) return;
  const double seconds = static_cast<double>(us) / 1e6;
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  Add(first_slot + bucket);
  Add(first_slot + bounds.size() + 1);
  Add(first_slot + bounds.size() + 2, static_cast<uint64_t>(us));
}

void Tally::OnConnectionOpened(const recorder::ConnectionOpened& o) {
  modes_[o.connection_id] = ModeOf(o);
}

void Tally::OnConnectionClosed(const recorder::ConnectionClosed& c, recorder::Outcome outcome) {
  Mode mode = Mode::kUnknown;
  if (auto it = modes_.find(c.connection_id); it != modes_.end()) {
    mode = it->second;
    modes_.erase(it);
  }
  Add(kConnections + static_cast<size_t>(mode) * kOutcomeCount + OutcomeIndex(outcome));
  Add(kBytes, c.bytes_up);
  Add(kBytes + 1, c.bytes_down);
  const std::pair<Stage, int64_t> stages[] = {{Stage::kDns, c.dns_us},
                                              {Stage::kTcp, c.tcp_connect_us},
                                              {Stage::kTls, c.upstream_tls_us},
                                              {Stage::kProxy, c.proxy_connect_us}};
  for (auto [stage, us] : stages) {
    Observe(kStages + static_cast<size_t>(stage) * kStageSlots, kStageBuckets, us);
  }
}

// `relaytap stats` counts a WebSocket upgrade request as a realtime session attempt: with the
// session's outcome when it was answered 101 (counted when the session closes), else the
// exchange's. Other exchanges are exchanges.
void Tally::OnExchange(const recorder::Exchange& ex, recorder::Outcome outcome) {
  if (!ex.websocket_upgrade) {
    Add(kExchanges + OutcomeIndex(outcome));
    return;
  }
  if (!ex.switched) Add(kSessions + OutcomeIndex(outcome));
  if (ex.response_headers_us > 0) {
    Observe(kStages + static_cast<size_t>(Stage::kUpgrade) * kStageSlots, kStageBuckets,
            ex.response_headers_us - ex.request_start_us);
  }
}

// The first response.create of a session to the first output delta after it, as stats has it.
void Tally::OnMessage(const recorder::WsMessage& msg, std::string_view type) {
  Add(kMessages + static_cast<size_t>(msg.direction));
  if (type.empty()) return;
  const auto key = std::make_pair(msg.connection_id, msg.exchange_sequence);
  if (msg.direction == recorder::WsDirection::kClientToServer) {
    if (type == "response.create") first_create_us_.try_emplace(key, msg.first_frame_us);
    return;
  }
  const auto& deltas = recorder::kFirstDeltaTypes;
  if (std::find(deltas.begin(), deltas.end(), type) == deltas.end()) return;
  auto it = first_create_us_.find(key);
  if (it == first_create_us_.end() || it->second < 0 || msg.first_frame_us < it->second) return;
  Observe(kFirstDelta, kFirstDeltaBuckets, msg.first_frame_us - it->second);
  it->second = -1;
}

void Tally::OnSessionClosed(const recorder::WsSessionClosed& closed, recorder::Outcome outcome) {
  Add(kSessions + OutcomeIndex(outcome));
  first_create_us_.erase(std::make_pair(closed.connection_id, closed.exchange_sequence));
}

size_t Tally::GuardSlot(const recorder::GuardDecision& g) {
  std::string key = g.decision + '\n' + g.reason;
  if (auto it = guard_index_.find(key); it != guard_index_.end()) return kGuard + it->second;
  const int n = guard_count_.load(std::memory_order_relaxed);
  if (n == kGuardSlots - 1) {
    guard_labels_[n] = {"other", "other"};
    guard_count_.store(n + 1, std::memory_order_release);
  }
  if (n >= kGuardSlots - 1) return kGuard + kGuardSlots - 1;
  guard_labels_[n] = {g.decision, g.reason};
  guard_count_.store(n + 1, std::memory_order_release);
  guard_index_.emplace(std::move(key), n);
  return kGuard + n;
}

void Tally::OnGuardDecision(const recorder::GuardDecision& g) { Add(GuardSlot(g)); }

void Tally::OnCommit() {
  for (size_t i = 0; i < kSlotCount; ++i) {
    if (pending_[i] == 0) continue;
    std::atomic<uint64_t>& slot = published_[i];
    slot.store(slot.load(std::memory_order_relaxed) + pending_[i], std::memory_order_relaxed);
    pending_[i] = 0;
  }
}

void Tally::OnRollback() { std::fill(pending_.begin(), pending_.end(), 0); }

TallySnapshot Tally::Snapshot() const {
  TallySnapshot s;
  auto at = [&](size_t slot) { return published_[slot].load(std::memory_order_relaxed); };
  for (int m = 0; m < kModeCount; ++m) {
    for (int o = 0; o < kOutcomeCount; ++o) {
      s.connections[m][o] = at(kConnections + static_cast<size_t>(m * kOutcomeCount + o));
    }
  }
  for (int o = 0; o < kOutcomeCount; ++o) {
    s.exchanges[o] = at(kExchanges + static_cast<size_t>(o));
    s.sessions[o] = at(kSessions + static_cast<size_t>(o));
  }
  for (size_t d = 0; d < 2; ++d) {
    s.messages[d] = at(kMessages + d);
    s.bytes[d] = at(kBytes + d);
  }
  for (size_t st = 0; st < kStageCount; ++st) {
    s.stages[st] = ReadHistogram(&published_[kStages + st * kStageSlots], kStageBuckets.size());
  }
  s.first_delta = ReadHistogram(&published_[kFirstDelta], kFirstDeltaBuckets.size());
  const int n = guard_count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    s.guard_labels.push_back(guard_labels_[static_cast<size_t>(i)]);
    s.guard.push_back(at(kGuard + static_cast<size_t>(i)));
  }
  return s;
}

}  // namespace relaytap::metrics
