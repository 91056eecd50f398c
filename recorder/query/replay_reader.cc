#include "recorder/query/replay_reader.h"

#include <sqlite3.h>

#include <algorithm>

#include "base/status_macros.h"
#include "base/str_cat.h"
#include "nlohmann/json.hpp"
#include "recorder/query/run_detail.h"
#include "recorder/query/store_reader.h"
#include "recorder/sqlite/database.h"

namespace relaytap::recorder::query {
namespace {

using recorder::sqlite::Database;
using recorder::sqlite::Statement;

// A session's exchange is found by (run, connection, sequence): exchange_id may be unset when the
// recorder wrote the session first.
constexpr std::string_view kListSql =
    "SELECT 'session', s.id, COALESCE(s.open_us, e.request_start_us, 0), "
    "COALESCE(s.session_id, ''), COALESCE(e.method, ''), COALESCE(e.host, ''), "
    "COALESCE(e.path, ''), COALESCE(e.deployment, s.model, e.model, ''), e.status, "
    "COALESCE(e.transport, ''), COALESCE(s.outcome, '') "
    "FROM ws_sessions s LEFT JOIN exchanges e ON e.run_id = s.run_id AND "
    "e.connection_id = s.connection_id AND e.sequence = s.exchange_sequence "
    "UNION ALL "
    "SELECT 'exchange', e.id, e.request_start_us, '', COALESCE(e.method, ''), "
    "COALESCE(e.host, ''), COALESCE(e.path, ''), COALESCE(e.deployment, e.model, ''), e.status, "
    "COALESCE(e.transport, ''), e.outcome FROM exchanges e WHERE NOT EXISTS (SELECT 1 FROM "
    "ws_sessions s WHERE s.run_id = e.run_id AND s.connection_id = e.connection_id AND "
    "s.exchange_sequence = e.sequence) "
    "ORDER BY 3, 1, 2";
constexpr std::string_view kExchangeSql =
    "SELECT id, COALESCE(method, ''), COALESCE(host, ''), COALESCE(path, ''), "
    "COALESCE(transport, ''), COALESCE(status, 0), request_start_us, "
    "COALESCE(response_headers_us, 0), COALESCE(response_headers, ''), "
    "COALESCE(response_body, ''), COALESCE(sse_events, ''), COALESCE(end_reason, ''), outcome, "
    "COALESCE(apim_request_id, ''), COALESCE(x_request_id, '') FROM exchanges WHERE id = ?1";
constexpr std::string_view kSessionSql =
    "SELECT s.id, COALESCE(s.session_id, ''), COALESCE(s.model, ''), "
    "COALESCE(s.subprotocol, ''), COALESCE(s.open_us, 0), COALESCE(s.close_us, 0), s.close_code, "
    "COALESCE(s.close_reason, ''), COALESCE(s.close_side, ''), COALESCE(s.app_end, ''), "
    "COALESCE(s.upstream_end, ''), COALESCE(s.outcome, ''), e.id FROM ws_sessions s "
    "LEFT JOIN exchanges e ON e.run_id = s.run_id AND e.connection_id = s.connection_id AND "
    "e.sequence = s.exchange_sequence WHERE s.id = ?1";
constexpr std::string_view kSessionBySessionIdSql =
    "SELECT id FROM ws_sessions WHERE session_id = ?1 ORDER BY id LIMIT 1";
constexpr std::string_view kEventsSql =
    "SELECT seq, first_frame_us, direction, opcode, COALESCE(payload_bytes, 0), "
    "COALESCE(truncated, 0), COALESCE(type, ''), COALESCE(event_id, ''), "
    "COALESCE(response_id, ''), COALESCE(item_id, ''), "
    "COALESCE(error_type, status_error_type, ''), COALESCE(error_code, status_error_code, ''), "
    "COALESCE(response_status, ''), audio_bytes, audio_ms, close_code, COALESCE(payload, ''), "
    "COALESCE(run_count, 0), run_detail, COALESCE(run_last_event_id, '') "
    "FROM events WHERE session_ref = ?1 ORDER BY seq";
constexpr std::string_view kAllSessionsSql = "SELECT id FROM ws_sessions ORDER BY open_us, id";
constexpr std::string_view kAllExchangesSql =
    "SELECT e.id FROM exchanges e WHERE NOT EXISTS (SELECT 1 FROM ws_sessions s WHERE "
    "s.run_id = e.run_id AND s.connection_id = e.connection_id AND "
    "s.exchange_sequence = e.sequence) ORDER BY e.request_start_us, e.id";

// "12" -> 12; anything else -> nullopt.
std::optional<int64_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

HeaderList ParseHeaders(const std::string& text) {
  HeaderList out;
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return out;
  for (const auto& h : doc) {
    if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string()) {
      out.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
  }
  return out;
}

// The members of a run row `run` (first message's columns, totals), each as its own event.
absl::Status AppendRunMembers(const RecordedEvent& run, const std::string& detail,
                              const std::string& last_event_id, std::vector<RecordedEvent>& out) {
  RELAYTAP_ASSIGN_OR_RETURN(
      std::vector<RunMember> members,
      DecodeRunDetail(detail, static_cast<uint64_t>(run.seq), run.first_frame_us));
  for (size_t i = 0; i < members.size(); ++i) {
    RecordedEvent e = run;
    e.run_count = static_cast<int64_t>(members.size());
    e.seq = static_cast<int64_t>(members[i].seq);
    e.first_frame_us = members[i].first_us;
    e.payload_bytes = members[i].payload_bytes;
    if (run.audio_bytes) {
      e.audio_bytes = members[i].audio_bytes;
      e.audio_ms = static_cast<double>(members[i].audio_bytes) / 48.0;  // pcm16 24 kHz mono
    }
    if (i > 0) e.event_id = i + 1 == members.size() ? last_event_id : "";
    out.push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> Ids(Database& db, std::string_view sql) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  std::vector<int64_t> ids;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ids.push_back(s.ColumnInt64(0));
  }
  return ids;
}

}  // namespace

ReplayReader::ReplayReader(std::unique_ptr<Database> db) : db_(std::move(db)) {}
ReplayReader::~ReplayReader() = default;

absl::StatusOr<std::unique_ptr<ReplayReader>> ReplayReader::Open(const std::string& path) {
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenStoreReadOnly(path));
  auto reader = std::unique_ptr<ReplayReader>(new ReplayReader(std::move(db)));
  reader->path_ = path;
  return reader;
}

