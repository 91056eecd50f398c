#pragma once
// Store maintenance: pruning the runs that ended before a time, and copying a time window of a
// store into a new file to share. Like the schema, this knows every table: each row belongs to a
// run (run_id, or session_ref -> ws_sessions -> run).
//
// Both are safe on a store a running proxy is writing: they take SQLite's write lock for a
// bounded time (never waiting longer than kLockWait for it) and change nothing that an open run
// holds.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace relaytap::recorder {

// How long prune and export wait for another writer's lock before giving up.
inline constexpr absl::Duration kLockWait = absl::Seconds(3);

// What a prune deleted (or would delete), and the store's size (file and WAL) around it.
struct PruneCounts {
  int64_t runs = 0, connections = 0, exchanges = 0, sessions = 0, events = 0;
  int64_t guard_decisions = 0, gaps = 0;
  int64_t calls = 0, call_tokens = 0;
  int64_t bytes_before = 0, bytes_after = 0;
};

// Deletes every run that stopped before `before_us` and every row that belongs to it, then
// VACUUMs. A run still open (no stop time) is never pruned, nor one that stopped at or after
// `before_us`, even if it started long before: a run is kept or deleted whole. With `dry_run`
// nothing changes. Errors: NotFound / FailedPrecondition for a missing file or one that is not a
// relaytap store; Unavailable (the message says what to do) when another writer holds the store
// longer than kLockWait; a VACUUM that cannot run leaves the deletion committed and says so.
absl::StatusOr<PruneCounts> PruneStore(const std::string& path, int64_t before_us, bool dry_run);

// Writes to `out` a copy of `path` that holds only what started in [since_us, until_us) (unset:
// open): exchanges by their request start, sessions by their upgrade (events with them),
// connections with their kept exchanges, guard decisions and gaps by their time, and the runs
// those rows belong to or whose time overlaps the window. Made with VACUUM INTO in
// `out`.partial (mode 0600), trimmed, vacuumed and renamed to `out`. AlreadyExists when `out`
// exists and not `force`.
absl::Status ExportWindow(const std::string& path, const std::string& out,
                          std::optional<int64_t> since_us, std::optional<int64_t> until_us,
                          bool force);

}  // namespace relaytap::recorder
