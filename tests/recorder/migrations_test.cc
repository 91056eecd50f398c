#include "recorder/migrations.h"

#include "gtest/gtest.h"
#include "recorder/schema.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/transaction.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder {
namespace {

using sqlite::Database;

std::unique_ptr<Database> OpenDb(const std::string& path) {
  auto db = Database::OpenOrCreate(path);
  EXPECT_TRUE(db.ok()) << db.status();
  return std::move(*db);
}

TEST(SqliteTest, TypedBindsRoundTrip) {
  auto db = OpenDb(testing::MakeTempDir("sqlite") + "/t.db");
  ASSERT_TRUE(db->Execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)").ok());
  auto ins = db->Prepare("INSERT INTO t (i, d, s, b, n) VALUES (?1, ?2, ?3, ?4, ?5)");
  ASSERT_TRUE(ins.ok()) << ins.status();
  ins->BindInt64(1, int64_t{1} << 40);
  ins->BindDouble(2, 2.5);
  ins->BindText(3, "text");
  ins->BindBlob(4, std::string("a\0b", 3));
  ins->BindNull(5);
  ASSERT_TRUE(ins->Run().ok());
  auto sel = db->Prepare("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnInt64(0), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(sel->ColumnDouble(1), 2.5);
  EXPECT_EQ(sel->ColumnText(2), "text");
  EXPECT_EQ(sel->ColumnBlob(3), std::string("a\0b", 3));
  EXPECT_TRUE(sel->ColumnIsNull(4));
}

TEST(SqliteTest, ErrorsNameTheSqlAndSqliteMessage) {
  auto db = OpenDb(testing::MakeTempDir("sqlite") + "/t.db");
  absl::Status st = db->Execute("SELECT nope FROM missing_table");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no such table"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("SELECT nope FROM"), absl::string_view::npos) << st;
}

TEST(SqliteTest, TransactionRollsBackWhenNotCommitted) {
  auto db = OpenDb(testing::MakeTempDir("sqlite") + "/t.db");
  ASSERT_TRUE(db->Execute("CREATE TABLE t (i INTEGER)").ok());
  {
    sqlite::Transaction tx(*db);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db->Execute("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM t"), 0);
  {
    sqlite::Transaction tx(*db);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db->Execute("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM t"), 1);
}

TEST(MigrationsTest, CreatesCurrentSchemaOnEmptyFileAndLeavesItOnReopen) {
  std::string path = testing::MakeTempDir("mig") + "/s.db";
  {
    auto db = OpenDb(path);
    ASSERT_TRUE(ApplyConnectionPragmas(*db, Durability::kNormal).ok());
    ASSERT_TRUE(Migrate(*db).ok());
    EXPECT_EQ(*ReadSchemaVersion(*db), kSchemaVersion);
    EXPECT_EQ(*db->QueryText("PRAGMA journal_mode"), "wal");
    ASSERT_TRUE(db->Execute("INSERT INTO runs (relaytap_version, schema_version, start_us) "
                            "VALUES ('t', 1, 1)").ok());
  }
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM runs"), 1);
  for (const char* name : {"runs", "connections", "exchanges", "ws_sessions", "events",
                           "guard_decisions", "gaps", "v_failures", "v_sessions_per_hour",
                           "v_session_timeline"}) {
    EXPECT_EQ(*db->QueryInt64(std::string("SELECT COUNT(*) FROM sqlite_schema WHERE name = '") +
                              name + "'"),
              1)
        << name;
  }
}

TEST(MigrationsTest, RefusesANewerSchema) {
  std::string path = testing::MakeTempDir("mig") + "/s.db";
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  ASSERT_TRUE(db->Execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'").ok());
  absl::Status st = Migrate(*db);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("schema version 99"), absl::string_view::npos) << st;
}

TEST(MigrationsTest, RefusesAForeignDatabase) {
  auto db = OpenDb(testing::MakeTempDir("mig") + "/other.db");
  ASSERT_TRUE(db->Execute("CREATE TABLE something (x)").ok());
  absl::Status st = Migrate(*db);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("not a relaytap store"), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace relaytap::recorder
