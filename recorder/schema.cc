#include "recorder/schema.h"

#include "base/str_cat.h"
#include "recorder/sqlite/database.h"

namespace relaytap::recorder {
namespace {

constexpr std::string_view kCreateTablesV1 = R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  relaytap_version TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  start_us INTEGER NOT NULL,
  stop_us INTEGER,
  hostname TEXT,
  timezone TEXT,
  utc_offset_s INTEGER,
  policy_hash TEXT,
  durability TEXT,
  pid INTEGER
);
CREATE TABLE connections (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  connection_id INTEGER NOT NULL,
  client_address TEXT,
  target_host TEXT,
  target_port INTEGER,
  intercepted INTEGER,
  tunnel INTEGER,
  upstream_address TEXT,
  open_us INTEGER,
  close_us INTEGER,
  dns_us INTEGER,
  tcp_connect_us INTEGER,
  upstream_tls_us INTEGER,
  app_tls_us INTEGER,
  app_tls_version TEXT,
  app_tls_cipher TEXT,
  app_tls_alpn TEXT,
  upstream_tls_version TEXT,
  upstream_tls_cipher TEXT,
  upstream_tls_alpn TEXT,
  bytes_up INTEGER,
  bytes_down INTEGER,
  close_reason TEXT,
  close_side TEXT,
  outcome TEXT,
  UNIQUE (run_id, connection_id)
);
CREATE TABLE exchanges (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  connection_id INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  method TEXT,
  host TEXT,
  path TEXT,
  resource TEXT,
  path_kind TEXT,
  deployment TEXT,
  model TEXT,
  api_version TEXT,
  transport TEXT,
  status INTEGER,
  request_start_us INTEGER,
  response_headers_us INTEGER,
  first_body_byte_us INTEGER,
  end_us INTEGER,
  apim_request_id TEXT,
  x_request_id TEXT,
  x_ms_client_request_id TEXT,
  region TEXT,
  azureml_model_session TEXT,
  openai_processing_ms TEXT,
  ratelimit TEXT,
  retry_after TEXT,
  retry_after_ms TEXT,
  user_agent TEXT,
  stainless_lang TEXT,
  stainless_package_version TEXT,
  stainless_runtime TEXT,
  stainless_runtime_version TEXT,
  stainless_os TEXT,
  stainless_arch TEXT,
  retry_count INTEGER,
  x_ms_useragent TEXT,
  auth_kind TEXT,
  jwt_exp INTEGER,
  jwt_nbf INTEGER,
  jwt_iat INTEGER,
  upstream_date_us INTEGER,
  clock_skew_ms INTEGER,
  token_ttl_s INTEGER,
  local_error_code TEXT,
  error_stage TEXT,
  error_reason TEXT,
  end_reason TEXT,
  error_type TEXT,
  error_code TEXT,
  outcome TEXT NOT NULL,
  request_headers TEXT,
  response_headers TEXT,
  request_body TEXT,
  response_body TEXT,
  sse_events TEXT,
  UNIQUE (run_id, connection_id, sequence)
);
CREATE TABLE ws_sessions (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  connection_id INTEGER NOT NULL,
  exchange_sequence INTEGER NOT NULL,
  exchange_id INTEGER REFERENCES exchanges(id),
  session_id TEXT,
  model TEXT,
  subprotocol TEXT,
  extensions TEXT,
  open_us INTEGER,
  close_us INTEGER,
  close_code INTEGER,
  close_reason TEXT,
  close_side TEXT,
  app_end TEXT,
  upstream_end TEXT,
  messages_up INTEGER,
  messages_down INTEGER,
  bytes_up INTEGER,
  bytes_down INTEGER,
  pings INTEGER,
  pongs INTEGER,
  ping_rtt_avg_ms REAL,
  ping_rtt_max_ms REAL,
  idle_before_close_ms REAL,
  responses INTEGER,
  failed_responses INTEGER,
  error_events INTEGER,
  first_error_type TEXT,
  first_error_code TEXT,
  first_failure_response_id TEXT,
  first_failure_us INTEGER,
  tap_error TEXT,
  outcome TEXT,
  UNIQUE (run_id, connection_id, exchange_sequence)
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  session_ref INTEGER NOT NULL REFERENCES ws_sessions(id),
  seq INTEGER NOT NULL,
  first_frame_us INTEGER NOT NULL,
  last_frame_us INTEGER,
  direction TEXT NOT NULL,
  opcode INTEGER NOT NULL,
  wire_bytes INTEGER,
  payload_bytes INTEGER,
  frame_count INTEGER,
  compressed INTEGER,
  truncated INTEGER,
  type TEXT,
  event_id TEXT,
  response_id TEXT,
  item_id TEXT,
  previous_item_id TEXT,
  error_type TEXT,
  error_code TEXT,
  error_event_id TEXT,
  response_status TEXT,
  status_error_type TEXT,
  status_error_code TEXT,
  audio_bytes INTEGER,
  audio_ms REAL,
  close_code INTEGER,
  payload TEXT
);
CREATE INDEX events_by_session ON events(session_ref, seq);
CREATE TABLE guard_decisions (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  at_us INTEGER NOT NULL,
  key TEXT,
  decision TEXT,
  reason TEXT,
  counts TEXT,
  exchange_id INTEGER REFERENCES exchanges(id),
  session_id TEXT
);
CREATE TABLE gaps (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  from_us INTEGER,
  to_us INTEGER,
  dropped_observations INTEGER NOT NULL,
  dropped_bytes INTEGER NOT NULL,
  reason TEXT
);
)sql";

