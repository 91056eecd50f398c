#pragma once
// The recorder: a Sink the relay submits observations to, and the one writer thread that
// correlates, redacts and stores them in SQLite (DESIGN invariants 2 and 3).
// Thread rule: TrySubmit from any thread (never blocks); Open/Close/stats from the owner.
//
// Durability: the writer commits one IMMEDIATE transaction per batch, at the latest every
// `batch_interval` (default 100 ms) or sooner when many observations are waiting. After kill -9
// the file is intact and holds every committed batch; at most ~one interval of observations is
// lost. With Durability::kFull the same holds across a power loss.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recorder/bounded_queue.h"
#include "recorder/disk_watch.h"
#include "recorder/rotation.h"
#include "recorder/schema.h"
#include "recorder/sink.h"
#include "recorder/writer_tap.h"

namespace relaytap::recorder {

namespace sqlite {
class Database;
}  // namespace sqlite

class Redactor;
class Store;
class WriterPriority;
struct SessionState;

struct RecorderOptions {
  std::string db_path = "relaytap.db";
  // Directory of the per-install redaction key (relaytap-redaction.key, beside the CA).
  std::string key_dir;
  // "" for the default redaction policy; else a user file that extends it.
  std::string redaction_policy_path;
  uint64_t queue_max_bytes = 64ull << 20;
  absl::Duration batch_interval = absl::Milliseconds(100);
  std::string relaytap_version = "unknown";
  Durability durability = Durability::kNormal;
  // The writer thread raises its own nice value by this much (capped at 19) while its backlog is
  // under a quarter of queue_max_bytes, so that under CPU contention the relay's io threads run
  // first and the queue absorbs the delay (writer_priority.h). 0 keeps the process's priority.
  int writer_nice_increment = 0;  // off by default: see --recorder-nice in README
  // The store's size cap and the free-space floor (disk_watch.h): past either, recording pauses
  // with one gap row while the relay goes on.
  DiskLimits disk;
  // Roll to a new file beside db_path by time or size, keeping `keep` files (rotation.h).
  Rotation rotation;
  // Runs of audio events as one row each (recorder/audio_run.h). Off: one row per message, for
  // benchmarks and tests that compare the two.
  bool audio_runs = true;
  // Sees what the writer thread writes and classifies (the live counters of --metrics); may be
  // null. Must outlive the recorder.
  WriterTap* tap = nullptr;
  // Tests only: runs on the writer thread with the write connection before each batch (to make
  // it fail like a full or read-only disk: PRAGMA max_page_count / query_only).
  std::function<void(sqlite::Database&)> before_batch_for_test;
};

struct RecorderStats {
  uint64_t accepted = 0;               // observations taken into the queue
  uint64_t written = 0;                // observations committed
  uint64_t dropped = 0;                // observations refused by the full queue
  uint64_t lost_in_failed_writes = 0;  // observations in batches that failed to commit
  uint64_t write_failures = 0;         // failed batches
  uint64_t gaps_written = 0;
  uint64_t lost_while_paused = 0;  // of lost_in_failed_writes: not written while paused
};

class Recorder final : public Sink {
 public:
  // Loads or creates the redaction key, loads the policy, opens and migrates the store, appends a
  // `runs` row, starts the writer. Errors: the key's, the policy's (malformed -> InvalidArgument
  // naming the file) or the store's (a newer schema -> FailedPrecondition).
  static absl::StatusOr<std::unique_ptr<Recorder>> Open(RecorderOptions options);
  ~Recorder() override;  // Close()s if still open

  // Sink::TrySubmit. Never blocks, never throws; false when dropped (counted, written as a gap).
  bool TrySubmit(Observation&& obs) noexcept override;

  // Drains the queue completely, writes the final gap if any and the run's stop time, stops the
  // writer. Idempotent. Returns the last write error, if the final writes failed.
  absl::Status Close();

  RecorderStats stats() const;
  // Approximate bytes of the observations waiting in the queue (thread-safe).
  uint64_t queue_bytes() const { return queue_.bytes(); }
  uint64_t queue_max_bytes() const { return queue_.max_bytes(); }
  int64_t run_id() const { return run_id_; }

 private:
  Recorder(RecorderOptions options, std::unique_ptr<Redactor> redactor,
           std::unique_ptr<Store> store, int64_t run_id);
  struct Writer;

  RecorderOptions options_;
  BoundedQueue<Observation> queue_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<WriterPriority> priority_;
  int64_t run_id_;
  std::thread thread_;
  std::atomic<bool> closed_{false};
};

}  // namespace relaytap::recorder
