#pragma once
// A rotated set of stores read as one: `--db 'relaytap*.db'` (a glob) or `--db DIR` (every *.db
// in it). The readers (StoreReader, ReplayReader) open a set through OpenStoreReadOnly, which
// calls these.
//
// Design: the files are merged into one private temporary store (ATTACH each file read-only and
// copy its rows, ids offset so they do not collide), and the readers run their usual SQL on it.
// Every query, join and ordering therefore stays in one place, and an answer over a set equals
// the answer over one file holding the same rows by construction. The alternative, running each
// query per file and merging typed rows, would repeat every query's ordering and id mapping in
// both readers. The cost is one copy of the set (a temporary file SQLite deletes on close, in
// $SQLITE_TMPDIR or $TMPDIR), proportional to the files given: name the hours you need.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace relaytap::recorder::sqlite {
class Database;
}

namespace relaytap::recorder::query {

// True when `db` names a set rather than one file: a folder, or a pattern with * ? or [.
bool IsStoreSet(const std::string& db);

// The files a set names, sorted by name. NotFound when a pattern matches nothing or a folder
// holds no *.db file; a path that names no set is returned as itself.
absl::StatusOr<std::vector<std::string>> ResolveStoreSet(const std::string& db);

// The files that several --db values name together (each a file or a set), in the order given,
// each once. NotFound naming the value when a file does not exist or a set is empty.
absl::StatusOr<std::vector<std::string>> ResolveStores(const std::vector<std::string>& dbs);

// One temporary store holding every row of `files` (each checked as OpenStoreReadOnly checks
// one file), in the order of each file's first run (then its first exchange), so ids grow with
// time across the set. FailedPrecondition naming the file when one is not a relaytap store, or
// when the files differ in schema version.
absl::StatusOr<std::unique_ptr<sqlite::Database>> MergeStores(
    const std::vector<std::string>& files);

}  // namespace relaytap::recorder::query
