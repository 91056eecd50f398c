#include "recorder/batch_writer.h"

#include "base/byte_size.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "recorder/call_store.h"
#include "recorder/correlator.h"
#include "recorder/sqlite/transaction.h"

namespace relaytap::recorder {
namespace {

constexpr int64_t kReopenBackoffUs = 1'000'000;
constexpr uint64_t kRecheckDiskBytes = uint64_t{1} << 20;

struct TimeOf {
  int64_t operator()(const ConnectionOpened& o) const { return o.open_us; }
  int64_t operator()(const ConnectionClosed& o) const { return o.close_us; }
  int64_t operator()(const Exchange& o) const { return o.request_start_us; }
  int64_t operator()(const WsMessage& o) const { return o.first_frame_us; }
  int64_t operator()(const WsSessionClosed& o) const { return o.close_us; }
  int64_t operator()(const GuardDecision& o) const { return o.at_us; }
};

// The kind of run a message may join: text audio events without a failure or a cut payload.
AudioKind RunKindOf(const WsMessage& m, const MessageFacts& f) {
  if (m.opcode != 1 || m.truncated() || !f.json || f.failure) return AudioKind::kNone;
  return AudioKindOf(f.type);
}

}  // namespace

int64_t ObservationTimeUs(const Observation& obs) { return std::visit(TimeOf{}, obs); }

BatchWriter::BatchWriter(std::string db_path, Durability durability, const Redactor& redactor,
                         std::unique_ptr<Store> store, int64_t run_id, DiskLimits disk)
    : first_path_(db_path),
      db_path_(std::move(db_path)),
      durability_(durability),
      redactor_(redactor),
      store_(std::move(store)),
      run_id_(run_id),
      disk_(db_path_, std::move(disk)) {}

bool BatchWriter::EnsureStore() {
  if (store_) return true;
  int64_t now = NowUnixMicros();
  if (now < next_reopen_us_) return false;
  next_reopen_us_ = now + kReopenBackoffUs;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(db_path_, durability_);
  if (!store.ok()) return false;
  store_ = std::move(*store);
  return true;
}

void BatchWriter::WriteBatch(std::vector<Observation>& batch, const DropStats& drops) {
  pending_gap_.Add(drops.observations, drops.bytes, drops.first_us, drops.last_us);
  if (batch.empty() && pending_gap_.empty()) return;
  DiskPause pause = disk_.Check();
  if (const int64_t now = NowUnixMicros(); RollDue(pause, now)) {
    if (absl::Status rolled = Roll(now); rolled.ok()) {
      pause = disk_.Check();
    } else {
      roll_backoff_us_ = now + 60'000'000;
      RELAYTAP_LOG(kError, "recorder: cannot roll ", db_path_, " over to a new file (",
                   std::string(rolled.message()), "); recording goes on in it, next try in 60 s");
    }
  }
  if (pause != DiskPause::kNone) return Pause(pause, batch, /*force=*/false);
  if (paused_ != DiskPause::kNone) {
    RELAYTAP_LOG(kInfo, "recorder: recording to ", db_path_, " again (",
                 FormatByteSize(disk_.free_bytes()), " free); the pause is one gap row");
    paused_ = DiskPause::kNone;
  }
  absl::Status st =
      EnsureStore() ? absl::OkStatus() : absl::UnavailableError("store not open (reopen pending)");
  const bool new_gap_row = gap_row_id_ == 0;
  size_t kept = batch.size();  // observations written; the rest go to a pause
  DiskPause pause_at_kept = DiskPause::kNone;
  if (st.ok()) {
    if (before_batch_for_test_) before_batch_for_test_(store_->db());
    sqlite::Transaction tx(store_->db());
    st = tx.Begin();
    // A batch can be large: look at the disk again after every megabyte, and leave the rest of
    // the batch to the pause once a limit is reached, so that the store overshoots by little.
    uint64_t since_check = 0;
    for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
      since_check += ApproximateBytes(batch[i]);
      if (since_check > kRecheckDiskBytes) {
        since_check = 0;
        pause_at_kept = disk_.Check();
        if (pause_at_kept != DiskPause::kNone) {
          kept = i;
          break;
        }
      }
      st = WriteOne(batch[i]);
    }
    if (st.ok()) st = WriteOpenRuns();
    if (st.ok()) st = WriteGapIfAny();
    if (st.ok()) st = tx.Commit();
  }
  if (!st.ok()) {
    if (new_gap_row) gap_row_id_ = 0;  // rolled back with the transaction
    if (tap_) tap_->OnRollback();
    OnFailure(st, batch);
    return;
  }
  if (tap_) tap_->OnCommit();
  GapWritten(new_gap_row);
  counters_.written += kept;
  if (kept < batch.size()) {
    Pause(pause_at_kept, std::span<const Observation>(batch).subspan(kept), /*force=*/true);
  }
  if (failing_) {
    failing_ = false;
    RELAYTAP_LOG(kInfo, "recorder: writing to ", db_path_, " again; the loss is recorded as a gap");
  }
}

