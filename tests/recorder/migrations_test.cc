#include "recorder/migrations.h"

#include "gtest/gtest.h"
#include "recorder/schema.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/transaction.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/status_matchers.h"

namespace relaytap::recorder {
namespace {

using ::relaytap::testing::StatusIs;

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
                            "VALUES ('t', 1, 1)")
                    .ok());
  }
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM runs"), 1);
  for (const char* name :
       {"runs", "connections", "exchanges", "ws_sessions", "events", "guard_decisions", "gaps",
        "v_failures", "v_sessions_per_hour", "v_session_timeline", "v_guard_decisions"}) {
    EXPECT_EQ(*db->QueryInt64(std::string("SELECT COUNT(*) FROM sqlite_schema WHERE name = '") +
                              name + "'"),
              1)
        << name;
  }
}

TEST(MigrationsTest, UpgradesAVersion1StoreKeepingItsRows) {
  std::string path = testing::MakeTempDir("mig") + "/v1.db";
  {  // A store as relaytap with schema version 1 left it.
    auto db = OpenDb(path);
    ASSERT_TRUE(
        db->Execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID").ok());
    ASSERT_TRUE(CreateSchemaV1(*db).ok());
    ASSERT_TRUE(db->Execute("INSERT INTO meta VALUES ('schema_version', '1');"
                            "INSERT INTO runs (id, relaytap_version, schema_version, start_us) "
                            "VALUES (1, 'old', 1, 1);"
                            "INSERT INTO guard_decisions (run_id, at_us, key, decision, reason) "
                            "VALUES (1, 5, 'h/d', 'reject', 'attempt_cap')")
                    .ok());
  }
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(*ReadSchemaVersion(*db), kSchemaVersion);
  EXPECT_EQ(*db->QueryText("SELECT reason FROM guard_decisions WHERE key = 'h/d'"), "attempt_cap");
  ASSERT_TRUE(db->Execute("INSERT INTO exchanges (run_id, connection_id, sequence, path, status, "
                          "outcome) VALUES (1, 7, 2, '/p', 429, 'guard_rejected');"
                          "INSERT INTO guard_decisions (run_id, at_us, key, mode, decision, "
                          "reason, connection_id, exchange_sequence, retry_after_ms) VALUES "
                          "(1, 6, 'h/d', 'enforce', 'reject', 'retry_budget', 7, 2, 1500)")
                  .ok());
  EXPECT_EQ(*db->QueryText("SELECT outcome || ' ' || retry_after_ms || ' ' || mode FROM "
                           "v_guard_decisions WHERE connection_id = 7"),
            "guard_rejected 1500 enforce");
  EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM v_guard_decisions"), 2);
  ASSERT_TRUE(Migrate(*db).ok());  // idempotent
  EXPECT_EQ(*ReadSchemaVersion(*db), kSchemaVersion);
}

// Version 3: exchanges relaytap answered itself show its own code in v_failures.error_code (and
// in local_error_code); an upstream's error code is kept as it was; a store at version 2 keeps
// its rows.
TEST(MigrationsTest, Version3ShowsRelaytapsOwnErrorCodeInFailures) {
  std::string path = testing::MakeTempDir("mig") + "/v2.db";
  {  // A store as relaytap with schema version 2 left it.
    auto db = OpenDb(path);
    ASSERT_TRUE(
        db->Execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID").ok());
    ASSERT_TRUE(CreateSchemaV1(*db).ok());
    ASSERT_TRUE(UpgradeSchemaV1ToV2(*db).ok());
    ASSERT_TRUE(db->Execute("INSERT INTO meta VALUES ('schema_version', '2');"
                            "INSERT INTO runs (id, relaytap_version, schema_version, start_us, "
                            "utc_offset_s) VALUES (1, 'old', 2, 1, 0);"
                            "INSERT INTO exchanges (run_id, connection_id, sequence, path, "
                            "request_start_us, outcome, local_error_code, error_code) VALUES "
                            "(1, 1, 1, '/a', 10, 'guard_rejected', 'relaytap_attempt_cap', ''),"
                            "(1, 2, 1, '/b', 20, 'server_error_5xx', '', 'InternalServerError'),"
                            "(1, 3, 1, '/c', 30, 'connect_failure', 'relaytap_upstream_dns', "
                            "NULL);")
                    .ok());
    EXPECT_EQ(*db->QueryText("SELECT group_concat(COALESCE(NULLIF(error_code, ''), '-'), ',') FROM "
                             "(SELECT error_code FROM v_failures ORDER BY connection_id)"),
              "-,InternalServerError,-");
  }
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(*ReadSchemaVersion(*db), kSchemaVersion);
  EXPECT_EQ(*db->QueryText("SELECT group_concat(error_code || '/' || COALESCE(local_error_code, "
                           "'-'), ',') FROM (SELECT * FROM v_failures ORDER BY connection_id)"),
            "relaytap_attempt_cap/relaytap_attempt_cap,InternalServerError/-,"
            "relaytap_upstream_dns/relaytap_upstream_dns");
  EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM exchanges"), 3);
}

// A store as relaytap with schema version `version` (1..kSchemaVersion-1) left it, with a run, an
// exchange, its session and a close event.
void BuildStoreAtVersion(const std::string& path, int version) {
  auto db = OpenDb(path);
  ASSERT_TRUE(
      db->Execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID").ok());
  ASSERT_TRUE(CreateSchemaV1(*db).ok());
  if (version >= 2) {
    ASSERT_TRUE(UpgradeSchemaV1ToV2(*db).ok());
  }
  if (version >= 3) {
    ASSERT_TRUE(UpgradeSchemaV2ToV3(*db).ok());
  }
  if (version >= 4) {
    ASSERT_TRUE(UpgradeSchemaV3ToV4(*db).ok());
  }
  if (version >= 5) {
    ASSERT_TRUE(UpgradeSchemaV4ToV5(*db).ok());
  }
  if (version >= 6) {
    ASSERT_TRUE(UpgradeSchemaV5ToV6(*db).ok());
  }
  if (version >= 7) {
    ASSERT_TRUE(UpgradeSchemaV6ToV7(*db).ok());
  }
  ASSERT_TRUE(db->Execute("INSERT INTO meta VALUES ('schema_version', '" + std::to_string(version) +
                          "');"
                          "INSERT INTO runs (id, relaytap_version, schema_version, start_us, "
                          "utc_offset_s) VALUES (1, 'old', 1, 1, 0);"
                          "INSERT INTO exchanges (id, run_id, connection_id, sequence, path, "
                          "status, request_start_us, auth_kind, jwt_exp, outcome) VALUES "
                          "(1, 1, 1, 1, '/openai/v1/realtime', 401, 10, 'bearer_jwt', 1700000000, "
                          "'client_error_4xx');"
                          "INSERT INTO ws_sessions (id, run_id, connection_id, exchange_sequence, "
                          "exchange_id, close_code, close_reason, outcome) VALUES "
                          "(1, 1, 1, 1, 1, 1000, 'bye', 'ok');"
                          "INSERT INTO events (session_ref, seq, first_frame_us, direction, "
                          "opcode, close_code) VALUES (1, 1, 20, 'server', 8, 1000);")
                  .ok());
}

// Every earlier version migrates; its rows stay readable and the new columns (version 4:
// events.close_reason, exchanges.jwt_aud, exchanges.jwt_tid; version 5: the run columns;
// version 6: the upstream proxy hop) are NULL in them; version 8 adds an empty probes table.
TEST(MigrationsTest, EveryEarlierVersionMigratesWithNewColumnsNull) {
  static_assert(kSchemaVersion == 8);
  for (int version = 1; version < kSchemaVersion; ++version) {
    SCOPED_TRACE(version);
    const std::string path = testing::MakeTempDir("mig") + "/v" + std::to_string(version) + ".db";
    ASSERT_NO_FATAL_FAILURE(BuildStoreAtVersion(path, version));
    auto db = OpenDb(path);
    ASSERT_TRUE(Migrate(*db).ok());
    EXPECT_EQ(*ReadSchemaVersion(*db), kSchemaVersion);
    EXPECT_EQ(*db->QueryText("SELECT auth_kind || ' ' || jwt_exp || ' ' || status || ' ' || "
                             "(jwt_aud IS NULL) || (jwt_tid IS NULL) FROM exchanges"),
              "bearer_jwt 1700000000 401 11");
    EXPECT_EQ(*db->QueryText("SELECT close_code || ' ' || (close_reason IS NULL) FROM events"),
              "1000 1");
    EXPECT_EQ(*db->QueryText("SELECT (run_count IS NULL) || (run_detail IS NULL) || "
                             "(run_last_us IS NULL) FROM events"),
              "111");
    EXPECT_EQ(*db->QueryText("SELECT line || ' ' || count || ' ' || span_ms FROM "
                             "v_session_timeline"),
              "close 1 0.0");
    EXPECT_EQ(*db->QueryText("SELECT close_reason || ' ' || (call_id IS NULL) FROM ws_sessions"),
              "bye 1");
    EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM v_calls"), 0);
    EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM v_failures"), 1);
    EXPECT_EQ(*db->QueryInt64("SELECT COUNT(*) FROM probes"), 0);
    EXPECT_EQ(*db->QueryText("SELECT (upstream_proxy IS NULL) || (upstream_proxy_status IS NULL) "
                             "FROM v_failures"),
              "11");
    ASSERT_TRUE(db->Execute("INSERT INTO exchanges (run_id, connection_id, sequence, outcome, "
                            "jwt_aud, jwt_tid) VALUES (1, 2, 1, 'ok', "
                            "'https://cognitiveservices.azure.com', "
                            "'72f988bf-86f1-41af-91ab-2d7cd011db47');"
                            "INSERT INTO events (session_ref, seq, first_frame_us, direction, "
                            "opcode, close_code, close_reason) VALUES (1, 2, 30, 'client', 8, "
                            "1000, 'done')")
                    .ok());
    EXPECT_EQ(*db->QueryText("SELECT jwt_tid FROM exchanges WHERE connection_id = 2"),
              "72f988bf-86f1-41af-91ab-2d7cd011db47");
    ASSERT_TRUE(Migrate(*db).ok());  // idempotent
    EXPECT_EQ(*db->QueryText("SELECT group_concat(COALESCE(close_reason, '-'), ',') FROM "
                             "(SELECT close_reason FROM events ORDER BY seq)"),
              "-,done");
  }
}

// Version 5 on a version 4 store with audio events: each old row is one message, and the
// timeline shows it as before (count 1); a run row written after the migration reads as a run.
TEST(MigrationsTest, Version5KeepsVersion4AudioRowsAsSingleMessages) {
  const std::string path = testing::MakeTempDir("mig") + "/v4.db";
  ASSERT_NO_FATAL_FAILURE(BuildStoreAtVersion(path, 4));
  auto db = OpenDb(path);
  ASSERT_TRUE(
      db->Execute("INSERT INTO events (session_ref, seq, first_frame_us, direction, opcode, "
                  "type, payload_bytes) VALUES (1, 2, 40, 'server', 1, "
                  "'response.output_audio.delta', 8300), (1, 3, 60, 'server', 1, "
                  "'response.output_audio.delta', 8300)")
          .ok());
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(*db->QueryText("SELECT group_concat(line || '/' || count, ',') FROM (SELECT * FROM "
                           "v_session_timeline WHERE seq > 1 ORDER BY seq)"),
            "response.output_audio.delta/1,response.output_audio.delta/1");
  ASSERT_TRUE(
      db->Execute("INSERT INTO events (session_ref, seq, first_frame_us, direction, opcode, "
                  "type, run_count, run_last_us) VALUES (1, 4, 1000000, 'client', 1, "
                  "'input_audio_buffer.append', 200, 4980000)")
          .ok());
  EXPECT_EQ(*db->QueryText("SELECT line FROM v_session_timeline WHERE seq = 4"),
            "200 × input_audio_buffer.append over 4.0 s");
}

TEST(MigrationsTest, RefusesANewerSchema) {
  std::string path = testing::MakeTempDir("mig") + "/s.db";
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  ASSERT_TRUE(db->Execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'").ok());
  absl::Status st = Migrate(*db);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(st.message().find("schema version 99"), absl::string_view::npos) << st;
}

TEST(MigrationsTest, RefusesAForeignDatabase) {
  auto db = OpenDb(testing::MakeTempDir("mig") + "/other.db");
  ASSERT_TRUE(db->Execute("CREATE TABLE something (x)").ok());
  absl::Status st = Migrate(*db);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(st.message().find("not a relaytap store"), absl::string_view::npos) << st;
}

// Version 6 on a version 5 store: a connection that went through an upstream proxy which refused
// the CONNECT reads as the proxy's failure in v_failures, with the proxy's address and status,
// apart from a failure of the upstream itself.
TEST(MigrationsTest, Version6NamesTheUpstreamProxyInFailures) {
  const std::string path = testing::MakeTempDir("mig") + "/v5.db";
  ASSERT_NO_FATAL_FAILURE(BuildStoreAtVersion(path, 5));
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(*ReadSchemaVersion(*db), kSchemaVersion);
  ASSERT_TRUE(db->Execute("INSERT INTO connections (run_id, connection_id, upstream_proxy, "
                          "proxy_connect_us, upstream_proxy_status, upstream_tls_issuer, outcome) "
                          "VALUES (1, 7, '10.0.0.8:3128', NULL, 407, NULL, "
                          "'upstream_proxy_failure');"
                          "INSERT INTO exchanges (run_id, connection_id, sequence, host, "
                          "request_start_us, local_error_code, upstream_proxy_status, outcome) "
                          "VALUES (1, 7, 1, 'contoso.openai.azure.com', 50, "
                          "'relaytap_upstream_proxy', 407, 'upstream_proxy_failure')")
                  .ok());
  EXPECT_EQ(*db->QueryText("SELECT outcome || ' ' || error_code || ' ' || upstream_proxy || ' ' "
                           "|| upstream_proxy_status FROM v_failures WHERE connection_id = 7"),
            "upstream_proxy_failure relaytap_upstream_proxy 10.0.0.8:3128 407");
  EXPECT_EQ(*db->QueryText("SELECT (upstream_proxy IS NULL) || outcome FROM v_failures WHERE "
                           "connection_id = 1"),
            "1client_error_4xx");
}

// Version 7 on a version 6 store: a call set-up links to the token issuance it used and to its
// sideband session; v_calls says whether the token had expired before the call.
TEST(MigrationsTest, Version7LinksCallsToTokensAndSidebands) {
  const std::string path = testing::MakeTempDir("mig") + "/v6.db";
  ASSERT_NO_FATAL_FAILURE(BuildStoreAtVersion(path, 6));
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(*ReadSchemaVersion(*db), kSchemaVersion);
  ASSERT_TRUE(db->Execute("INSERT INTO call_tokens (id, run_id, connection_id, exchange_sequence, "
                          "endpoint, issued_us, token_fp, expires_at_us) VALUES (1, 1, 5, 1, "
                          "'client_secrets', 100, 'hmac:0123456789ab', 150);"
                          "INSERT INTO calls (run_id, connection_id, exchange_sequence, endpoint, "
                          "start_us, outcome, call_id, token_fp, token_ref) VALUES (1, 6, 1, "
                          "'ga_calls', 200, 'token_expired', 'rtc_1', 'hmac:0123456789ab', 1);"
                          "UPDATE ws_sessions SET call_id = 'rtc_1'")
                  .ok());
  EXPECT_EQ(*db->QueryText("SELECT outcome || ' ' || token_expired_before_call || ' ' || "
                           "sideband_sessions || ' ' || sideband_session_ref FROM v_calls"),
            "token_expired 1 1 1");
}

}  // namespace
}  // namespace relaytap::recorder