// ISO-8601 UTC: strftime's %f is seconds with milliseconds. Local time uses the offset the run
// recorded at start (a DST change during a run is not reflected: stated, not hidden).
#define RELAYTAP_UTC(col) "strftime('%Y-%m-%dT%H:%M:%fZ', (" col ") / 1000000.0, 'unixepoch')"
#define RELAYTAP_LOCAL(col, off)                                 \
  "(strftime('%Y-%m-%dT%H:%M:%f', (" col ") / 1000000.0 + (" off \
  "), 'unixepoch') || "                                          \
  "CASE WHEN (" off                                              \
  ") < 0 THEN '-' ELSE '+' END || "                              \
  "printf('%02d:%02d', abs(" off ") / 3600, (abs(" off ") % 3600) / 60))"

// The columns of v_session_timeline in version 1 (version 5 adds four after them).
#define RELAYTAP_TIMELINE_COLUMNS \
  "SELECT s.session_id, s.id AS session_ref, s.run_id, s.connection_id, ev.seq, "           \
  RELAYTAP_UTC("ev.first_frame_us") " AS time_utc, "                                         \
  "ROUND((ev.first_frame_us - s.open_us) / 1000.0, 3) AS rel_ms, ev.direction, ev.type, "   \
  "ev.event_id, ev.response_id, ev.item_id, ev.payload_bytes AS size, ev.audio_ms, "        \
  "COALESCE(ev.error_type, ev.status_error_type) AS error_type, "                           \
  "COALESCE(ev.error_code, ev.status_error_code) AS error_code, ev.response_status"

