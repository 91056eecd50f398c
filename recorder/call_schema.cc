// Schema version 7: WebRTC calls (recorder/call_facts.h). Kept apart from schema.cc, whose
// versions 1-6 it builds on; declared in schema.h like every step.
#include "recorder/schema.h"
#include "recorder/sqlite/database.h"

namespace relaytap::recorder {
namespace {

#define RELAYTAP_UTC(col) "strftime('%Y-%m-%dT%H:%M:%fZ', (" col ") / 1000000.0, 'unixepoch')"

constexpr std::string_view kUpgradeV6ToV7 =
    "CREATE TABLE call_tokens (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  connection_id INTEGER NOT NULL,\n"
    "  exchange_sequence INTEGER NOT NULL,\n"
    "  exchange_id INTEGER REFERENCES exchanges(id),\n"
    "  endpoint TEXT NOT NULL,\n"
    "  issued_us INTEGER NOT NULL,\n"
    "  host TEXT,\n"
    "  deployment TEXT,\n"
    "  model TEXT,\n"
    "  status INTEGER,\n"
    "  token_fp TEXT,\n"
    "  expires_at_us INTEGER,\n"
    "  session_id TEXT,\n"
    "  apim_request_id TEXT,\n"
    "  x_request_id TEXT,\n"
    "  region TEXT\n"
    ");\n"
    "CREATE INDEX call_tokens_by_fp ON call_tokens(token_fp);\n"
    "CREATE TABLE calls (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  connection_id INTEGER NOT NULL,\n"
    "  exchange_sequence INTEGER NOT NULL,\n"
    "  exchange_id INTEGER REFERENCES exchanges(id),\n"
    "  endpoint TEXT NOT NULL,\n"
    "  start_us INTEGER NOT NULL,\n"
    "  answer_us INTEGER,\n"
    "  answer_ms REAL,\n"
    "  host TEXT,\n"
    "  resource TEXT,\n"
    "  deployment TEXT,\n"
    "  model TEXT,\n"
    "  api_version TEXT,\n"
    "  status INTEGER,\n"
    "  outcome TEXT NOT NULL,\n"
    "  error_type TEXT,\n"
    "  error_code TEXT,\n"
    "  error_message TEXT,\n"
    "  local_error_code TEXT,\n"
    "  apim_request_id TEXT,\n"
    "  x_request_id TEXT,\n"
    "  x_ms_client_request_id TEXT,\n"
    "  region TEXT,\n"
    "  call_id TEXT,\n"
    "  auth_kind TEXT,\n"
    "  token_fp TEXT,\n"
    "  token_ref INTEGER REFERENCES call_tokens(id),\n"
    "  request_format TEXT,\n"
    "  offer_media INTEGER,\n"
    "  offer_candidates INTEGER,\n"
    "  answer_media INTEGER,\n"
    "  answer_candidates INTEGER,\n"
    "  fingerprint_algorithm TEXT,\n"
    "  offer_shape TEXT,\n"
    "  answer_shape TEXT\n"
    ");\n"
    "CREATE INDEX calls_by_call_id ON calls(call_id);\n"
    "ALTER TABLE ws_sessions ADD COLUMN call_id TEXT;\n"
    "CREATE INDEX ws_sessions_by_call_id ON ws_sessions(call_id) WHERE call_id IS NOT NULL;\n"
    // One row per call set-up with its token and sideband sessions: whether the token had
    // expired before the call is a column, not a computation.
    "CREATE VIEW v_calls AS SELECT " RELAYTAP_UTC("c.start_us") " AS time_utc, c.endpoint, "
    "c.host, c.deployment, c.status, c.outcome, "
    "COALESCE(NULLIF(c.error_code, ''), NULLIF(c.local_error_code, '')) AS error_code, "
    "c.error_message, c.call_id, "
    "c.answer_ms, c.apim_request_id, c.x_request_id, c.region, c.offer_media, "
    "c.offer_candidates, c.answer_media, c.answer_candidates, c.fingerprint_algorithm, "
    "c.token_fp, " RELAYTAP_UTC("t.issued_us") " AS token_issued_utc, "
    RELAYTAP_UTC("t.expires_at_us") " AS token_expires_utc, "
    "CASE WHEN t.expires_at_us IS NULL THEN NULL ELSE t.expires_at_us <= c.start_us END "
    "AS token_expired_before_call, "
    "(SELECT COUNT(*) FROM ws_sessions s WHERE s.call_id = c.call_id) AS sideband_sessions, "
    "(SELECT MIN(s.id) FROM ws_sessions s WHERE s.call_id = c.call_id) AS sideband_session_ref, "
    "c.run_id, c.connection_id, c.exchange_id, c.id AS call_ref "
    "FROM calls c LEFT JOIN call_tokens t ON t.id = c.token_ref;\n";

#undef RELAYTAP_UTC

}  // namespace

absl::Status UpgradeSchemaV6ToV7(sqlite::Database& db) { return db.Execute(kUpgradeV6ToV7); }

}  // namespace relaytap::recorder
