#pragma once
// Schema versioning. The version lives in meta(key='schema_version'). Migrate() brings a file to
// kSchemaVersion one step at a time, each step in its own IMMEDIATE transaction. Adding version N
// means: one `absl::Status MigrateToVN(Database&)` in migrations.cc, one entry in kSteps, one test.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace relaytap::recorder {

namespace sqlite {
class Database;
}

// The schema version stored in `db`: 0 for an empty file. Errors: FailedPrecondition for a file
// that has tables but no relaytap meta table (not a relaytap store).
absl::StatusOr<int> ReadSchemaVersion(sqlite::Database& db);

// Creates or upgrades the schema. Errors: FailedPrecondition (with both versions) for a file
// written by a newer relaytap; the failing step's SQLite error otherwise (nothing half-applied).
absl::Status Migrate(sqlite::Database& db);

}  // namespace relaytap::recorder
