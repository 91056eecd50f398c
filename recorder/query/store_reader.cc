#include "recorder/query/store_reader.h"

#include <sqlite3.h>

#include <filesystem>
#include <unordered_map>

#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "recorder/first_delta.h"
#include "recorder/query/store_set.h"
#include "recorder/schema.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/statement.h"

namespace relaytap::recorder::query {
namespace {

using sqlite::Database;
using sqlite::Statement;

constexpr std::string_view kExchangesBeforeV4Sql =
    "CREATE TEMP VIEW exchanges AS SELECT *, NULL AS jwt_aud, NULL AS jwt_tid FROM main.exchanges";

// A store written before schema version 5 has no run columns: every row is one message.
constexpr std::string_view kEventsBeforeV5Sql =
    "CREATE TEMP VIEW events AS SELECT *, NULL AS run_count, NULL AS run_last_us, "
    "NULL AS run_last_event_id, NULL AS run_max_gap_us, NULL AS run_fingerprint, "
    "NULL AS run_detail FROM main.events";

// Before schema version 6 the upstream chain's root was not recorded.
constexpr std::string_view kConnectionsBeforeV6Sql =
    "CREATE TEMP VIEW connections AS SELECT *, NULL AS upstream_tls_issuer FROM main.connections";

constexpr std::string_view kRequiredTablesSql =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'connections', "
    "'exchanges', 'ws_sessions', 'events')";

// The answers (stats, report, diff) are about the app's traffic to its upstreams: they leave out
// what relaytap itself sent or answered (transports 'self_check' and 'probe_check',
// recorder/correlator.h), which HAR and replay keep.
#define RELAYTAP_APP_EXCHANGE(t) \
  "COALESCE(" t ".transport, '') NOT IN ('self_check', 'probe_check')"

// The machine that recorded a row of table alias `t`: its run's hostname.
#define RELAYTAP_MACHINE_OF(t) \
  "COALESCE((SELECT r.hostname FROM runs r WHERE r.id = " t ".run_id), '')"

// One row per exchange; an upgrade's session (if it opened one) found by (run, connection,
// sequence). Per-session event figures come from the events index (session_ref, seq).
constexpr std::string_view kAttemptsSql =
    "SELECT e.transport = 'websocket_upgrade', e.request_start_us, COALESCE(e.host, ''), "
    "COALESCE(NULLIF(e.deployment, ''), NULLIF(e.model, ''), s.model, ''), "
    "COALESCE(e.region, ''), COALESCE(e.api_version, ''), COALESCE(e.user_agent, ''), "
    "COALESCE(e.path_kind, ''), COALESCE(c.client_address, ''), e.clock_skew_ms, "
    "COALESCE(s.outcome, e.outcome), COALESCE(e.status, 0), e.retry_count, "
    "EXISTS (SELECT 1 FROM guard_decisions g WHERE g.run_id = e.run_id AND "
    "g.connection_id = e.connection_id AND g.exchange_sequence = e.sequence AND "
    "json_valid(g.counts) AND json_extract(g.counts, '$.retry') = 1), "
    "e.response_headers_us - e.request_start_us, "
    "(SELECT MIN(c.first_frame_us) FROM events c WHERE c.session_ref = s.id AND "
    "c.type = 'session.created') - s.open_us, "
    "(SELECT MIN(d.first_frame_us) - rc.t FROM events d, (SELECT MIN(first_frame_us) AS t FROM "
    "events WHERE session_ref = s.id AND type = 'response.create') rc WHERE d.session_ref = s.id "
    "AND d.type IN " RELAYTAP_FIRST_DELTA_TYPES_SQL
    " AND d.first_frame_us >= rc.t), "
    "CASE WHEN s.id IS NOT NULL THEN s.close_us - s.open_us "
    "ELSE e.end_us - e.request_start_us END, "
    "COALESCE(s.bytes_up, 0) + COALESCE(s.bytes_down, 0), "
    "COALESCE((SELECT SUM(json_extract(u.payload, '$.response.usage.total_tokens')) FROM events u "
    "WHERE u.session_ref = s.id AND u.type = 'response.done' AND json_valid(u.payload)), 0), "
    "COALESCE(e.auth_kind, ''), e.jwt_exp, COALESCE(e.jwt_aud, ''), COALESCE(e.jwt_tid, ''), "
    RELAYTAP_MACHINE_OF("e") ", COALESCE(c.upstream_tls_issuer, '') FROM exchanges e LEFT JOIN ws_sessions s ON s.run_id = e.run_id AND "
    "s.connection_id = e.connection_id AND s.exchange_sequence = e.sequence "
    "LEFT JOIN connections c ON c.run_id = e.run_id AND c.connection_id = e.connection_id "
    "WHERE (?1 IS NULL OR e.request_start_us >= ?1) AND (?2 IS NULL OR e.request_start_us < ?2) "
    "AND " RELAYTAP_APP_EXCHANGE("e") " ORDER BY e.request_start_us, e.id";

// The failures, as v_failures has them, plus what the report needs besides: the message, the
// retry count, the user agent and the session's row. A session's message is its first error
// event's, else its first failed response's.
constexpr std::string_view kFailuresSql =
    "SELECT 'exchange', e.request_start_us, COALESCE(e.host, ''), COALESCE(e.resource, ''), "
    "COALESCE(NULLIF(e.deployment, ''), NULLIF(e.model, ''), ''), COALESCE(e.model, ''), "
    "COALESCE(e.api_version, ''), COALESCE(e.transport, ''), COALESCE(e.path_kind, ''), "
    "COALESCE(e.status, 0), NULL, e.outcome, COALESCE(e.error_type, ''), "
    "COALESCE(NULLIF(e.error_code, ''), NULLIF(e.local_error_code, ''), ''), "
    "COALESCE(CASE WHEN json_valid(e.response_body) THEN "
    "json_extract(e.response_body, '$.error.message') END, e.error_reason, ''), "
    "COALESCE(e.apim_request_id, ''), COALESCE(e.x_request_id, ''), COALESCE(e.region, ''), "
    "COALESCE(s.session_id, ''), '', e.retry_count, COALESCE(e.user_agent, ''), "
    "COALESCE(e.local_error_code, '') <> '', NULL, " RELAYTAP_MACHINE_OF("e")
    " FROM exchanges e LEFT JOIN ws_sessions s ON s.run_id = e.run_id AND "
    "s.connection_id = e.connection_id AND s.exchange_sequence = e.sequence "
    "WHERE e.outcome <> 'ok' AND (?1 IS NULL OR e.request_start_us >= ?1) AND "
    "(?2 IS NULL OR e.request_start_us < ?2) AND (?3 = '' OR s.session_id = ?3) AND "
    RELAYTAP_APP_EXCHANGE("e") " "
    "UNION ALL "
    "SELECT 'ws_session', COALESCE(s.first_failure_us, s.close_us, s.open_us), "
    "COALESCE(e.host, ''), COALESCE(e.resource, ''), "
    "COALESCE(NULLIF(e.deployment, ''), NULLIF(e.model, ''), s.model, ''), "
    "COALESCE(s.model, e.model, ''), COALESCE(e.api_version, ''), COALESCE(e.transport, ''), "
    "COALESCE(e.path_kind, ''), COALESCE(e.status, 0), s.close_code, s.outcome, "
    "COALESCE(s.first_error_type, ''), COALESCE(s.first_error_code, ''), "
    "COALESCE((SELECT COALESCE(json_extract(v.payload, '$.error.message'), "
    "json_extract(v.payload, '$.response.status_details.error.message')) FROM events v "
    "WHERE v.session_ref = s.id AND json_valid(v.payload) AND (v.type = 'error' OR "
    "(v.type IN ('response.done', 'response.failed') AND v.response_status = 'failed')) "
    "ORDER BY v.seq LIMIT 1), ''), "
    "COALESCE(e.apim_request_id, ''), COALESCE(e.x_request_id, ''), COALESCE(e.region, ''), "
    "COALESCE(s.session_id, ''), COALESCE(s.first_failure_response_id, ''), e.retry_count, "
    "COALESCE(e.user_agent, ''), 0, s.id, " RELAYTAP_MACHINE_OF("s")
    " FROM ws_sessions s LEFT JOIN exchanges e ON e.run_id = s.run_id AND "
    "e.connection_id = s.connection_id AND e.sequence = s.exchange_sequence "
    "WHERE s.outcome IS NOT NULL AND s.outcome <> 'ok' AND "
    "(?1 IS NULL OR COALESCE(e.request_start_us, s.open_us) >= ?1) AND "
    "(?2 IS NULL OR COALESCE(e.request_start_us, s.open_us) < ?2) AND "
    "(?3 = '' OR s.session_id = ?3) "
    "ORDER BY 2";

constexpr std::string_view kEventsBeforeSql =
    "SELECT rel_ms, direction, type FROM (SELECT (ev.first_frame_us - s.open_us) / 1000.0 AS "
    "rel_ms, ev.direction, CASE WHEN ev.run_count > 1 THEN ev.run_count || ' × ' || ev.type "
    "ELSE COALESCE(ev.type, CASE ev.opcode WHEN 8 THEN 'close' WHEN 2 THEN 'binary' ELSE '' END) "
    "END AS type, ev.seq FROM events ev JOIN ws_sessions s ON s.id = "
    "ev.session_ref WHERE ev.session_ref = ?1 AND ev.first_frame_us <= ?2 ORDER BY ev.seq DESC "
    "LIMIT ?3) ORDER BY seq";

constexpr std::string_view kProfilesSql =
    "SELECT e.request_start_us, e.transport = 'websocket_upgrade', COALESCE(s.outcome, e.outcome), "
    "COALESCE(e.host, ''), COALESCE(e.region, ''), "
    "COALESCE(NULLIF(e.deployment, ''), NULLIF(e.model, ''), s.model, ''), "
    "COALESCE(s.model, e.model, ''), COALESCE(e.api_version, ''), COALESCE(e.path_kind, ''), "
    "COALESCE(e.auth_kind, ''), COALESCE(e.user_agent, ''), COALESCE(c.client_address, ''), "
    "COALESCE(s.subprotocol, ''), COALESCE(s.extensions, ''), "
    "COALESCE(c.upstream_tls_version, ''), COALESCE(c.upstream_tls_alpn, ''), "
    "COALESCE(s.session_id, ''), "
    "COALESCE((SELECT payload FROM events u WHERE u.session_ref = s.id AND "
    "u.type = 'session.update' ORDER BY u.seq LIMIT 1), ''), "
    "COALESCE((SELECT payload FROM events u WHERE u.session_ref = s.id AND "
    "u.type = 'response.create' ORDER BY u.seq LIMIT 1), ''), "
    "e.response_headers_us - e.request_start_us, "
    "CASE WHEN s.id IS NOT NULL THEN s.close_us - s.open_us "
    "ELSE e.end_us - e.request_start_us END, s.id, e.id, " RELAYTAP_MACHINE_OF("e")
    " FROM exchanges e LEFT JOIN ws_sessions s ON s.run_id = e.run_id AND "
    "s.connection_id = e.connection_id AND s.exchange_sequence = e.sequence "
    "LEFT JOIN connections c ON c.run_id = e.run_id AND c.connection_id = e.connection_id "
    "WHERE (?1 IS NULL OR e.request_start_us >= ?1) AND (?2 IS NULL OR e.request_start_us < ?2) "
    "AND " RELAYTAP_APP_EXCHANGE("e") " ORDER BY e.request_start_us, e.id";

#undef RELAYTAP_MACHINE_OF
#undef RELAYTAP_APP_EXCHANGE

// The first ?2 event types of session ?1 (the events index serves it).
constexpr std::string_view kEventTypesSql =
    "SELECT COALESCE(type, CASE opcode WHEN 8 THEN 'close' WHEN 2 THEN 'binary' ELSE '' END) "
    "FROM events WHERE session_ref = ?1 ORDER BY seq LIMIT ?2";

constexpr std::string_view kExchangesSql =
    "SELECT e.id, COALESCE(e.method, ''), COALESCE(e.host, ''), COALESCE(e.path, ''), "
    "CASE WHEN c.intercepted THEN 'https' ELSE 'http' END, COALESCE(c.target_port, 0), "
    "COALESCE(e.status, 0), COALESCE(e.request_headers, ''), COALESCE(e.response_headers, ''), "
    "COALESCE(e.request_body, ''), COALESCE(e.response_body, ''), e.request_start_us, "
    "e.response_headers_us, e.first_body_byte_us, e.end_us, "
    "CASE WHEN e.sequence = 1 THEN c.dns_us END, CASE WHEN e.sequence = 1 THEN c.tcp_connect_us "
    "END, CASE WHEN e.sequence = 1 THEN c.upstream_tls_us END, "
    "COALESCE(c.upstream_address, ''), e.connection_id, s.id "
    "FROM exchanges e LEFT JOIN connections c ON c.run_id = e.run_id AND "
    "c.connection_id = e.connection_id LEFT JOIN ws_sessions s ON s.run_id = e.run_id AND "
    "s.connection_id = e.connection_id AND s.exchange_sequence = e.sequence "
    "WHERE (?1 IS NULL OR e.request_start_us >= ?1) AND (?2 IS NULL OR e.request_start_us < ?2) "
    "ORDER BY e.request_start_us, e.id";

constexpr std::string_view kLatestZoneSql =
    "SELECT COALESCE(timezone, ''), COALESCE(utc_offset_s, 0) FROM runs ORDER BY start_us DESC, "
    "id DESC LIMIT 1";

std::optional<double> OptMs(const Statement& s, int col) {
  if (s.ColumnIsNull(col)) return std::nullopt;
  return static_cast<double>(s.ColumnInt64(col)) / 1000.0;
}

absl::StatusOr<std::unique_ptr<sqlite::Database>> ReadyToRead(std::unique_ptr<Database> db,
                                                              int version) {
  // A store written before schema version 4 has no exchanges.jwt_aud / jwt_tid: a temporary view
  // (on this connection only; the file is not touched) shows them as NULL, so one SQL text reads
  // every version. Unqualified `exchanges` finds the temp view first.
  if (version > 0 && version < 4) RELAYTAP_RETURN_IF_ERROR(db->Execute(kExchangesBeforeV4Sql));
  if (version > 0 && version < 5) RELAYTAP_RETURN_IF_ERROR(db->Execute(kEventsBeforeV5Sql));
  if (version > 0 && version < 6) RELAYTAP_RETURN_IF_ERROR(db->Execute(kConnectionsBeforeV6Sql));
  // A proxy may be writing: wait for its short write transactions instead of failing.
  (void)db->Execute("PRAGMA busy_timeout=5000");
  // The answers scan every event row: map the file instead of copying each page through
  // read() into the page cache of this connection (a read-only mapping; the writer is not
  // affected). A larger page cache keeps what one query read for the next.
  (void)db->Execute("PRAGMA mmap_size=4294967296");
  (void)db->Execute("PRAGMA cache_size=-65536");
  return db;
}

}  // namespace

absl::StatusOr<int> CheckStore(Database& db, const std::string& path) {
  absl::StatusOr<int64_t> tables = db.QueryInt64(kRequiredTablesSql);
  if (!tables.ok()) {
    return absl::FailedPreconditionError(
        StrCat(path, " is not a SQLite database (", std::string(tables.status().message()), ")"));
  }
  if (*tables != 5) {
    return absl::FailedPreconditionError(
        StrCat(path,
               " is not a relaytap store (tables runs, connections, exchanges, ws_sessions "
               "and events are missing)"));
  }
  absl::StatusOr<std::string> version =
      db.QueryText("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!version.ok()) return 0;
  if (std::atoi(version->c_str()) > kSchemaVersion) {
    return absl::FailedPreconditionError(StrCat(path, " has store schema version ", *version,
                                                "; this relaytap reads up to ", kSchemaVersion,
                                                ": use a newer relaytap"));
  }
  return std::atoi(version->c_str());
}

absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenStoreReadOnly(const std::string& path) {
  std::unique_ptr<Database> db;
  int version = 0;
  std::error_code ec;
  if (IsStoreSet(path)) {
    RELAYTAP_ASSIGN_OR_RETURN(std::vector<std::string> files, ResolveStoreSet(path));
    RELAYTAP_ASSIGN_OR_RETURN(db, MergeStores(files));
    RELAYTAP_ASSIGN_OR_RETURN(version, CheckStore(*db, path));
  } else if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(StrCat("relaytap store ", path, ": no such file"));
  } else {
    RELAYTAP_ASSIGN_OR_RETURN(db, Database::Open(path, SQLITE_OPEN_READONLY));
    RELAYTAP_ASSIGN_OR_RETURN(version, CheckStore(*db, path));
  }
  return ReadyToRead(std::move(db), version);
}

absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenStoreReadOnly(
    const std::vector<std::string>& paths) {
  if (paths.size() == 1) return OpenStoreReadOnly(paths[0]);
  RELAYTAP_ASSIGN_OR_RETURN(std::vector<std::string> files, ResolveStores(paths));
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, MergeStores(files));
  RELAYTAP_ASSIGN_OR_RETURN(int version, CheckStore(*db, absl::StrJoin(paths, ", ")));
  return ReadyToRead(std::move(db), version);
}

