#pragma once
// Thin RAII owner of one sqlite3 connection (the Chromium sql::Database / SQLiteCpp shape).
// Thread rule: a Database and its Statements are used by one thread at a time (the recorder's
// writer thread owns the only write connection). Not thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recorder/sqlite/statement.h"

struct sqlite3;

namespace relaytap::recorder::sqlite {

// Maps an SQLite result code to the canonical status carrying `message`: busy/locked/full/I/O
// -> Unavailable, read-only/permission -> PermissionDenied, corrupt -> DataLoss,
// constraint -> AlreadyExists, anything else -> Internal.
absl::Status StatusFromSqlite(int rc, std::string message);

class Database {
 public:
  // `flags` are sqlite3_open_v2 flags (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, ...).
  // SQLITE_OPEN_NOMUTEX is always added. Errors carry the path and sqlite3_errmsg.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path, int flags);
  // Read-write, created if missing.
  static absl::StatusOr<std::unique_ptr<Database>> OpenOrCreate(const std::string& path);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more ';'-separated statements that return no rows we need.
  absl::Status Execute(std::string_view sql);
  // Prepares one statement. The Statement must not outlive this Database.
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // Runs a statement expected to yield one row and returns its first column as text/int.
  absl::StatusOr<std::string> QueryText(std::string_view sql);
  absl::StatusOr<int64_t> QueryInt64(std::string_view sql);

  int64_t LastInsertRowId() const;
  int Changes() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Status for a failed call with result code `rc`: sqlite3_errmsg plus the SQL's first words.
  absl::Status ErrorStatus(int rc, std::string_view sql) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// The first few words of `sql`, for error messages (never any bound value).
std::string SqlHead(std::string_view sql);

}  // namespace relaytap::recorder::sqlite