void BatchWriter::AddToGap(std::span<const Observation> batch) {
  counters_.lost += batch.size();
  uint64_t bytes = 0;
  int64_t from = 0, to = 0;
  for (const Observation& o : batch) {
    bytes += ApproximateBytes(o);
    int64_t t = ObservationTimeUs(o);
    if (from == 0 || t < from) from = t;
    if (t > to) to = t;
  }
  pending_gap_.Add(batch.size(), bytes, from, to);
}

void BatchWriter::Pause(DiskPause why, std::span<const Observation> batch, bool force) {
  AddToGap(batch);
  counters_.paused += batch.size();
  gap_pause_ = why;
  // Messages go unrecorded: an audio message after the pause starts a new run.
  for (auto& [key, state] : sessions_) state.runs = AudioRuns{};
  if (paused_ != why) {
    paused_ = why;
    const DiskLimits& limits = disk_.limits();
    RELAYTAP_LOG(kError, "recorder: recording to ", db_path_, " paused: ",
                 why == DiskPause::kDbSizeCap
                     ? StrCat("the store is ", FormatByteSize(disk_.db_bytes()),
                              ", at --max-db-size ", FormatByteSize(limits.max_db_bytes),
                              " (start a new store with --db to record again)")
                     : StrCat("only ", FormatByteSize(disk_.free_bytes()),
                              " free on its filesystem, under --min-free ",
                              FormatByteSize(limits.min_free_bytes),
                              " (recording resumes when space is freed)"),
                 "; relaying continues, what is not recorded is counted in one gap row (",
                 DiskPauseName(why), ")");
  }
  const int64_t now = NowUnixMicros();
  if (!force && now < next_gap_update_us_) return;
  next_gap_update_us_ = now + 1'000'000;
  // The gap row goes to disk now, so that a pause is on record even if the process dies in it.
  if (!EnsureStore()) return;
  const bool new_row = gap_row_id_ == 0;
  sqlite::Transaction tx(store_->db());
  absl::Status st = tx.Begin();
  if (st.ok()) st = WriteGapIfAny();
  if (st.ok()) st = tx.Commit();
  if (!st.ok()) {
    if (new_row) gap_row_id_ = 0;  // rolled back with the transaction
    return;
  }
  if (new_row && gap_row_id_ != 0) counters_.gaps_written++;
}

void BatchWriter::GapWritten(bool new_row) {
  if (!pending_gap_.empty() && new_row) counters_.gaps_written++;
  pending_gap_ = DropStats{};
  lost_writes_in_gap_ = false;
  gap_pause_ = DiskPause::kNone;
  gap_row_id_ = 0;
}