constexpr std::string_view kCreateViewsV1 =
    "CREATE VIEW v_failures AS "
    "SELECT 'exchange' AS kind, " RELAYTAP_UTC("e.request_start_us") " AS time_utc, "
    RELAYTAP_LOCAL("e.request_start_us", "r.utc_offset_s") " AS time_local, "
    "e.host, e.resource, e.deployment, e.model, e.api_version, e.transport, e.status, "
    "NULL AS close_code, e.outcome, e.error_type, e.error_code, e.apim_request_id, "
    "e.x_request_id, e.region, s.session_id, NULL AS response_id, e.run_id, e.connection_id, "
    "e.id AS exchange_id "
    "FROM exchanges e JOIN runs r ON r.id = e.run_id "
    "LEFT JOIN ws_sessions s ON s.run_id = e.run_id AND s.connection_id = e.connection_id "
    "AND s.exchange_sequence = e.sequence "
    "WHERE e.outcome <> 'ok' "
    "UNION ALL "
    "SELECT 'ws_session', " RELAYTAP_UTC("COALESCE(s.first_failure_us, s.close_us)") ", "
    RELAYTAP_LOCAL("COALESCE(s.first_failure_us, s.close_us)", "r.utc_offset_s") ", "
    "e.host, e.resource, e.deployment, COALESCE(s.model, e.model), e.api_version, e.transport, "
    "e.status, s.close_code, s.outcome, s.first_error_type, s.first_error_code, "
    "e.apim_request_id, e.x_request_id, e.region, s.session_id, s.first_failure_response_id, "
    "s.run_id, s.connection_id, e.id "
    "FROM ws_sessions s JOIN runs r ON r.id = s.run_id "
    "LEFT JOIN exchanges e ON e.run_id = s.run_id AND e.connection_id = s.connection_id "
    "AND e.sequence = s.exchange_sequence "
    "WHERE s.outcome IS NOT NULL AND s.outcome <> 'ok';\n"
    // One row per WebSocket upgrade attempt: a failed upgrade (5xx, 429) is a failed session.
    "CREATE VIEW v_sessions_per_hour AS "
    "SELECT strftime('%Y-%m-%dT%H:00Z', e.request_start_us / 1000000.0, 'unixepoch') AS hour, "
    "COUNT(*) AS sessions, "
    "SUM(COALESCE(s.outcome, e.outcome) <> 'ok') AS failures, "
    "ROUND(100.0 * SUM(COALESCE(s.outcome, e.outcome) <> 'ok') / COUNT(*), 2) AS failure_pct "
    "FROM exchanges e LEFT JOIN ws_sessions s ON s.run_id = e.run_id "
    "AND s.connection_id = e.connection_id AND s.exchange_sequence = e.sequence "
    "WHERE e.transport = 'websocket_upgrade' GROUP BY hour ORDER BY hour;\n"
    "CREATE VIEW v_session_timeline AS " RELAYTAP_TIMELINE_COLUMNS
    " FROM events ev JOIN ws_sessions s ON s.id = ev.session_ref;\n";

// v_failures as of version 3, with hooks for more last columns and joins (version 6 adds two).
#define RELAYTAP_FAILURES_VIEW(exchange_columns, exchange_joins, session_columns, session_joins) \
  "CREATE VIEW v_failures AS "                                                                    \
  "SELECT 'exchange' AS kind, " RELAYTAP_UTC("e.request_start_us") " AS time_utc, "               \
  RELAYTAP_LOCAL("e.request_start_us", "r.utc_offset_s") " AS time_local, "                       \
  "e.host, e.resource, e.deployment, e.model, e.api_version, e.transport, e.status, "             \
  "NULL AS close_code, e.outcome, e.error_type, "                                                 \
  "COALESCE(NULLIF(e.error_code, ''), NULLIF(e.local_error_code, '')) AS error_code, "            \
  "e.apim_request_id, e.x_request_id, e.region, s.session_id, NULL AS response_id, e.run_id, "    \
  "e.connection_id, e.id AS exchange_id, NULLIF(e.local_error_code, '') AS local_error_code"      \
  exchange_columns " FROM exchanges e JOIN runs r ON r.id = e.run_id " exchange_joins             \
  "LEFT JOIN ws_sessions s ON s.run_id = e.run_id AND s.connection_id = e.connection_id "         \
  "AND s.exchange_sequence = e.sequence "                                                         \
  "WHERE e.outcome <> 'ok' "                                                                      \
  "UNION ALL "                                                                                    \
  "SELECT 'ws_session', " RELAYTAP_UTC("COALESCE(s.first_failure_us, s.close_us)") ", "           \
  RELAYTAP_LOCAL("COALESCE(s.first_failure_us, s.close_us)", "r.utc_offset_s") ", "               \
  "e.host, e.resource, e.deployment, COALESCE(s.model, e.model), e.api_version, e.transport, "    \
  "e.status, s.close_code, s.outcome, s.first_error_type, s.first_error_code, "                   \
  "e.apim_request_id, e.x_request_id, e.region, s.session_id, s.first_failure_response_id, "      \
  "s.run_id, s.connection_id, e.id, NULL" session_columns " "                                     \
  "FROM ws_sessions s JOIN runs r ON r.id = s.run_id " session_joins                              \
  "LEFT JOIN exchanges e ON e.run_id = s.run_id AND e.connection_id = s.connection_id "           \
  "AND e.sequence = s.exchange_sequence "                                                         \
  "WHERE s.outcome IS NOT NULL AND s.outcome <> 'ok';\n"

