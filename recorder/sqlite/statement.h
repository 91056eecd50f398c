#pragma once
// RAII prepared statement with typed binds (1-based indexes, as in SQLite) and column getters
// (0-based). Bind errors are remembered and reported by the next Step()/Run().
// Thread rule: same as the owning Database. Movable, not copyable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace relaytap::recorder::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql_head)
      : db_(db), stmt_(stmt), sql_head_(std::move(sql_head)) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool is_valid() const { return stmt_ != nullptr; }

  void BindInt64(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, std::string_view value);  // copied (SQLITE_TRANSIENT)
  void BindBlob(int index, std::string_view bytes);
  void BindNull(int index);
  void BindBool(int index, bool value) { BindInt64(index, value ? 1 : 0); }
  // NULL when empty / absent.
  void BindTextOrNull(int index, std::string_view value);
  // BindText / BindTextOrNull without the copy (SQLITE_STATIC): SQLite reads `value` in place, so
  // it must stay valid and unchanged until the next Run() or Reset() returns. For rows that are
  // bound and run in one call, where the copy is pure cost (the event insert, once per message).
  void BindTextInPlace(int index, std::string_view value);
  void BindTextOrNullInPlace(int index, std::string_view value);
  void BindOptionalInt64(int index, const std::optional<int64_t>& value);
  void BindOptionalDouble(int index, const std::optional<double>& value);

  // Returns true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion (ignoring rows) and resets, keeping the statement reusable.
  absl::Status Run();
  // Resets the statement and clears bindings.
  void Reset();

  int ColumnCount() const;
  bool ColumnIsNull(int col) const;
  int64_t ColumnInt64(int col) const;
  // nullopt for SQL NULL.
  std::optional<int64_t> ColumnOptionalInt64(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  // The text in SQLite's row, without a copy: valid until the next Step, Reset or destruction.
  std::string_view ColumnTextView(int col) const;
  std::string ColumnBlob(int col) const;

 private:
  void NoteBind(int rc);
  absl::Status Error(int rc) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_head_;
  int bind_rc_ = 0;  // first failed bind
};

}  // namespace relaytap::recorder::sqlite
