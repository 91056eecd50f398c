#include "recorder/store_edit.h"

#include <sqlite3.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "base/private_file.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "recorder/query/store_reader.h"
#include "recorder/query/store_set.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/statement.h"

namespace relaytap::recorder {
namespace {

using sqlite::Database;
using sqlite::Statement;
namespace fs = std::filesystem;

// The runs a prune deletes (?1: the time), and what belongs to them, children first.
constexpr std::string_view kDoomedRunsSql =
    "CREATE TEMP TABLE doomed AS SELECT id FROM runs WHERE stop_us IS NOT NULL AND stop_us < ?1";
constexpr std::pair<std::string_view, std::string_view> kPruned[] = {
    {"events",
     "session_ref IN (SELECT id FROM ws_sessions WHERE run_id IN (SELECT id FROM temp.doomed))"},
    {"guard_decisions", "run_id IN (SELECT id FROM temp.doomed)"},
    {"calls", "run_id IN (SELECT id FROM temp.doomed)"},
    {"call_tokens", "run_id IN (SELECT id FROM temp.doomed)"},
    {"gaps", "run_id IN (SELECT id FROM temp.doomed)"},
    {"ws_sessions", "run_id IN (SELECT id FROM temp.doomed)"},
    {"exchanges", "run_id IN (SELECT id FROM temp.doomed)"},
    {"connections", "run_id IN (SELECT id FROM temp.doomed)"},
    {"runs", "id IN (SELECT id FROM temp.doomed)"},
};

// The rows an export leaves out of its window [?1, ?2) (NULL: open), in an order where each
// statement still sees the rows it decides by. A session goes with its upgrade exchange (its
// open time when it has none), as the readers place it.
#define RELAYTAP_IN_WINDOW(t) "((?1 IS NULL OR " t " >= ?1) AND (?2 IS NULL OR " t " < ?2))"
#define RELAYTAP_SAME_CONNECTION(t) \
  "e.run_id = " t ".run_id AND e.connection_id = " t ".connection_id"
constexpr std::string_view kOutsideWindowSql[] = {
    "CREATE TEMP TABLE gone_sessions AS SELECT s.id FROM ws_sessions s LEFT JOIN exchanges e ON "
    RELAYTAP_SAME_CONNECTION("s") " AND e.sequence = s.exchange_sequence WHERE NOT "
    RELAYTAP_IN_WINDOW("IFNULL(e.request_start_us, IFNULL(s.open_us, 0))"),
    "DELETE FROM events WHERE session_ref IN (SELECT id FROM temp.gone_sessions)",
    "DELETE FROM ws_sessions WHERE id IN (SELECT id FROM temp.gone_sessions)",
    "DELETE FROM calls WHERE NOT " RELAYTAP_IN_WINDOW("start_us"),
    "UPDATE calls SET token_ref = NULL WHERE token_ref IN (SELECT id FROM call_tokens WHERE NOT "
    RELAYTAP_IN_WINDOW("issued_us") ")",
    "DELETE FROM call_tokens WHERE NOT " RELAYTAP_IN_WINDOW("issued_us"),
    "DELETE FROM exchanges WHERE NOT " RELAYTAP_IN_WINDOW("IFNULL(request_start_us, 0)"),
    "DELETE FROM guard_decisions AS g WHERE NOT " RELAYTAP_IN_WINDOW("at_us")
    " AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE " RELAYTAP_SAME_CONNECTION("g")
    " AND e.sequence = g.exchange_sequence)",
    "DELETE FROM connections AS c WHERE NOT " RELAYTAP_IN_WINDOW("IFNULL(open_us, 0)")
    " AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE " RELAYTAP_SAME_CONNECTION("c") ")",
    "DELETE FROM gaps WHERE NOT ((?2 IS NULL OR IFNULL(from_us, 0) < ?2) AND "
    "(?1 IS NULL OR IFNULL(to_us, IFNULL(from_us, 0)) >= ?1))",
    "DELETE FROM runs AS r WHERE NOT ((?2 IS NULL OR start_us < ?2) AND "
    "(?1 IS NULL OR stop_us IS NULL OR stop_us >= ?1)) AND "
    "NOT EXISTS (SELECT 1 FROM connections WHERE run_id = r.id) AND "
    "NOT EXISTS (SELECT 1 FROM exchanges WHERE run_id = r.id) AND "
    "NOT EXISTS (SELECT 1 FROM ws_sessions WHERE run_id = r.id) AND "
    "NOT EXISTS (SELECT 1 FROM guard_decisions WHERE run_id = r.id) AND "
    "NOT EXISTS (SELECT 1 FROM gaps WHERE run_id = r.id)",
};
#undef RELAYTAP_SAME_CONNECTION
#undef RELAYTAP_IN_WINDOW

// Stores written before schema version 7 have no calls tables: statements that name them are
// skipped there (a call row always goes with its exchange, so the runs rule needs no change).
bool NamesCallTables(std::string_view sql) { return sql.find("call") != std::string_view::npos; }
bool HasCallTables(Database& db) {
  absl::StatusOr<int64_t> n =
      db.QueryInt64("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'calls'");
  return n.ok() && *n > 0;
}

int64_t StoreBytes(const std::string& path) {
  std::error_code ec;
  int64_t total = 0;
  for (const std::string& f : {path, path + "-wal"}) {
    const auto n = fs::file_size(f, ec);
    if (!ec) total += static_cast<int64_t>(n);
  }
  return total;
}

// Opens a store for writing after checking that it is one, waiting at most kLockWait for locks.
absl::StatusOr<std::unique_ptr<Database>> OpenForEdit(const std::string& path) {
  if (query::IsStoreSet(path)) {
    return absl::InvalidArgumentError(
        StrCat(path,
               ": give one store file (each file of a rotated set is a complete store: "
               "prune each, or delete the files that are done)"));
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::NotFoundError(StrCat("relaytap store ", path, ": no such file"));
  }
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                            Database::Open(path, SQLITE_OPEN_READWRITE));
  RELAYTAP_RETURN_IF_ERROR(query::CheckStore(*db, path).status());
  RELAYTAP_RETURN_IF_ERROR(
      db->Execute(StrCat("PRAGMA busy_timeout=", absl::ToInt64Milliseconds(kLockWait))));
  return db;
}

// Takes the write lock, or says plainly why not and what to do.
absl::Status BeginWrite(Database& db, bool immediate) {
  absl::Status st = db.Execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
  if (st.ok() || !absl::IsUnavailable(st)) return st;
  return absl::UnavailableError(StrCat(
      db.path(), " is locked by another writer for more than ", absl::FormatDuration(kLockWait),
      " (another prune or export, or an open sqlite3 transaction; a running proxy only "
      "holds it for a moment): nothing was changed; finish that, then try again"));
}

absl::Status RunWindowed(Database& db, std::string_view sql, std::optional<int64_t> since,
                         std::optional<int64_t> until) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  if (sql.find("?1") != std::string_view::npos) s.BindOptionalInt64(1, since);
  if (sql.find("?2") != std::string_view::npos) s.BindOptionalInt64(2, until);
  return s.Step().status();
}

