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

inline constexpr int kSchemaVersion = 4;

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

}  // namespace relaytap::recorder
