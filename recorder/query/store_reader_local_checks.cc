// StoreReader::LocalChecks: the `probes` table (schema version 8), absent from older stores.
#include "base/status_macros.h"
#include "recorder/query/store_reader.h"
#include "recorder/sqlite/database.h"
#include "recorder/sqlite/statement.h"

namespace relaytap::recorder::query {
namespace {

constexpr std::string_view kHasTableSql =
    "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'probes'";
constexpr std::string_view kLocalChecksSql =
    "SELECT run_us, tool, url, COALESCE(host, ''), verdict, COALESCE(failed_stage, ''), "
    "COALESCE(ms, 0), COALESCE(session_id, ''), COALESCE(response_id, ''), "
    "COALESCE(apim_request_id, '') FROM probes "
    "WHERE (?1 IS NULL OR run_us >= ?1) AND (?2 IS NULL OR run_us < ?2) ORDER BY run_us, id";

}  // namespace

absl::StatusOr<std::vector<LocalCheck>> StoreReader::LocalChecks(const TimeWindow& window) {
  RELAYTAP_ASSIGN_OR_RETURN(int64_t has_table, db_->QueryInt64(kHasTableSql));
  std::vector<LocalCheck> out;
  if (has_table == 0) return out;
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, db_->Prepare(kLocalChecksSql));
  s.BindOptionalInt64(1, window.since_us);
  s.BindOptionalInt64(2, window.until_us);
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    LocalCheck c;
    c.run_us = s.ColumnInt64(0);
    c.tool = s.ColumnText(1);
    c.url = s.ColumnText(2);
    c.host = s.ColumnText(3);
    c.verdict = s.ColumnText(4);
    c.failed_stage = s.ColumnText(5);
    c.ms = s.ColumnInt64(6);
    c.session_id = s.ColumnText(7);
    c.response_id = s.ColumnText(8);
    c.apim_request_id = s.ColumnText(9);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace relaytap::recorder::query