void BatchWriter::OnFailure(const absl::Status& st, const std::vector<Observation>& batch) {
  counters_.write_failures++;
  AddToGap(batch);
  if (!batch.empty()) lost_writes_in_gap_ = true;
  if (store_) store_->ClearCaches();
  // A run's row holds what the last commit wrote (or does not exist): its next message starts
  // a new run.
  for (auto& [key, state] : sessions_) state.runs = AudioRuns{};
  // Locked: keep the connection. Anything else (I/O, full, read-only): reopen later.
  if (!absl::IsUnavailable(st) || st.message().find("locked") == absl::string_view::npos) {
    store_.reset();
  }
  if (!failing_) {
    failing_ = true;
    // The status holds sqlite3_errmsg and SQL words only, never a bound value.
    RELAYTAP_LOG(kError, "recorder: cannot write to ", db_path_, " (", std::string(st.message()),
                 "); relaying continues, lost observations are counted as a gap");
  }
}

absl::Status BatchWriter::WriteGapIfAny() {
  if (pending_gap_.empty()) return absl::OkStatus();
  const std::string_view reason = gap_pause_ != DiskPause::kNone ? DiskPauseName(gap_pause_)
                                  : lost_writes_in_gap_          ? "write_failed"
                                                                 : "queue_full";
  if (gap_row_id_ != 0) return store_->UpdateGap(gap_row_id_, pending_gap_, reason);
  RELAYTAP_RETURN_IF_ERROR(store_->InsertGap(run_id_, pending_gap_, reason));
  gap_row_id_ = store_->db().LastInsertRowId();
  return absl::OkStatus();
}

absl::Status BatchWriter::WriteOne(Observation& obs) {
  if (auto* o = std::get_if<ConnectionOpened>(&obs)) {
    RELAYTAP_RETURN_IF_ERROR(store_->WriteConnectionOpened(run_id_, *o));
    if (tap_) tap_->OnConnectionOpened(*o);
    return absl::OkStatus();
  }
  if (auto* c = std::get_if<ConnectionClosed>(&obs)) {
    const EndClass end = ClassifyEnd(c->end);
    RELAYTAP_RETURN_IF_ERROR(store_->WriteConnectionClosed(run_id_, *c, end));
    if (tap_) tap_->OnConnectionClosed(*c, end.outcome.value_or(Outcome::kOk));
    return absl::OkStatus();
  }
  if (auto* e = std::get_if<Exchange>(&obs)) return WriteExchange(*e);
  if (auto* m = std::get_if<WsMessage>(&obs)) return WriteMessage(*m);
  if (auto* g = std::get_if<GuardDecision>(&obs)) {
    RELAYTAP_RETURN_IF_ERROR(store_->WriteGuardDecision(run_id_, *g));
    if (tap_) tap_->OnGuardDecision(*g);
    return absl::OkStatus();
  }
  return WriteSessionClosed(std::get<WsSessionClosed>(obs));
}

absl::Status BatchWriter::WriteExchange(const Exchange& ex) {
  ExchangeFacts facts = CorrelateExchange(ex);
  redactor_.SanitizeColumns(facts);
  ExchangeRow row;
  row.ex = &ex;
  row.facts = &facts;
  row.path = redactor_.Target(ex.target);
  row.request_headers = redactor_.HeadersJson(ex.request_headers);
  row.response_headers = redactor_.HeadersJson(ex.response_headers);
  row.request_body = redactor_.Body(ex.request_body);
  row.response_body = redactor_.Body(ex.response_body);
  row.sse_events = redactor_.SseEvents(ex.sse_events);
  row.error_reason = redactor_.ScrubbedText(ex.error_reason);
  row.jwt_aud = redactor_.JwtIdentifier(redact::JwtClaim::kAud, facts.jwt_aud);
  row.jwt_tid = redactor_.JwtIdentifier(redact::JwtClaim::kTid, facts.jwt_tid);
  RELAYTAP_RETURN_IF_ERROR(store_->WriteExchange(run_id_, row));
  if (tap_) tap_->OnExchange(ex, facts.outcome);
  return WriteCallFacts(*store_, redactor_, run_id_, ex, facts);
}

