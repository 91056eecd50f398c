#pragma once
// The writer thread's work: one batch of observations -> correlate -> redact -> one IMMEDIATE
// transaction. Owns the store connection and the per-session state. When a batch cannot be
// committed (disk full, read-only, locked), its observations are counted as a gap that is written
// with the next batch that commits, the log says so once, and the connection is reopened later.
// Thread rule: writer thread only (stats are atomics, readable anywhere).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "recorder/bounded_queue.h"
#include "recorder/disk_watch.h"
#include "recorder/observation.h"
#include "recorder/redaction.h"
#include "recorder/rotation.h"
#include "recorder/schema.h"
#include "recorder/session_state.h"
#include "recorder/store.h"
#include "recorder/writer_tap.h"

namespace relaytap::recorder {

struct WriterCounters {
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> lost{0};
  std::atomic<uint64_t> write_failures{0};
  std::atomic<uint64_t> gaps_written{0};
  std::atomic<uint64_t> paused{0};  // of `lost`: observations not written while paused
};

class BatchWriter {
 public:
  BatchWriter(std::string db_path, Durability durability, const Redactor& redactor,
              std::unique_ptr<Store> store, int64_t run_id, DiskLimits disk = {});

  // Writes `batch` plus the queue drops in `drops` as a gap. On failure the batch and the drops
  // become a pending gap for a later batch.
  void WriteBatch(std::vector<Observation>& batch, const DropStats& drops);
  // Final writes at Close(): open sessions' partial stats, any pending gap, the run's stop time.
  absl::Status Finish(const DropStats& drops, int64_t stop_us);

  WriterCounters& counters() { return counters_; }
  // While the store is closed after a failure: when the next reopen is due (else 0).
  int64_t reopen_due_us() const { return store_ ? 0 : next_reopen_us_; }
  void set_audio_runs(bool on) { audio_runs_ = on; }
  // Sees every observation written, with its outcome, and each commit (may be null).
  void set_tap(WriterTap* tap) { tap_ = tap; }
  // Rolls to a new file as `rotation` says (rotation.h); `run` is the runs row each file gets.
  void set_rotation(Rotation rotation, RunInfo run);
  int64_t run_id() const { return run_id_; }  // the current file's run
  const std::string& db_path() const { return db_path_; }
  void set_before_batch_for_test(std::function<void(sqlite::Database&)> hook) {
    before_batch_for_test_ = std::move(hook);
  }

 private:
  absl::Status WriteOne(Observation& obs);
  absl::Status WriteExchange(const Exchange& ex);
  absl::Status WriteMessage(const WsMessage& msg);
  // The payload as stored: from `flat` when it is set and the flat path applies, else from the
  // DOM (`doc`, parsed here if `flat` was set).
  std::string RedactedPayload(const WsMessage& msg, const std::optional<redact::FlatObject>& flat,
                              redact::ParsedJson& doc) const;
  absl::Status WriteAudio(int64_t ref, const WsMessage& msg, const MessageFacts& facts,
                          std::string_view payload, AudioRun& run);
  // Writes a run's unwritten members into its row; `close` also forgets the run.
  absl::Status FlushRun(AudioRun& run, bool close);
  absl::Status CloseRuns(SessionState& state);
  // At each commit: every open run's row holds all its members (write, then update).
  absl::Status WriteOpenRuns();
  absl::Status WriteSessionClosed(const WsSessionClosed& closed);
  absl::Status CloseSession(uint64_t conn, uint32_t seq, SessionState& state,
                            const WsSessionClosed* closed, int64_t close_us);
  absl::Status WriteGapIfAny();
  // Recording paused (disk_watch.h): `batch` joins the pending gap, whose row is written at once
  // and brought up to date at most every second (always when `force`).
  void Pause(DiskPause why, std::span<const Observation> batch, bool force);
  void AddToGap(std::span<const Observation> batch);
  bool EnsureStore();
  // A roll is due (by time, by size, or at the size cap) and not backing off after a failure.
  bool RollDue(DiskPause pause, int64_t now) const;
  // Opens the next file of the set with its own run, ends the old one (open audio runs, the
  // pending gap, the run's stop time), moves open sessions over, deletes files past `keep`.
  absl::Status Roll(int64_t now);
  // After a transaction that wrote the pending gap (a new row if `new_row`) committed.
  void GapWritten(bool new_row);
  void OnFailure(const absl::Status& st, const std::vector<Observation>& batch);

  const std::string first_path_;  // the set's first file (rotation.h)
  std::string db_path_;           // the file being written
  const Durability durability_;
  const Redactor& redactor_;
  std::unique_ptr<Store> store_;
  int64_t run_id_;
  Rotation rotation_;
  RunInfo run_template_;
  int64_t next_roll_us_ = 0;     // Every::kHour: when the current file rolls
  int64_t roll_backoff_us_ = 0;  // after a failed roll: not before this
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, SessionState> sessions_;
  DropStats pending_gap_;  // queue drops and lost batches not yet written
  bool lost_writes_in_gap_ = false;
  DiskWatch disk_;
  DiskPause paused_ = DiskPause::kNone;     // the pause in effect (kNone: recording)
  DiskPause gap_pause_ = DiskPause::kNone;  // the pending gap holds observations of this pause
  int64_t gap_row_id_ = 0;                  // the pending gap's row, once written
  int64_t next_gap_update_us_ = 0;
  bool failing_ = false;  // logged the current outage already
  int64_t next_reopen_us_ = 0;
  WriterCounters counters_;
  bool audio_runs_ = true;
  WriterTap* tap_ = nullptr;
  std::function<void(sqlite::Database&)> before_batch_for_test_;
};

// UTC microseconds an observation describes (its first timestamp), for gap spans.
int64_t ObservationTimeUs(const Observation& obs);

}  // namespace relaytap::recorder