// v_failures again, for the exchanges relaytap answered itself (a guard rejection, a failed dial,
// a reset before the response): they have no upstream status or error code, so error_code falls
// back to relaytap's own (`relaytap_attempt_cap`, `relaytap_upstream_dns`, ...), and the new last
// column local_error_code says which failures relaytap produced. Otherwise as in version 1.
constexpr std::string_view kUpgradeV2ToV3 =
    "DROP VIEW v_failures;\n" RELAYTAP_FAILURES_VIEW("", "", "", "");

// The upstream proxy hop (--upstream-proxy): which proxy a connection went through, its CONNECT
// time and answer, the issuer of the upstream TLS chain; v_failures names the proxy and its
// answer, so "the corporate proxy refused" reads apart from "Azure failed".
constexpr std::string_view kUpgradeV5ToV6 =
    "ALTER TABLE connections ADD COLUMN upstream_proxy TEXT;\n"
    "ALTER TABLE connections ADD COLUMN proxy_connect_us INTEGER;\n"
    "ALTER TABLE connections ADD COLUMN upstream_proxy_status INTEGER;\n"
    "ALTER TABLE connections ADD COLUMN upstream_tls_issuer TEXT;\n"
    "ALTER TABLE exchanges ADD COLUMN upstream_proxy_status INTEGER;\n"
    "DROP VIEW v_failures;\n" RELAYTAP_FAILURES_VIEW(
        ", c.upstream_proxy, e.upstream_proxy_status",
        "LEFT JOIN connections c ON c.run_id = e.run_id AND c.connection_id = e.connection_id ",
        ", c.upstream_proxy, NULL",
        "LEFT JOIN connections c ON c.run_id = s.run_id AND c.connection_id = s.connection_id ");

#undef RELAYTAP_FAILURES_VIEW

// Runs of audio events (recorder/audio_run.h): one row per run, the timeline shows it as one line.
constexpr std::string_view kUpgradeV4ToV5 =
    "ALTER TABLE events ADD COLUMN run_count INTEGER;\n"
    "ALTER TABLE events ADD COLUMN run_last_us INTEGER;\n"
    "ALTER TABLE events ADD COLUMN run_last_event_id TEXT;\n"
    "ALTER TABLE events ADD COLUMN run_max_gap_us INTEGER;\n"
    "ALTER TABLE events ADD COLUMN run_fingerprint TEXT;\n"
    "ALTER TABLE events ADD COLUMN run_detail BLOB;\n"
    "DROP VIEW v_session_timeline;\n"
    "CREATE VIEW v_session_timeline AS " RELAYTAP_TIMELINE_COLUMNS
    ", "
    "COALESCE(ev.run_count, 1) AS count, "
    "ROUND((COALESCE(ev.run_last_us, ev.first_frame_us) - ev.first_frame_us) / 1000.0, 3) "
    "AS span_ms, ev.run_last_event_id AS last_event_id, "
    "CASE WHEN ev.run_count > 1 THEN ev.run_count || ' × ' || ev.type || ' over ' || "
    "printf('%.1f s', (ev.run_last_us - ev.first_frame_us) / 1000000.0) "
    "ELSE COALESCE(ev.type, CASE ev.opcode WHEN 8 THEN 'close' WHEN 9 THEN 'ping' "
    "WHEN 10 THEN 'pong' WHEN 2 THEN 'binary' ELSE '' END) END AS line "
    "FROM events ev JOIN ws_sessions s ON s.id = ev.session_ref;\n";

#undef RELAYTAP_TIMELINE_COLUMNS
#undef RELAYTAP_UTC
#undef RELAYTAP_LOCAL

