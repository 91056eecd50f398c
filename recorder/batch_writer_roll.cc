// BatchWriter's rotation (rotation.h): when to roll and how. A roll opens the next file first,
// so that a failure leaves recording where it was, then ends the old file and deletes the files
// past `keep`.
#include "base/log.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "recorder/batch_writer.h"
#include "recorder/sqlite/transaction.h"

namespace relaytap::recorder {

void BatchWriter::set_rotation(Rotation rotation, RunInfo run) {
  rotation_ = rotation;
  run_template_ = std::move(run);
  next_roll_us_ = NextRollUs(NowUnixMicros(), rotation_.period_us);
}

bool BatchWriter::RollDue(DiskPause pause, int64_t now) const {
  if (!rotation_.enabled() || now < roll_backoff_us_) return false;
  // Below the free-space floor a new file would not help: the pause waits for space.
  if (pause == DiskPause::kLowDisk) return false;
  if (pause == DiskPause::kDbSizeCap) return true;
  return rotation_.every == Rotation::Every::kHour ? now >= next_roll_us_
                                                   : disk_.db_bytes() >= rotation_.bytes;
}

absl::Status BatchWriter::Roll(int64_t now) {
  const std::string path = RotatedPath(first_path_, now);
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Store> next, Store::Open(path, durability_));
  RunInfo run = run_template_;
  run.start_us = now;
  int64_t next_run = 0;
  {
    sqlite::Transaction tx(next->db());
    RELAYTAP_RETURN_IF_ERROR(tx.Begin());
    RELAYTAP_ASSIGN_OR_RETURN(next_run, next->InsertRun(run));
    RELAYTAP_RETURN_IF_ERROR(tx.Commit());
  }

  // The old file ends: its audio runs closed, the pending gap, the run's stop time. If that
  // cannot be written, the gap goes to the new file instead.
  if (EnsureStore()) {
    const bool new_gap_row = gap_row_id_ == 0;
    sqlite::Transaction tx(store_->db());
    absl::Status st = tx.Begin();
    for (auto it = sessions_.begin(); st.ok() && it != sessions_.end(); ++it) {
      st = CloseRuns(it->second);
    }
    if (st.ok()) st = WriteGapIfAny();
    if (st.ok()) st = store_->FinishRun(run_id_, now);
    if (st.ok()) st = tx.Commit();
    if (st.ok()) {
      GapWritten(new_gap_row);
      (void)store_->db().Execute("PRAGMA wal_checkpoint(TRUNCATE)");
    } else if (new_gap_row) {
      gap_row_id_ = 0;
    }
  }
  for (auto& [key, state] : sessions_) state.runs = AudioRuns{};
  gap_row_id_ = 0;  // a gap row of the old file is not updated in the new one

  const std::string old_path = db_path_;
  store_ = std::move(next);
  run_id_ = next_run;
  db_path_ = path;
  disk_.Reset(path);
  next_roll_us_ = NextRollUs(now, rotation_.period_us);
  // Sessions that go on get a row in the new file, with the identity they have.
  {
    sqlite::Transaction tx(store_->db());
    absl::Status st = tx.Begin();
    for (auto it = sessions_.begin(); st.ok() && it != sessions_.end(); ++it) {
      const auto& [key, state] = *it;
      absl::StatusOr<int64_t> ref =
          store_->SessionRef(run_id_, key.first, key.second, state.open_us ? state.open_us : now);
      st = ref.ok() ? store_->UpdateSessionIdentity(*ref, state) : ref.status();
    }
    if (st.ok()) st = tx.Commit();
    if (!st.ok()) store_->ClearCaches();
  }
  const std::vector<std::string> deleted = PruneRotatedSet(first_path_, path, rotation_.keep);
  std::string gone;
  for (const std::string& d : deleted) gone += (gone.empty() ? "" : ", ") + d;
  RELAYTAP_LOG(kInfo, "recorder: rolled over from ", old_path, " to ", path, " (run ", run_id_, ")",
               deleted.empty() ? std::string()
                               : StrCat("; deleted past --keep ", rotation_.keep, ": ", gone));
  return absl::OkStatus();
}

}  // namespace relaytap::recorder