StoreReader::StoreReader(std::unique_ptr<sqlite::Database> db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}
StoreReader::~StoreReader() = default;

absl::StatusOr<std::unique_ptr<StoreReader>> StoreReader::Open(const std::string& path) {
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenStoreReadOnly(path));
  return std::unique_ptr<StoreReader>(new StoreReader(std::move(db), path));
}

absl::StatusOr<std::unique_ptr<StoreReader>> StoreReader::Open(
    const std::vector<std::string>& paths) {
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenStoreReadOnly(paths));
  return std::unique_ptr<StoreReader>(new StoreReader(std::move(db), absl::StrJoin(paths, ", ")));
}

absl::StatusOr<std::vector<Attempt>> StoreReader::Attempts(const TimeWindow& window) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kAttemptsSql));
  s.BindOptionalInt64(1, window.since_us);
  s.BindOptionalInt64(2, window.until_us);
  std::vector<Attempt> out;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Attempt a;
    a.session = s.ColumnInt64(0) != 0;
    a.start_us = s.ColumnInt64(1);
    a.host = s.ColumnText(2);
    a.deployment = s.ColumnText(3);
    a.region = s.ColumnText(4);
    a.api_version = s.ColumnText(5);
    a.user_agent = s.ColumnText(6);
    a.path_kind = s.ColumnText(7);
    a.client = s.ColumnText(8);
    a.clock_skew_ms = s.ColumnOptionalInt64(9);
    a.outcome = s.ColumnText(10);
    a.status = static_cast<int>(s.ColumnInt64(11));
    a.retry_count = s.ColumnOptionalInt64(12);
    a.guard_saw_retry = s.ColumnInt64(13) != 0;
    a.upgrade_ms = OptMs(s, 14);
    a.session_created_ms = OptMs(s, 15);
    a.first_delta_ms = OptMs(s, 16);
    a.duration_ms = OptMs(s, 17);
    a.bytes = s.ColumnInt64(18);
    a.tokens = s.ColumnInt64(19);
    a.auth_kind = s.ColumnText(20);
    a.jwt_exp = s.ColumnOptionalInt64(21);
    a.jwt_aud = s.ColumnText(22);
    a.jwt_tid = s.ColumnText(23);
    a.machine = s.ColumnText(24);
    a.tls_root = s.ColumnText(25);
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::vector<Failure>> StoreReader::Failures(const TimeWindow& window,
                                                           const std::string& session_id) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kFailuresSql));
  s.BindOptionalInt64(1, window.since_us);
  s.BindOptionalInt64(2, window.until_us);
  s.BindText(3, session_id);
  std::vector<Failure> out;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Failure f;
    int c = 0;
    f.kind = s.ColumnText(c++);
    f.at_us = s.ColumnInt64(c++);
    for (std::string* text : {&f.host, &f.resource, &f.deployment, &f.model, &f.api_version,
                              &f.transport, &f.path_kind}) {
      *text = s.ColumnText(c++);
    }
    f.status = static_cast<int>(s.ColumnInt64(c++));
    f.close_code = s.ColumnOptionalInt64(c++);
    for (std::string* text :
         {&f.outcome, &f.error_type, &f.error_code, &f.message, &f.apim_request_id, &f.x_request_id,
          &f.region, &f.session_id, &f.response_id}) {
      *text = s.ColumnText(c++);
    }
    f.retry_count = s.ColumnOptionalInt64(c++);
    f.user_agent = s.ColumnText(c++);
    f.local = s.ColumnInt64(c++) != 0;
    f.session_ref = s.ColumnOptionalInt64(c++);
    f.machine = s.ColumnText(c++);
    out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<std::vector<EventMark>> StoreReader::EventsBefore(int64_t session_ref,
                                                                 int64_t until_us, int limit) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kEventsBeforeSql));
  s.BindInt64(1, session_ref);
  s.BindInt64(2, until_us);
  s.BindInt64(3, limit);
  std::vector<EventMark> out;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(EventMark{s.ColumnDouble(0), s.ColumnText(1), s.ColumnText(2)});
  }
  return out;
}