absl::StatusOr<std::vector<ListEntry>> ReplayReader::List() {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kListSql));
  std::vector<ListEntry> out;
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ListEntry e;
    e.kind = s.ColumnText(0);
    e.id = s.ColumnInt64(1);
    e.time_us = s.ColumnInt64(2);
    e.session_id = s.ColumnText(3);
    e.method = s.ColumnText(4);
    e.host = s.ColumnText(5);
    e.path = s.ColumnText(6);
    e.deployment = s.ColumnText(7);
    e.status = s.ColumnOptionalInt64(8);
    e.transport = s.ColumnText(9);
    e.outcome = s.ColumnText(10);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<ReplayExchange> ReplayReader::ExchangeById(int64_t id) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kExchangeSql));
  s.BindInt64(1, id);
  RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(StrCat("no exchange ", id, " in ", path_));
  ReplayExchange x;
  x.id = s.ColumnInt64(0);
  x.method = s.ColumnText(1);
  x.host = s.ColumnText(2);
  x.path = s.ColumnText(3);
  x.transport = s.ColumnText(4);
  x.status = static_cast<int>(s.ColumnInt64(5));
  x.request_start_us = s.ColumnInt64(6);
  x.response_headers_us = s.ColumnInt64(7);
  x.response_headers = ParseHeaders(s.ColumnText(8));
  x.response_body = s.ColumnText(9);
  x.sse_events = s.ColumnText(10);
  x.end_reason = s.ColumnText(11);
  x.outcome = s.ColumnText(12);
  x.apim_request_id = s.ColumnText(13);
  x.x_request_id = s.ColumnText(14);
  return x;
}

absl::StatusOr<ReplayExchange> ReplayReader::LoadExchange(const std::string& id) {
  std::optional<int64_t> n = ParseId(id);
  if (!n)
    return absl::NotFoundError(
        StrCat("no exchange '", id, "' in ", path_, " (exchange ids are numbers; see --list)"));
  return ExchangeById(*n);
}

