#include "recorder/sqlite/statement.h"

#include <sqlite3.h>

#include <utility>

#include "base/str_cat.h"
#include "recorder/sqlite/database.h"

namespace relaytap::recorder::sqlite {

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_head_(std::move(other.sql_head_)),
      bind_rc_(std::exchange(other.bind_rc_, 0)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_head_ = std::move(other.sql_head_);
    bind_rc_ = std::exchange(other.bind_rc_, 0);
  }
  return *this;
}

void Statement::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindInt64(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
}
void Statement::BindDouble(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value));
}
void Statement::BindText(int index, std::string_view value) {
  NoteBind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}
void Statement::BindTextInPlace(int index, std::string_view value) {
  NoteBind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8));
}
void Statement::BindTextOrNullInPlace(int index, std::string_view value) {
  if (value.empty()) {
    BindNull(index);
  } else {
    BindTextInPlace(index, value);
  }
}
void Statement::BindBlob(int index, std::string_view bytes) {
  NoteBind(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
}
void Statement::BindNull(int index) { NoteBind(sqlite3_bind_null(stmt_, index)); }
void Statement::BindTextOrNull(int index, std::string_view value) {
  if (value.empty()) {
    BindNull(index);
  } else {
    BindText(index, value);
  }
}
void Statement::BindOptionalInt64(int index, const std::optional<int64_t>& value) {
  if (value) {
    BindInt64(index, *value);
  } else {
    BindNull(index);
  }
}
void Statement::BindOptionalDouble(int index, const std::optional<double>& value) {
  if (value) {
    BindDouble(index, *value);
  } else {
    BindNull(index);
  }
}

absl::Status Statement::Error(int rc) const {
  std::string msg = StrCat("SQLite \"", sql_head_, "\": ", db_ ? sqlite3_errmsg(db_) : "?", " (",
                           sqlite3_errstr(rc), ")");
  return StatusFromSqlite(rc, std::move(msg));
}

absl::StatusOr<bool> Statement::Step() {
  if (stmt_ == nullptr) return absl::FailedPreconditionError("step on an invalid statement");
  if (bind_rc_ != SQLITE_OK) {
    int rc = bind_rc_;
    bind_rc_ = SQLITE_OK;
    return absl::InternalError(
        StrCat("SQLite \"", sql_head_, "\": bind failed (", sqlite3_errstr(rc), ")"));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  absl::Status st = Error(rc);
  sqlite3_reset(stmt_);
  return st;
}

absl::Status Statement::Run() {
  for (;;) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) {
      Reset();
      return row.status();
    }
    if (!*row) break;
  }
  Reset();
  return absl::OkStatus();
}

void Statement::Reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }
bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
int64_t Statement::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::optional<int64_t> Statement::ColumnOptionalInt64(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnInt64(col);
}
double Statement::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::ColumnText(int col) const { return std::string(ColumnTextView(col)); }
std::string_view Statement::ColumnTextView(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(n)};
}
std::string Statement::ColumnBlob(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr) return "";
  return std::string(static_cast<const char*>(data), static_cast<size_t>(n));
}

}  // namespace relaytap::recorder::sqlite