absl::StatusOr<std::vector<Profile>> StoreReader::Profiles(const TimeWindow& window,
                                                           int max_events) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kProfilesSql));
  RELAYTAP_ASSIGN_OR_RETURN(Statement types, db_->Prepare(kEventTypesSql));
  s.BindOptionalInt64(1, window.since_us);
  s.BindOptionalInt64(2, window.until_us);
  std::vector<Profile> out;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Profile p;
    int c = 0;
    p.start_us = s.ColumnInt64(c++);
    p.session = s.ColumnInt64(c++) != 0;
    for (std::string* text :
         {&p.outcome, &p.host, &p.region, &p.deployment, &p.model, &p.api_version, &p.path_kind,
          &p.auth_kind, &p.user_agent, &p.client, &p.subprotocol, &p.extensions, &p.tls_version,
          &p.alpn, &p.session_id, &p.session_update, &p.response_create}) {
      *text = s.ColumnText(c++);
    }
    p.upgrade_ms = OptMs(s, c++);
    p.duration_ms = OptMs(s, c++);
    p.exchange_id = s.ColumnInt64(c + 1);
    if (std::optional<int64_t> ref = s.ColumnOptionalInt64(c++)) {
      types.Reset();
      types.BindInt64(1, *ref);
      types.BindInt64(2, max_events);
      for (;;) {
        RELAYTAP_ASSIGN_OR_RETURN(bool t, types.Step());
        if (!t) break;
        p.event_types.push_back(types.ColumnText(0));
      }
    }
    p.machine = s.ColumnText(c + 1);  // after the exchange's id
    out.push_back(std::move(p));
  }
  RELAYTAP_ASSIGN_OR_RETURN(std::vector<Call> calls, Calls(window));
  std::unordered_map<int64_t, std::string> call_outcomes;
  for (Call& call : calls) call_outcomes[call.exchange_id] = std::move(call.outcome);
  for (Profile& p : out) {
    if (auto it = call_outcomes.find(p.exchange_id); it != call_outcomes.end()) {
      p.call_outcome = it->second;
    }
  }
  return out;
}

