#include "recorder/sqlite/transaction.h"

#include "recorder/sqlite/database.h"

namespace relaytap::recorder::sqlite {

Transaction::~Transaction() {
  if (active_) Rollback();
}

absl::Status Transaction::Begin() {
  if (active_) return absl::FailedPreconditionError("transaction already active");
  absl::Status st = db_.Execute("BEGIN IMMEDIATE");
  if (st.ok()) active_ = true;
  return st;
}

absl::Status Transaction::Commit() {
  if (!active_) return absl::FailedPreconditionError("commit without an active transaction");
  absl::Status st = db_.Execute("COMMIT");
  // A failed COMMIT leaves the transaction open (e.g. SQLITE_BUSY); roll it back so the
  // connection is usable for the next batch.
  if (!st.ok()) {
    Rollback();
    return st;
  }
  active_ = false;
  return st;
}

void Transaction::Rollback() {
  if (!active_) return;
  active_ = false;
  // Ignored on purpose: after an I/O error SQLite may already have rolled back.
  (void)db_.Execute("ROLLBACK");
}

}  // namespace relaytap::recorder::sqlite