absl::StatusOr<RecordedSession> ReplayReader::SessionById(int64_t id) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kSessionSql));
  s.BindInt64(1, id);
  RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(StrCat("no session ", id, " in ", path_));
  RecordedSession r;
  r.id = s.ColumnInt64(0);
  r.session_id = s.ColumnText(1);
  r.model = s.ColumnText(2);
  r.subprotocol = s.ColumnText(3);
  r.open_us = s.ColumnInt64(4);
  r.close_us = s.ColumnInt64(5);
  r.close_code = s.ColumnOptionalInt64(6);
  r.close_reason = s.ColumnText(7);
  r.close_side = s.ColumnText(8);
  r.app_end = s.ColumnText(9);
  r.upstream_end = s.ColumnText(10);
  r.outcome = s.ColumnText(11);
  std::optional<int64_t> exchange = s.ColumnOptionalInt64(12);
  s.Reset();
  if (exchange) {
    RELAYTAP_ASSIGN_OR_RETURN(ReplayExchange x, ExchangeById(*exchange));
    r.upgrade = std::move(x);
  }
  RELAYTAP_RETURN_IF_ERROR(LoadEvents(r));
  return r;
}

absl::Status ReplayReader::LoadEvents(RecordedSession& session) {
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kEventsSql));
  s.BindInt64(1, session.id);
  for (;;) {
    RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    RecordedEvent e;
    e.seq = s.ColumnInt64(0);
    e.first_frame_us = s.ColumnInt64(1);
    e.from_client = s.ColumnText(2) == "client";
    e.opcode = static_cast<int>(s.ColumnInt64(3));
    e.payload_bytes = s.ColumnInt64(4);
    e.truncated = s.ColumnInt64(5) != 0;
    e.type = s.ColumnText(6);
    e.event_id = s.ColumnText(7);
    e.response_id = s.ColumnText(8);
    e.item_id = s.ColumnText(9);
    e.error_type = s.ColumnText(10);
    e.error_code = s.ColumnText(11);
    e.response_status = s.ColumnText(12);
    e.audio_bytes = s.ColumnOptionalInt64(13);
    if (!s.ColumnIsNull(14)) e.audio_ms = s.ColumnDouble(14);
    e.close_code = s.ColumnOptionalInt64(15);
    e.payload = s.ColumnText(16);
    e.run_count = s.ColumnInt64(17);
    if (e.run_count > 1) {
      RELAYTAP_RETURN_IF_ERROR(
          AppendRunMembers(e, s.ColumnBlob(18), s.ColumnText(19), session.events));
    } else {
      e.run_count = 0;
      session.events.push_back(std::move(e));
    }
  }
  // Runs of the two directions (and of different kinds) interleave: order members by seq.
  std::stable_sort(session.events.begin(), session.events.end(),
                   [](const RecordedEvent& a, const RecordedEvent& b) { return a.seq < b.seq; });
  return absl::OkStatus();
}

absl::StatusOr<RecordedSession> ReplayReader::LoadSession(const std::string& key) {
  if (std::optional<int64_t> n = ParseId(key)) return SessionById(*n);
  RELAYTAP_ASSIGN_OR_RETURN(Statement s, db_->Prepare(kSessionBySessionIdSql));
  s.BindText(1, key);
  RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(StrCat("no session '", key, "' in ", path_));
  int64_t id = s.ColumnInt64(0);
  s.Reset();
  return SessionById(id);
}

absl::Status ReplayReader::LoadAll(std::vector<RecordedSession>* sessions,
                                   std::vector<ReplayExchange>* exchanges) {
  RELAYTAP_ASSIGN_OR_RETURN(std::vector<int64_t> sids, Ids(*db_, kAllSessionsSql));
  for (int64_t id : sids) {
    RELAYTAP_ASSIGN_OR_RETURN(RecordedSession s, SessionById(id));
    sessions->push_back(std::move(s));
  }
  RELAYTAP_ASSIGN_OR_RETURN(std::vector<int64_t> xids, Ids(*db_, kAllExchangesSql));
  for (int64_t id : xids) {
    RELAYTAP_ASSIGN_OR_RETURN(ReplayExchange x, ExchangeById(id));
    exchanges->push_back(std::move(x));
  }
  return absl::OkStatus();
}

}  // namespace relaytap::recorder::query