absl::StatusOr<std::vector<RecordedExchange>> StoreReader::Exchanges(const TimeWindow& window) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kExchangesSql));
  s.BindOptionalInt64(1, window.since_us);
  s.BindOptionalInt64(2, window.until_us);
  std::vector<RecordedExchange> out;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    RecordedExchange x;
    int c = 0;
    x.id = s.ColumnInt64(c++);
    for (std::string* text : {&x.method, &x.host, &x.path, &x.scheme}) *text = s.ColumnText(c++);
    x.port = static_cast<int>(s.ColumnInt64(c++));
    x.status = static_cast<int>(s.ColumnInt64(c++));
    for (std::string* text :
         {&x.request_headers, &x.response_headers, &x.request_body, &x.response_body}) {
      *text = s.ColumnText(c++);
    }
    x.request_start_us = s.ColumnInt64(c++);
    for (std::optional<int64_t>* v : {&x.response_headers_us, &x.first_body_byte_us, &x.end_us,
                                      &x.dns_us, &x.connect_us, &x.tls_us}) {
      *v = s.ColumnOptionalInt64(c++);
    }
    x.server_address = s.ColumnText(c++);
    x.connection_id = static_cast<uint64_t>(s.ColumnInt64(c++));
    x.session_ref = s.ColumnOptionalInt64(c++);
    out.push_back(std::move(x));
  }
  return out;
}

absl::StatusOr<StoreReader::RecordedZone> StoreReader::LatestZone() {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kLatestZoneSql));
  RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
  RecordedZone z;
  if (row) {
    z.name = s.ColumnText(0);
    z.utc_offset_s = s.ColumnInt64(1);
  }
  return z;
}

}  // namespace relaytap::recorder::query
