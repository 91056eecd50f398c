#include "recorder/local_checks.h"

#include "base/status_macros.h"
#include "recorder/sqlite/statement.h"
#include "recorder/sqlite/transaction.h"
#include "recorder/store.h"

namespace relaytap::recorder {
namespace {

constexpr std::string_view kInsertSql =
    "INSERT INTO probes (run_us, tool, url, host, verdict, failed_stage, ms, stages, session_id, "
    "response_id, apim_request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

}  // namespace

absl::Status AppendLocalChecks(const std::string& path, const std::vector<LocalCheckRow>& rows) {
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(path, Durability::kNormal));
  sqlite::Database& db = store->db();
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement insert, db.Prepare(kInsertSql));
  sqlite::Transaction tx(db);
  RELAYTAP_RETURN_IF_ERROR(tx.Begin());
  for (const LocalCheckRow& r : rows) {
    insert.BindInt64(1, r.run_us);
    insert.BindText(2, r.tool);
    insert.BindText(3, r.url);
    insert.BindTextOrNull(4, r.host);
    insert.BindText(5, r.ok ? "ok" : "failed");
    insert.BindTextOrNull(6, r.failed_stage);
    insert.BindInt64(7, r.ms);
    insert.BindText(8, r.stages);
    insert.BindTextOrNull(9, r.session_id);
    insert.BindTextOrNull(10, r.response_id);
    insert.BindTextOrNull(11, r.apim_request_id);
    RELAYTAP_RETURN_IF_ERROR(insert.Run());
  }
  return tx.Commit();
}

}  // namespace relaytap::recorder
