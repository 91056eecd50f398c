#pragma once
// The live counters behind `relaytap proxy --metrics`: a recorder::WriterTap, so every count is
// made on the recorder's writer thread from the outcome the store gets (the same classification
// call, made once), never on the relay's io threads. Counts are held per transaction and
// published when it commits, so a scrape sees what the store has (a batch that fails to commit
// is a gap, not a count). The writer thread is the only writer: publishing is a relaxed load and
// store per changed slot, and a scrape (any thread) reads relaxed loads. No lock anywhere.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "recorder/outcome.h"
#include "recorder/writer_tap.h"

namespace relaytap::metrics {

// Connection modes as the store has them: intercepted, a blind CONNECT tunnel, plain HTTP, and
// "unknown" for a close whose open was not recorded (a gap).
enum class Mode : uint8_t { kIntercept, kTunnel, kPlain, kUnknown };
inline constexpr int kModeCount = 4;
std::string_view ModeName(Mode m);

// The dial stages of relaytap_upstream_stage_seconds. kProxy: the CONNECT to --upstream-proxy.
enum class Stage : uint8_t { kDns, kTcp, kTls, kProxy, kUpgrade };
inline constexpr int kStageCount = 5;
std::string_view StageName(Stage s);

// Upper bounds (seconds) of the histogram buckets; +Inf is implicit.
inline constexpr std::array<double, 13> kStageBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
inline constexpr std::array<double, 12> kFirstDeltaBuckets = {0.05, 0.1, 0.25, 0.5, 0.75, 1,
                                                              1.5,  2,   3,    5,   10,   30};

// Distinct guard (decision, reason) pairs kept as their own series; later ones share the last
// slot, labelled "other". The guard's vocabulary is far smaller.
inline constexpr int kGuardSlots = 64;

struct Histogram {
  std::vector<uint64_t> buckets;  // per bucket (not cumulative), then one for +Inf
  uint64_t count = 0;
  uint64_t sum_us = 0;
};

// A consistent-enough copy for one scrape (each value read once).
struct TallySnapshot {
  uint64_t connections[kModeCount][recorder::kOutcomeCount] = {};
  uint64_t exchanges[recorder::kOutcomeCount] = {};
  uint64_t sessions[recorder::kOutcomeCount] = {};
  uint64_t messages[2] = {};  // client, server (WsDirection order)
  uint64_t bytes[2] = {};     // up (app -> upstream), down
  Histogram stages[kStageCount];
  Histogram first_delta;
  std::vector<std::pair<std::string, std::string>> guard_labels;  // (decision, reason)
  std::vector<uint64_t> guard;                                    // same order
};

class Tally final : public recorder::WriterTap {
 public:
  Tally();
  ~Tally() override;

  // recorder::WriterTap (writer thread)
  void OnConnectionOpened(const recorder::ConnectionOpened& o) override;
  void OnConnectionClosed(const recorder::ConnectionClosed& c, recorder::Outcome outcome) override;
  void OnExchange(const recorder::Exchange& ex, recorder::Outcome outcome) override;
  void OnMessage(const recorder::WsMessage& msg, std::string_view type) override;
  void OnSessionClosed(const recorder::WsSessionClosed& closed, recorder::Outcome outcome) override;
  void OnGuardDecision(const recorder::GuardDecision& g) override;
  void OnCommit() override;
  void OnRollback() override;

  // Any thread.
  TallySnapshot Snapshot() const;

 private:
  void Add(size_t slot, uint64_t n = 1) { pending_[slot] += n; }
  void Observe(size_t first_slot, std::span<const double> bounds, int64_t us);
  size_t GuardSlot(const recorder::GuardDecision& g);

  std::vector<uint64_t> pending_;                       // writer thread only
  std::unique_ptr<std::atomic<uint64_t>[]> published_;  // one per slot
  // Writer thread only: each open connection's mode; each session's first response.create time
  // (-1 once its first delta was seen).
  absl::flat_hash_map<uint64_t, Mode> modes_;
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, int64_t> first_create_us_;
  absl::flat_hash_map<std::string, int> guard_index_;
  // Guard labels: written by the writer thread before guard_count_ is released.
  std::array<std::pair<std::string, std::string>, kGuardSlots> guard_labels_;
  std::atomic<int> guard_count_{0};
};

}  // namespace relaytap::metrics
