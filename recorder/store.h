#pragma once
// The SQL side of the recorder: one write connection, statements prepared once, rows that are
// already correlated and redacted. It never sees raw header values or payloads.
// Thread rule: the writer thread only.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recorder/audio_run.h"
#include "recorder/bounded_queue.h"
#include "recorder/correlator.h"
#include "recorder/observation.h"
#include "recorder/outcome.h"
#include "recorder/schema.h"
#include "recorder/session_state.h"
#include "recorder/sqlite/database.h"

namespace relaytap::recorder {

struct RunInfo {
  std::string relaytap_version;
  int64_t start_us = 0;
  std::string hostname;
  std::string timezone;
  int64_t utc_offset_s = 0;
  std::string policy_hash;
  Durability durability = Durability::kNormal;
};

// An exchange with its facts and the redacted renderings of its raw parts.
struct ExchangeRow {
  const Exchange* ex = nullptr;
  const ExchangeFacts* facts = nullptr;
  std::string path, request_headers, response_headers, request_body, response_body, sse_events,
      error_reason;
  std::string jwt_aud, jwt_tid;  // identifiers or fingerprints (redact::JwtIdentifier); "" none
};

struct SessionCloseRow {
  const WsSessionClosed* closed = nullptr;  // null when the recorder closes with it still open
  const SessionState* state = nullptr;
  std::string subprotocol;   // redacted
  std::string close_reason;  // scrubbed
  std::string outcome;       // "" leaves NULL
  std::string close_side;    // who sent the first close frame, else whose side ended the relay
  int64_t close_us = 0;
};

class Store {
 public:
  // Opens (creating if needed) and migrates the file, applies pragmas, prepares statements.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     Durability durability);
  ~Store();

  sqlite::Database& db() { return *db_; }

  absl::StatusOr<int64_t> InsertRun(const RunInfo& run);
  absl::Status FinishRun(int64_t run_id, int64_t stop_us);
  absl::Status InsertGap(int64_t run_id, const DropStats& drops, std::string_view reason);
  // Brings the gap row `gap_id` (from InsertGap: db().LastInsertRowId()) up to `drops`.
  absl::Status UpdateGap(int64_t gap_id, const DropStats& drops, std::string_view reason);

  absl::Status WriteConnectionOpened(int64_t run_id, const ConnectionOpened& c);
  absl::Status WriteConnectionClosed(int64_t run_id, const ConnectionClosed& c,
                                     const EndClass& end_class);
  absl::Status WriteExchange(int64_t run_id, const ExchangeRow& row);
  // The ws_sessions row id of (connection, exchange sequence), created if missing. Cached.
  absl::StatusOr<int64_t> SessionRef(int64_t run_id, uint64_t connection_id,
                                     uint32_t exchange_sequence, int64_t open_us);
  absl::Status UpdateSessionIdentity(int64_t ref, const SessionState& s);
  // `close_reason`: a close frame's reason, scrubbed ("" for other messages and no reason).
  absl::Status WriteEvent(int64_t ref, const WsMessage& m, const MessageFacts& f,
                          std::string_view payload, std::string_view close_reason = "");
  // Writes the run's members so far into its row (written by WriteEvent for the first member).
  absl::Status UpdateRun(const AudioRun& run);
  absl::Status CloseSession(int64_t ref, const SessionCloseRow& row);
  absl::Status WriteGuardDecision(int64_t run_id, const GuardDecision& g);

  // Forgets cached row ids (after a rolled-back batch they may not exist).
  void ClearCaches() { session_refs_.clear(); }
  void ForgetSession(uint64_t connection_id, uint32_t exchange_sequence) {
    session_refs_.erase(Key(connection_id, exchange_sequence));
  }

 private:
  struct Statements;
  Store(std::unique_ptr<sqlite::Database> db, std::unique_ptr<Statements> st);
  static std::pair<uint64_t, uint32_t> Key(uint64_t c, uint32_t s) { return {c, s}; }

  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<Statements> st_;
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, int64_t> session_refs_;
};

}  // namespace relaytap::recorder
