// StoreReader::Calls: the WebRTC call set-ups of a window (schema version 7), each with whether
// its token had expired before the call and how many sideband sessions joined it.
#include "base/status_macros.h"
#include "recorder/query/store_reader.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/statement.h"

namespace relaytap::recorder::query {
namespace {

constexpr std::string_view kHasCallsSql =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'calls'";

constexpr std::string_view kCallsSql =
    "SELECT c.start_us, COALESCE(c.exchange_id, 0), c.endpoint, COALESCE(c.host, ''), "
    "COALESCE(c.deployment, ''), c.outcome, "
    "COALESCE(NULLIF(c.error_code, ''), NULLIF(c.local_error_code, ''), ''), "
    "COALESCE(c.error_message, ''), COALESCE(c.call_id, ''), COALESCE(c.apim_request_id, ''), "
    "COALESCE(c.x_request_id, ''), COALESCE(c.region, ''), COALESCE(c.status, 0), c.answer_ms, "
    "CASE WHEN t.expires_at_us IS NULL THEN NULL ELSE t.expires_at_us <= c.start_us END, "
    "CASE WHEN c.call_id IS NULL THEN 0 ELSE "
    "(SELECT COUNT(*) FROM ws_sessions s WHERE s.call_id = c.call_id) END "
    "FROM calls c LEFT JOIN call_tokens t ON t.id = c.token_ref "
    "WHERE (?1 IS NULL OR c.start_us >= ?1) AND (?2 IS NULL OR c.start_us < ?2) "
    "ORDER BY c.start_us, c.id";

}  // namespace

absl::StatusOr<std::vector<Call>> StoreReader::Calls(const TimeWindow& window) {
  std::vector<Call> out;
  RELAYTAP_ASSIGN_OR_RETURN(int64_t has_calls, db_->QueryInt64(kHasCallsSql));
  if (has_calls == 0) return out;  // written before schema version 7
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, db_->Prepare(kCallsSql));
  s.BindOptionalInt64(1, window.since_us);
  s.BindOptionalInt64(2, window.until_us);
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Call c;
    int i = 0;
    c.start_us = s.ColumnInt64(i++);
    c.exchange_id = s.ColumnInt64(i++);
    for (std::string* text :
         {&c.endpoint, &c.host, &c.deployment, &c.outcome, &c.error_code, &c.error_message,
          &c.call_id, &c.apim_request_id, &c.x_request_id, &c.region}) {
      *text = s.ColumnText(i++);
    }
    c.status = static_cast<int>(s.ColumnInt64(i++));
    if (!s.ColumnIsNull(i)) c.answer_ms = s.ColumnDouble(i);
    ++i;
    if (std::optional<int64_t> expired = s.ColumnOptionalInt64(i++)) {
      c.token_expired_before_call = *expired != 0;
    }
    c.sideband_sessions = s.ColumnInt64(i++);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace relaytap::recorder::query
