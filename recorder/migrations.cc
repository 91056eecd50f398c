#include "recorder/migrations.h"

#include <string>

#include "base/str_cat.h"
#include "recorder/schema.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/transaction.h"

namespace relaytap::recorder {
namespace {

absl::Status MigrateToV1(sqlite::Database& db) {
  if (absl::Status st =
          db.Execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID");
      !st.ok()) {
    return st;
  }
  return CreateSchemaV1(db);
}

struct Step {
  int to_version;
  absl::Status (*apply)(sqlite::Database&);
};
constexpr Step kSteps[] = {{1, &MigrateToV1},         {2, &UpgradeSchemaV1ToV2},
                           {3, &UpgradeSchemaV2ToV3}, {4, &UpgradeSchemaV3ToV4},
                           {5, &UpgradeSchemaV4ToV5}, {6, &UpgradeSchemaV5ToV6},
                           {7, &UpgradeSchemaV6ToV7}, {8, &UpgradeSchemaV7ToV8}};
static_assert(sizeof(kSteps) / sizeof(kSteps[0]) == kSchemaVersion);

absl::Status WriteVersion(sqlite::Database& db, int version) {
  absl::StatusOr<sqlite::Statement> st =
      db.Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)");
  if (!st.ok()) return st.status();
  st->BindText(1, std::to_string(version));
  return st->Run();
}

}  // namespace

absl::StatusOr<int> ReadSchemaVersion(sqlite::Database& db) {
  absl::StatusOr<int64_t> has_meta =
      db.QueryInt64("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'");
  if (!has_meta.ok()) return has_meta.status();
  if (*has_meta == 0) {
    absl::StatusOr<int64_t> objects = db.QueryInt64("SELECT COUNT(*) FROM sqlite_schema");
    if (!objects.ok()) return objects.status();
    if (*objects != 0) {
      return absl::FailedPreconditionError(
          StrCat(db.path(), " is an SQLite database but not a relaytap store (no meta table)"));
    }
    return 0;
  }
  absl::StatusOr<std::string> v =
      db.QueryText("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!v.ok()) return v.status();
  int version = 0;
  try {
    version = std::stoi(*v);
  } catch (...) {
    return absl::DataLossError(StrCat(db.path(), ": unreadable schema_version in meta"));
  }
  return version;
}

absl::Status Migrate(sqlite::Database& db) {
  absl::StatusOr<int> version = ReadSchemaVersion(db);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) {
    return absl::FailedPreconditionError(StrCat(db.path(), " has schema version ", *version,
                                                ", newer than this relaytap (", kSchemaVersion,
                                                "); use a newer relaytap or another --db file"));
  }
  for (const Step& step : kSteps) {
    if (step.to_version <= *version) continue;
    sqlite::Transaction tx(db);
    if (absl::Status st = tx.Begin(); !st.ok()) return st;
    absl::Status st = step.apply(db);
    if (st.ok()) st = WriteVersion(db, step.to_version);
    if (st.ok()) st = tx.Commit();
    if (!st.ok()) {
      return absl::Status(st.code(), StrCat("migrating ", db.path(), " to schema version ",
                                            step.to_version, ": ", std::string(st.message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace relaytap::recorder