std::string BatchWriter::RedactedPayload(const WsMessage& msg,
                                         const std::optional<redact::FlatObject>& flat,
                                         redact::ParsedJson& doc) const {
  if (flat) {
    if (std::optional<std::string> p = redactor_.FlatMessagePayload(msg, *flat)) {
      return std::move(*p);
    }
    doc = redact::ParsedJson::Parse(msg.payload);  // the flat path does not apply: the DOM's
  }
  return redactor_.MessagePayload(msg, &doc);
}

absl::Status BatchWriter::WriteMessage(const WsMessage& msg) {
  // Flat events (audio above all: a few ids and one long base64 string) are read without a DOM,
  // into the same facts and the same stored payload (redact/flat_json.h).
  std::optional<redact::FlatObject> flat;
  if (msg.opcode == 1 && !msg.truncated()) flat = redact::ParseFlatObject(msg.payload);
  redact::ParsedJson doc;
  MessageFacts facts = flat ? CorrelateFlatMessage(msg, *flat) : CorrelateMessage(msg, &doc);
  redactor_.SanitizeColumns(facts);
  auto key = std::make_pair(msg.connection_id, msg.exchange_sequence);
  SessionState& state = sessions_[key];
  // OnMessage takes a non-empty session id / model from the facts: it changes exactly when such
  // a value differs (no copies of the old ones for every message).
  const bool identity_changed =
      (!facts.session_id.empty() && facts.session_id != state.session_id) ||
      (!facts.model.empty() && facts.model != state.model);
  state.OnMessage(msg, facts);
  if (tap_) tap_->OnMessage(msg, facts.type);
  RELAYTAP_ASSIGN_OR_RETURN(int64_t ref, store_->SessionRef(run_id_, msg.connection_id,
                                                            msg.exchange_sequence, state.open_us));
  if (identity_changed) {
    RELAYTAP_RETURN_IF_ERROR(store_->UpdateSessionIdentity(ref, state));
  }
  // Every close frame's reason, either direction (the session row keeps only the first one's).
  const std::string close_reason =
      msg.opcode == 8 && !msg.close_reason.empty() ? redactor_.ScrubbedText(msg.close_reason) : "";
  std::string payload = RedactedPayload(msg, flat, doc);
  const AudioKind kind = audio_runs_ ? RunKindOf(msg, facts) : AudioKind::kNone;
  if (kind != AudioKind::kNone) {
    const bool from_client = msg.direction == WsDirection::kClientToServer;
    return WriteAudio(ref, msg, facts, payload, state.runs.Slot(from_client, kind));
  }
  // Any other event of the session, either direction, ends its runs: the sequence reads right.
  RELAYTAP_RETURN_IF_ERROR(CloseRuns(state));
  return store_->WriteEvent(ref, msg, facts, payload, close_reason);
}

absl::Status BatchWriter::WriteAudio(int64_t ref, const WsMessage& msg, const MessageFacts& facts,
                                     std::string_view payload, AudioRun& run) {
  RunMessage m;
  m.member = RunMember{msg.sequence, msg.first_frame_us, static_cast<int64_t>(msg.wire_bytes),
                       static_cast<int64_t>(msg.payload_bytes), facts.audio_bytes.value_or(0)};
  m.event_id = facts.event_id;
  m.last_frame_us = msg.last_frame_us;
  m.frames = msg.frame_count;
  m.audio_ms = facts.audio_ms.value_or(0);
  const std::string content = ContentFingerprints(payload);
  if (run.Continues(facts.response_id, facts.item_id, msg.first_frame_us)) {
    AddToRun(run, m, redactor_.BulkFingerprint(StrCat(run.fingerprint, content)));
    return absl::OkStatus();
  }
  RELAYTAP_RETURN_IF_ERROR(FlushRun(run, /*close=*/true));
  RELAYTAP_RETURN_IF_ERROR(store_->WriteEvent(ref, msg, facts, payload));
  StartRun(run, store_->db().LastInsertRowId(), m, facts.response_id, facts.item_id,
           redactor_.BulkFingerprint(content));
  return absl::OkStatus();
}