constexpr std::string_view kUpgradeV1ToV2 =
    "ALTER TABLE guard_decisions ADD COLUMN mode TEXT;\n"
    "ALTER TABLE guard_decisions ADD COLUMN connection_id INTEGER;\n"
    "ALTER TABLE guard_decisions ADD COLUMN exchange_sequence INTEGER;\n"
    "ALTER TABLE guard_decisions ADD COLUMN retry_after_ms INTEGER;\n"
    "CREATE INDEX guard_decisions_by_exchange ON guard_decisions(run_id, connection_id, "
    "exchange_sequence);\n"
    "CREATE VIEW v_guard_decisions AS "
    "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', g.at_us / 1000000.0, 'unixepoch') AS time_utc, "
    "g.mode, g.key, g.decision, g.reason, g.retry_after_ms, g.counts, g.run_id, "
    "g.connection_id, g.exchange_sequence, e.id AS exchange_id, e.method, e.path, e.status, "
    "e.outcome FROM guard_decisions g LEFT JOIN exchanges e ON e.run_id = g.run_id AND "
    "e.connection_id = g.connection_id AND e.sequence = g.exchange_sequence;\n";

constexpr std::string_view kUpgradeV3ToV4 =
    "ALTER TABLE events ADD COLUMN close_reason TEXT;\n"
    "ALTER TABLE exchanges ADD COLUMN jwt_aud TEXT;\n"
    "ALTER TABLE exchanges ADD COLUMN jwt_tid TEXT;\n";

}  // namespace

std::string_view DurabilityName(Durability d) { return d == Durability::kFull ? "full" : "normal"; }

absl::Status ApplyConnectionPragmas(sqlite::Database& db, Durability durability) {
  // The busy timeout first: a reader of the store (`relaytap stats`, a test's query) that is the
  // last connection checkpoints and removes the WAL as it closes, holding the lock for a moment,
  // and a writer reopening then (after a write failure) got SQLITE_BUSY on journal_mode at once:
  // the reopen failed and its batch was lost as a gap
  // (DiskFullTest.AFullFilesystemCostsRecordingNotTheRelay, 1 in about 7 runs under load).
  if (absl::Status st = db.Execute("PRAGMA busy_timeout=2000"); !st.ok()) return st;
  absl::StatusOr<std::string> mode = db.QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return absl::FailedPreconditionError(
        StrCat("SQLite database ", db.path(), " cannot use WAL (journal_mode=", *mode, ")"));
  }
  std::string sync =
      StrCat("PRAGMA synchronous=", durability == Durability::kFull ? "FULL" : "NORMAL");
  if (absl::Status st = db.Execute(sync); !st.ok()) return st;
  return db.Execute("PRAGMA foreign_keys=ON");
}

absl::Status CreateSchemaV1(sqlite::Database& db) {
  if (absl::Status st = db.Execute(kCreateTablesV1); !st.ok()) return st;
  return db.Execute(kCreateViewsV1);
}

absl::Status UpgradeSchemaV1ToV2(sqlite::Database& db) { return db.Execute(kUpgradeV1ToV2); }

absl::Status UpgradeSchemaV2ToV3(sqlite::Database& db) { return db.Execute(kUpgradeV2ToV3); }

absl::Status UpgradeSchemaV3ToV4(sqlite::Database& db) { return db.Execute(kUpgradeV3ToV4); }

absl::Status UpgradeSchemaV4ToV5(sqlite::Database& db) { return db.Execute(kUpgradeV4ToV5); }

absl::Status UpgradeSchemaV5ToV6(sqlite::Database& db) { return db.Execute(kUpgradeV5ToV6); }

absl::Status UpgradeSchemaV7ToV8(sqlite::Database& db) {
  static constexpr std::string_view kCreateProbes =
      "CREATE TABLE probes (\n"
      "  id INTEGER PRIMARY KEY,\n"
      "  run_us INTEGER NOT NULL,\n"
      "  tool TEXT NOT NULL,\n"
      "  url TEXT NOT NULL,\n"
      "  host TEXT,\n"
      "  verdict TEXT NOT NULL,\n"
      "  failed_stage TEXT,\n"
      "  ms INTEGER,\n"
      "  stages TEXT NOT NULL,\n"
      "  session_id TEXT,\n"
      "  response_id TEXT,\n"
      "  apim_request_id TEXT);\n"
      "CREATE INDEX probes_run_us ON probes (run_us);\n";
  return db.Execute(kCreateProbes);
}

}  // namespace relaytap::recorder
