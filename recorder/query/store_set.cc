#include "recorder/query/store_set.h"

#include <glob.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "base/status_macros.h"
#include "base/str_cat.h"
#include "recorder/query/store_reader.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/statement.h"

namespace relaytap::recorder::query {
namespace {

using sqlite::Database;
using sqlite::Statement;
namespace fs = std::filesystem;

// Where a file stands in time: its first run, then (for windows exported from one run) its first
// exchange.
constexpr std::string_view kFirstRunSql = "SELECT COALESCE(MIN(start_us), 0) FROM runs";
constexpr std::string_view kFirstExchangeSql =
    "SELECT COALESCE(MIN(request_start_us), 0) FROM exchanges";
constexpr std::string_view kTablesSql =
    "SELECT name FROM src.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
    "ORDER BY rowid";
constexpr std::string_view kSchemaSql =
    "SELECT sql FROM src.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND "
    "(type = 'table') = ?1 ORDER BY rowid";

// The table whose row ids column `column` of `table` holds, or "" for a column of other values.
std::string IdsOf(const std::string& table, const std::string& column) {
  if (column == "id") return table;
  if (column == "run_id") return "runs";
  if (column == "session_ref") return "ws_sessions";
  if (column == "exchange_id") return "exchanges";
  if (column == "token_ref") return "call_tokens";
  return "";
}

struct Member {
  std::string path;
  int version = 0;
  int64_t first_run_us = 0;
  int64_t first_exchange_us = 0;
};

absl::StatusOr<Member> Inspect(const std::string& path) {
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                            Database::Open(path, SQLITE_OPEN_READONLY));
  RELAYTAP_ASSIGN_OR_RETURN(int version, CheckStore(*db, path));
  RELAYTAP_ASSIGN_OR_RETURN(int64_t first, db->QueryInt64(kFirstRunSql));
  RELAYTAP_ASSIGN_OR_RETURN(int64_t first_exchange, db->QueryInt64(kFirstExchangeSql));
  return Member{path, version, first, first_exchange};
}

// "file:PATH?mode=ro" with the characters a URI path cannot hold escaped.
std::string ReadOnlyUri(const std::string& path) {
  std::string uri = "file:";
  for (char c : fs::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      uri += {'%', kHex[(c >> 4) & 0xF], kHex[c & 0xF]};
    } else {
      uri += c;
    }
  }
  return uri + "?mode=ro";
}

absl::StatusOr<std::vector<std::string>> Column(Database& db, std::string_view sql,
                                                std::optional<int64_t> bind = std::nullopt) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  if (bind) s.BindInt64(1, *bind);
  std::vector<std::string> out;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.ColumnText(0));
  }
  return out;
}

// Copies every row of src.`table` into main, each id column moved up by its table's offset.
absl::Status CopyTable(Database& db, const std::string& table,
                       const std::map<std::string, int64_t>& offsets) {
  RELAYTAP_ASSIGN_OR_RETURN(
      std::vector<std::string> columns,
      Column(db, StrCat("SELECT name FROM pragma_table_info('", table, "', 'src')")));
  std::string names, values;
  for (const std::string& c : columns) {
    const auto off = offsets.find(IdsOf(table, c));
    names += StrCat(names.empty() ? "" : ", ", "\"", c, "\"");
    values += StrCat(values.empty() ? "" : ", ", "\"", c, "\"",
                     off != offsets.end() && off->second != 0 ? StrCat(" + ", off->second) : "");
  }
  return db.Execute(StrCat("INSERT INTO main.\"", table, "\" (", names, ") SELECT ", values,
                           " FROM src.\"", table, "\""));
}

