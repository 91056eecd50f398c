#include "recorder/sqlite/database.h"

#include <sqlite3.h>

#include "base/private_file.h"
#include "base/status_macros.h"
#include "base/str_cat.h"

namespace relaytap::recorder::sqlite {

std::string SqlHead(std::string_view sql) {
  size_t start = sql.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return "";
  sql.remove_prefix(start);
  // Up to four words, at most 48 characters.
  size_t pos = 0;
  int words = 0;
  while (pos < sql.size() && pos < 48) {
    if (sql[pos] == ' ' || sql[pos] == '\n' || sql[pos] == '(') {
      if (++words == 4) break;
    }
    ++pos;
  }
  std::string out(sql.substr(0, pos));
  for (char& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(StrCat("opening SQLite database ", path, ": ", msg));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Database>(new Database(db, path));
}

absl::StatusOr<std::unique_ptr<Database>> Database::OpenOrCreate(const std::string& path) {
  // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files it creates the
  // database file's mode. Files an earlier version left readable by others are tightened.
  RELAYTAP_RETURN_IF_ERROR(MakePrivateFile(path, /*truncate=*/false));
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    RELAYTAP_RETURN_IF_ERROR(TightenIfExists(path + suffix));
  }
  return Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

Database::~Database() {
  // close_v2 defers the close until every statement is finalized, so an order mistake cannot
  // leak the handle.
  sqlite3_close_v2(db_);
}

absl::Status StatusFromSqlite(int rc, std::string msg) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(msg);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status Database::ErrorStatus(int rc, std::string_view sql) const {
  std::string msg =
      StrCat("SQLite \"", SqlHead(sql), "\": ", sqlite3_errmsg(db_), " (", sqlite3_errstr(rc), ")");
  return StatusFromSqlite(rc, std::move(msg));
}

absl::Status Database::Execute(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(rc, sql);
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(rc, sql);
  if (stmt == nullptr) return absl::InvalidArgumentError(StrCat("empty SQL: ", SqlHead(sql)));
  return Statement(db_, stmt, SqlHead(sql));
}

absl::StatusOr<std::string> Database::QueryText(std::string_view sql) {
  absl::StatusOr<Statement> st = Prepare(sql);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(StrCat("no row from \"", SqlHead(sql), "\""));
  return st->ColumnText(0);
}

absl::StatusOr<int64_t> Database::QueryInt64(std::string_view sql) {
  absl::StatusOr<Statement> st = Prepare(sql);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(StrCat("no row from \"", SqlHead(sql), "\""));
  return st->ColumnInt64(0);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }

}  // namespace relaytap::recorder::sqlite