absl::Status BatchWriter::FlushRun(AudioRun& run, bool close) {
  if (run.open() && run.dirty) {
    RELAYTAP_RETURN_IF_ERROR(store_->UpdateRun(run));
    run.dirty = false;
  }
  if (close) run = AudioRun{};
  return absl::OkStatus();
}

absl::Status BatchWriter::CloseRuns(SessionState& state) {
  for (AudioRun& run : state.runs.all()) {
    RELAYTAP_RETURN_IF_ERROR(FlushRun(run, /*close=*/true));
  }
  return absl::OkStatus();
}

absl::Status BatchWriter::WriteOpenRuns() {
  for (auto& [key, state] : sessions_) {
    for (AudioRun& run : state.runs.all()) {
      RELAYTAP_RETURN_IF_ERROR(FlushRun(run, /*close=*/false));
    }
  }
  return absl::OkStatus();
}

absl::Status BatchWriter::CloseSession(uint64_t conn, uint32_t seq, SessionState& state,
                                       const WsSessionClosed* closed, int64_t close_us) {
  RELAYTAP_ASSIGN_OR_RETURN(
      int64_t ref,
      store_->SessionRef(run_id_, conn, seq, state.open_us ? state.open_us : close_us));
  SessionCloseRow row;
  row.closed = closed;
  row.state = &state;
  row.close_us = close_us;
  row.subprotocol = closed ? redactor_.Subprotocols(closed->subprotocol) : "";
  row.close_reason = redactor_.ScrubbedText(state.close_reason);
  row.close_side = state.close_side;
  const Outcome outcome = closed ? ClassifySession(state.first_failure, closed->end) : Outcome::kOk;
  if (closed) {
    row.outcome = std::string(OutcomeName(outcome));
    if (row.close_side.empty()) row.close_side = EndSideName(ClassifyEnd(closed->end).side);
  }
  RELAYTAP_RETURN_IF_ERROR(store_->CloseSession(ref, row));
  if (closed && tap_) tap_->OnSessionClosed(*closed, outcome);
  return absl::OkStatus();
}

absl::Status BatchWriter::WriteSessionClosed(const WsSessionClosed& closed) {
  auto key = std::make_pair(closed.connection_id, closed.exchange_sequence);
  SessionState& state = sessions_[key];  // a session without messages is still a session
  RELAYTAP_RETURN_IF_ERROR(CloseRuns(state));
  absl::Status st = CloseSession(key.first, key.second, state, &closed, closed.close_us);
  if (st.ok()) {
    sessions_.erase(key);
    store_->ForgetSession(key.first, key.second);
  }
  return st;
}

absl::Status BatchWriter::Finish(const DropStats& drops, int64_t stop_us) {
  std::vector<Observation> none;
  WriteBatch(none, drops);  // any pending gap
  if (paused_ != DiskPause::kNone) Pause(paused_, none, /*force=*/true);
  if (!EnsureStore()) {
    store_.reset();
    next_reopen_us_ = 0;
    if (!EnsureStore()) return absl::UnavailableError("recorder: store unavailable at close");
  }
  const bool new_gap_row = gap_row_id_ == 0;
  sqlite::Transaction tx(store_->db());
  RELAYTAP_RETURN_IF_ERROR(tx.Begin());
  for (auto& [key, state] : sessions_) {
    RELAYTAP_RETURN_IF_ERROR(CloseRuns(state));
    RELAYTAP_RETURN_IF_ERROR(CloseSession(key.first, key.second, state, nullptr, stop_us));
  }
  RELAYTAP_RETURN_IF_ERROR(WriteGapIfAny());
  RELAYTAP_RETURN_IF_ERROR(store_->FinishRun(run_id_, stop_us));
  RELAYTAP_RETURN_IF_ERROR(tx.Commit());
  GapWritten(new_gap_row);
  sessions_.clear();
  // Fold the WAL into the main file so the store is one self-contained file after exit.
  (void)store_->db().Execute("PRAGMA wal_checkpoint(TRUNCATE)");
  return absl::OkStatus();
}

}  // namespace relaytap::recorder