// Attaches `m`, copies its rows (meta only from the first file) and moves the offsets past its
// largest ids. From the first file it also creates the tables and keeps the DDL of its indexes
// and views in `later`.
absl::Status CopyMember(Database& db, const Member& m, bool first,
                        std::map<std::string, int64_t>& offsets, std::vector<std::string>& later) {
  {
    RELAYTAP_ASSIGN_OR_RETURN(Statement attach, db.Prepare("ATTACH ?1 AS src"));
    attach.BindText(1, ReadOnlyUri(m.path));
    RELAYTAP_RETURN_IF_ERROR(attach.Step().status());
  }
  absl::StatusOr<std::vector<std::string>> tables = Column(db, kTablesSql);
  absl::Status st = tables.ok() ? db.Execute("BEGIN") : tables.status();
  if (st.ok() && first) {
    RELAYTAP_ASSIGN_OR_RETURN(std::vector<std::string> ddl, Column(db, kSchemaSql, 1));
    for (const std::string& sql : ddl) {
      if (st.ok()) st = db.Execute(sql);
    }
    absl::StatusOr<std::vector<std::string>> rest = Column(db, kSchemaSql, 0);
    if (rest.ok()) later = std::move(*rest);
    if (st.ok()) st = rest.status();
  }
  std::map<std::string, int64_t> next = offsets;
  for (const std::string& t : tables.ok() ? *tables : std::vector<std::string>{}) {
    if (!st.ok() || (t == "meta" && !first)) continue;
    st = CopyTable(db, t, offsets);
    absl::StatusOr<int64_t> max = db.QueryInt64(StrCat("SELECT COALESCE(MAX(rowid), 0) FROM \"", t,
                                                       "\""));  // main: every file so far
    if (st.ok() && max.ok()) next[t] = *max;
  }
  offsets = std::move(next);
  if (st.ok()) {
    st = db.Execute("COMMIT");
  } else {
    (void)db.Execute("ROLLBACK");
  }
  (void)db.Execute("DETACH src");
  if (!st.ok())
    return absl::Status(st.code(), StrCat("merging ", m.path, ": ", std::string(st.message())));
  return absl::OkStatus();
}

}  // namespace

bool IsStoreSet(const std::string& db) {
  std::error_code ec;
  return db.find_first_of("*?[") != std::string::npos || fs::is_directory(db, ec);
}

absl::StatusOr<std::vector<std::string>> ResolveStoreSet(const std::string& db) {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(db, ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(db, ec)) {
      if (e.path().extension() == ".db" && e.is_regular_file(ec)) files.push_back(e.path());
    }
    if (files.empty()) return absl::NotFoundError(StrCat("folder ", db, " holds no *.db store"));
  } else if (IsStoreSet(db)) {
    glob_t g{};
    if (::glob(db.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        if (fs::is_regular_file(g.gl_pathv[i], ec)) files.emplace_back(g.gl_pathv[i]);
      }
    }
    ::globfree(&g);
    if (files.empty()) return absl::NotFoundError(StrCat("no relaytap store matches '", db, "'"));
  } else {
    files.push_back(db);
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<std::vector<std::string>> ResolveStores(const std::vector<std::string>& dbs) {
  std::vector<std::string> files;
  for (const std::string& db : dbs) {
    std::error_code ec;
    if (!IsStoreSet(db) && !fs::is_regular_file(db, ec)) {
      return absl::NotFoundError(StrCat("relaytap store ", db, ": no such file"));
    }
    RELAYTAP_ASSIGN_OR_RETURN(std::vector<std::string> named, ResolveStoreSet(db));
    for (std::string& f : named) {
      const bool seen = std::any_of(files.begin(), files.end(),
                                    [&](const std::string& g) { return fs::equivalent(f, g, ec); });
      if (!seen) files.push_back(std::move(f));
    }
  }
  return files;
}

absl::StatusOr<std::unique_ptr<Database>> MergeStores(const std::vector<std::string>& files) {
  std::vector<Member> members;
  for (const std::string& f : files) {
    RELAYTAP_ASSIGN_OR_RETURN(Member m, Inspect(f));
    if (!members.empty() && m.version != members.front().version) {
      return absl::FailedPreconditionError(StrCat(
          "stores of different schema versions in one set: ", members.front().path, " has version ",
          members.front().version, ", ", f, " version ", m.version, "; read them one at a time"));
    }
    members.push_back(std::move(m));
  }
  std::stable_sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return std::tie(a.first_run_us, a.first_exchange_us) <
           std::tie(b.first_run_us, b.first_exchange_us);
  });
  // "": a private temporary database that SQLite deletes when it is closed.
  RELAYTAP_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open("", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI));
  RELAYTAP_RETURN_IF_ERROR(db->Execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF"));
  std::map<std::string, int64_t> offsets;
  std::vector<std::string> indexes_and_views;
  for (size_t i = 0; i < members.size(); ++i) {
    RELAYTAP_RETURN_IF_ERROR(CopyMember(*db, members[i], i == 0, offsets, indexes_and_views));
  }
  // Indexes and views last: building an index once is cheaper than keeping it during the copy.
  for (const std::string& sql : indexes_and_views) RELAYTAP_RETURN_IF_ERROR(db->Execute(sql));
  return db;
}

}  // namespace relaytap::recorder::query