int64_t* CountFor(PruneCounts& c, std::string_view table) {
  if (table == "events") return &c.events;
  if (table == "guard_decisions") return &c.guard_decisions;
  if (table == "gaps") return &c.gaps;
  if (table == "ws_sessions") return &c.sessions;
  if (table == "exchanges") return &c.exchanges;
  if (table == "connections") return &c.connections;
  if (table == "calls") return &c.calls;
  if (table == "call_tokens") return &c.call_tokens;
  return &c.runs;
}

absl::Status Vacuum(Database& db, const std::string& what) {
  absl::Status st = db.Execute("VACUUM");
  if (!st.ok()) {
    return absl::Status(st.code(),
                        StrCat(what, ", but VACUUM could not run (", std::string(st.message()),
                               "): the file keeps its size until `relaytap prune` "
                               "runs again while no proxy writes it"));
  }
  (void)db.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PruneCounts> PruneStore(const std::string& path, int64_t before_us, bool dry_run) {
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenForEdit(path));
  PruneCounts c;
  c.bytes_before = StoreBytes(path);
  RELAYTAP_RETURN_IF_ERROR(BeginWrite(*db, /*immediate=*/!dry_run));
  absl::Status st = RunWindowed(*db, kDoomedRunsSql, before_us, std::nullopt);
  const bool calls = HasCallTables(*db);
  for (const auto& [table, belongs] : kPruned) {
    if (!st.ok()) break;
    if (!calls && NamesCallTables(table)) continue;
    absl::StatusOr<int64_t> n =
        db->QueryInt64(StrCat("SELECT COUNT(*) FROM ", table, " WHERE ", belongs));
    st = n.status();
    if (st.ok()) *CountFor(c, table) = *n;
    if (st.ok() && !dry_run) st = db->Execute(StrCat("DELETE FROM ", table, " WHERE ", belongs));
  }
  if (st.ok() && !dry_run) st = db->Execute("COMMIT");
  if (!st.ok() || dry_run) {
    (void)db->Execute("ROLLBACK");
    c.bytes_after = c.bytes_before;
    if (!st.ok()) return st;
    return c;
  }
  (void)db->Execute("DROP TABLE temp.doomed");
  RELAYTAP_RETURN_IF_ERROR(Vacuum(*db, StrCat("deleted ", c.runs, " run(s)")));
  db.reset();
  c.bytes_after = StoreBytes(path);
  return c;
}

