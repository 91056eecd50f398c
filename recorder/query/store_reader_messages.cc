// StoreReader::ForEachMessage: every message of a session in order, the members of runs of audio
// events (schema version 5) one by one; StoreReader::AudioFingerprints: the runs' fingerprint
// kinds.
#include <memory>
#include <queue>

#include "base/status_macros.h"
#include "recorder/query/run_detail.h"
#include "recorder/query/store_reader.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/statement.h"

namespace relaytap::recorder::query {
namespace {

constexpr std::string_view kAudioFingerprintsSql =
    "SELECT COALESCE(SUM(run_fingerprint LIKE 'hmac:%'), 0), "
    "COALESCE(SUM(run_fingerprint LIKE 'siphash:%'), 0) FROM events "
    "WHERE run_fingerprint IS NOT NULL";

constexpr std::string_view kMessagesSql =
    "SELECT first_frame_us, direction = 'client', opcode, COALESCE(payload, ''), seq, "
    "COALESCE(run_count, 0), run_detail FROM events "
    "WHERE session_ref = ?1 AND opcode IN (1, 2) ORDER BY seq";

// A run member not yet passed on: runs of the two directions (and of different kinds)
// interleave, so members wait until every row before them in seq order has gone.
struct PendingMember {
  uint64_t seq = 0;
  int64_t at_us = 0;
  bool from_client = false;
  int opcode = 1;
  std::shared_ptr<const std::string> payload;  // the run's first message's, shared
};
struct LaterSeq {
  bool operator()(const PendingMember& a, const PendingMember& b) const { return a.seq > b.seq; }
};

}  // namespace

absl::Status StoreReader::ForEachMessage(int64_t session_ref,
                                         absl::FunctionRef<void(const MessageView&)> fn) {
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, db_->Prepare(kMessagesSql));
  s.BindInt64(1, session_ref);
  std::priority_queue<PendingMember, std::vector<PendingMember>, LaterSeq> waiting;
  const auto pass_before = [&](uint64_t seq) {
    while (!waiting.empty() && waiting.top().seq < seq) {
      const PendingMember& m = waiting.top();
      fn(MessageView{m.at_us, m.from_client, m.opcode, *m.payload});
      waiting.pop();
    }
  };
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    const auto seq = static_cast<uint64_t>(s.ColumnInt64(4));
    pass_before(seq);
    const MessageView view{s.ColumnInt64(0), s.ColumnInt64(1) != 0,
                           static_cast<int>(s.ColumnInt64(2)), s.ColumnTextView(3)};
    if (s.ColumnInt64(5) <= 1) {
      fn(view);
      continue;
    }
    RELAYTAP_ASSIGN_OR_RETURN(std::vector<RunMember> members,
                              DecodeRunDetail(s.ColumnBlob(6), seq, view.at_us));
    auto payload = std::make_shared<const std::string>(view.payload);
    for (const RunMember& m : members) {
      waiting.push(PendingMember{m.seq, m.first_us, view.from_client, view.opcode, payload});
    }
  }
  pass_before(UINT64_MAX);
  return absl::OkStatus();
}

absl::StatusOr<StoreReader::AudioFingerprintKinds> StoreReader::AudioFingerprints() {
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, db_->Prepare(kAudioFingerprintsSql));
  RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
  AudioFingerprintKinds kinds;
  if (row) {
    kinds.hmac_runs = s.ColumnInt64(0);
    kinds.siphash_runs = s.ColumnInt64(1);
  }
  return kinds;
}

}  // namespace relaytap::recorder::query
