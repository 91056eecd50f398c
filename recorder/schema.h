#pragma once
// The store's schema: the current version, the DDL of version 1, and the connection pragmas.
// Timestamps are INTEGER UTC microseconds (`*_us`); the views render them as ISO-8601 with a
// timezone ("2025-01-31T08:00:00.123Z", and local time with the run's UTC offset).

#include <string_view>

#include "absl/status/status.h"

namespace relaytap::recorder {

namespace sqlite {
class Database;
}

inline constexpr int kSchemaVersion = 8;

enum class Durability {
  kNormal,  // synchronous=NORMAL: a power loss may lose the last commits; kill -9 loses nothing
            // committed (WAL).
  kFull,    // synchronous=FULL: every committed batch survives a power loss.
};
std::string_view DurabilityName(Durability d);

// Applies the per-connection pragmas: journal_mode=WAL, synchronous, foreign_keys=ON,
// busy_timeout. Errors name the pragma.
absl::Status ApplyConnectionPragmas(sqlite::Database& db, Durability durability);

// The DDL of schema version 1: tables, indexes and views (no meta rows).
absl::Status CreateSchemaV1(sqlite::Database& db);

// Version 2 on top of version 1: guard_decisions gains mode, connection_id, exchange_sequence
// and retry_after_ms (+ an index), and the view v_guard_decisions joins each decision to its
// exchange.
absl::Status UpgradeSchemaV1ToV2(sqlite::Database& db);

// Version 3 on top of version 2: v_failures shows relaytap's own error code for the exchanges it
// answered itself (error_code falls back to it) and gains a last column, local_error_code.
absl::Status UpgradeSchemaV2ToV3(sqlite::Database& db);

// Version 4 on top of version 3 (new columns are NULL in rows written before):
//   events.close_reason   the reason text of every close frame (opcode 8), either direction,
//                         secrets scrubbed and length capped like ws_sessions.close_reason
//                         (which keeps only the first close frame's)
//   exchanges.jwt_aud     a bearer JWT's `aud` claim and
//   exchanges.jwt_tid     its `tid` claim (Entra tenant), read locally: kept as text only when
//                         it is an identifier (tid a GUID; aud an https:// or api:// URL or a
//                         GUID), else its fingerprint. The token itself is never stored.
absl::Status UpgradeSchemaV3ToV4(sqlite::Database& db);

// Version 5 on top of version 4: a run of audio events (recorder/audio_run.h) is one events row
// with the first message's columns and payload, totals in payload_bytes / wire_bytes /
// frame_count / audio_bytes / audio_ms, and (NULL on every other row):
//   events.run_count          members (>= 2)
//   events.run_last_us        the last member's first_frame_us (last_frame_us is its last frame)
//   events.run_last_event_id  the last member's event_id (event_id is the first's)
//   events.run_max_gap_us     the largest time between two members
//   events.run_fingerprint    keyed fingerprint of the members' content fingerprints in order
//   events.run_detail         BLOB of varints: each member's seq, arrival and sizes
// v_session_timeline gains count, span_ms, last_event_id and line ("200 × type over 4.0 s").
absl::Status UpgradeSchemaV4ToV5(sqlite::Database& db);

// Version 6 on top of version 5, the upstream proxy hop (NULL in rows written before, and when no
// --upstream-proxy was used):
//   connections.upstream_proxy         HOST:PORT of the upstream proxy (never its credentials)
//   connections.proxy_connect_us       CONNECT sent until its 2xx was read
//   connections.upstream_proxy_status  the proxy's status to CONNECT (200, 407, 403, 503, ...)
//   connections.upstream_tls_issuer    subject of the trust anchor of the upstream TLS chain
//                                      (RFC 2253): a TLS-inspecting proxy's CA shows here
//   exchanges.upstream_proxy_status    the proxy's status when the exchange's dial failed there
// v_failures gains two last columns, upstream_proxy and upstream_proxy_status.
absl::Status UpgradeSchemaV5ToV6(sqlite::Database& db);

// Version 7 on top of version 6, WebRTC calls (recorder/call_facts.h; defined in call_schema.cc):
//   call_tokens           one row per ephemeral-token issuance (client_secrets, preview and beta
//                         sessions): its keyed fingerprint (never the token), expiry, session id
//   calls                 one row per call set-up (POST …/realtime/calls, …/v1/realtimertc): the
//                         outcome, Azure's correlation headers, the call id from Location, the
//                         answer's latency, the offer's and answer's SDP shape (never addresses,
//                         ports, ICE credentials or fingerprint values) and token_ref, the
//                         issuance of the token it used (by fingerprint)
//   ws_sessions.call_id   the call a sideband WebSocket (`?call_id=rtc_…`) joined (indexed where
//                         set)
//   v_calls               calls with their token's expiry and their sideband sessions
// Version 8 on top of version 7, the local checks `relaytap probe --db` ran (one row per run):
//   probes (id, run_us, tool 'probe', url with secret query values "<redacted>", host,
//           verdict 'ok'|'failed', failed_stage, ms, stages: compact JSON
//           [{"name","status","ms","detail","error"}], session_id, response_id,
//           apim_request_id), indexed by run_us.
absl::Status UpgradeSchemaV6ToV7(sqlite::Database& db);
absl::Status UpgradeSchemaV7ToV8(sqlite::Database& db);

}  // namespace relaytap::recorder