absl::Status ExportWindow(const std::string& path, const std::string& out,
                          std::optional<int64_t> since_us, std::optional<int64_t> until_us,
                          bool force) {
  std::error_code ec;
  if (fs::exists(out, ec) && !force) {
    return absl::FailedPreconditionError(
        StrCat(out, " exists: choose another name, or add --force to replace it"));
  }
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> src, query::OpenStoreReadOnly(path));
  const std::string partial = out + ".partial";
  for (const std::string& stale : {partial + "-wal", partial + "-shm"}) fs::remove(stale, ec);
  RELAYTAP_RETURN_IF_ERROR(MakePrivateFile(partial, /*truncate=*/true));
  absl::Status st = [&]() -> absl::Status {
    RELAYTAP_ASSIGN_OR_RETURN(Statement into, src->Prepare("VACUUM main INTO ?1"));
    into.BindText(1, partial);
    RELAYTAP_RETURN_IF_ERROR(into.Step().status());
    RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> copy, OpenForEdit(partial));
    RELAYTAP_RETURN_IF_ERROR(BeginWrite(*copy, /*immediate=*/true));
    const bool calls = HasCallTables(*copy);
    for (std::string_view sql : kOutsideWindowSql) {
      if (!calls && NamesCallTables(sql)) continue;
      RELAYTAP_RETURN_IF_ERROR(RunWindowed(*copy, sql, since_us, until_us));
    }
    RELAYTAP_RETURN_IF_ERROR(copy->Execute("COMMIT"));
    (void)copy->Execute("DROP TABLE temp.gone_sessions");
    return Vacuum(*copy, StrCat("copied ", path));
  }();
  if (st.ok() && force) {
    for (const std::string& stale : {out + "-wal", out + "-shm"}) fs::remove(stale, ec);
  }
  if (st.ok()) fs::rename(partial, out, ec);
  if (st.ok() && ec) st = absl::UnavailableError(StrCat("cannot rename ", partial, " to ", out));
  if (!st.ok()) fs::remove(partial, ec);
  return st;
}

}  // namespace relaytap::recorder
