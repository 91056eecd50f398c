#include "recorder/store.h"

#include "base/status_macros.h"
#include "base/str_cat.h"
#include "recorder/migrations.h"

namespace relaytap::recorder {
namespace {

constexpr std::string_view kInsertRunSql =
    "INSERT INTO runs (relaytap_version, schema_version, start_us, hostname, timezone, "
    "utc_offset_s, policy_hash, durability, pid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr std::string_view kFinishRunSql = "UPDATE runs SET stop_us = ?2 WHERE id = ?1";
constexpr std::string_view kInsertGapSql =
    "INSERT INTO gaps (run_id, from_us, to_us, dropped_observations, dropped_bytes, reason) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr std::string_view kConnectionOpenedSql =
    "INSERT INTO connections (run_id, connection_id, client_address, target_host, target_port, "
    "intercepted, tunnel, open_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (run_id, connection_id) DO UPDATE SET client_address = excluded.client_address, "
    "target_host = excluded.target_host, target_port = excluded.target_port, "
    "intercepted = excluded.intercepted, tunnel = excluded.tunnel, open_us = excluded.open_us";
constexpr std::string_view kConnectionClosedSql =
    "INSERT INTO connections (run_id, connection_id, upstream_address, close_us, dns_us, "
    "tcp_connect_us, upstream_tls_us, app_tls_us, app_tls_version, app_tls_cipher, app_tls_alpn, "
    "upstream_tls_version, upstream_tls_cipher, upstream_tls_alpn, bytes_up, bytes_down, "
    "close_reason, close_side, outcome, upstream_proxy, proxy_connect_us, upstream_proxy_status, "
    "upstream_tls_issuer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
    "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) "
    "ON CONFLICT (run_id, connection_id) DO UPDATE SET upstream_address = "
    "excluded.upstream_address, close_us = excluded.close_us, dns_us = excluded.dns_us, "
    "tcp_connect_us = excluded.tcp_connect_us, upstream_tls_us = excluded.upstream_tls_us, "
    "app_tls_us = excluded.app_tls_us, app_tls_version = excluded.app_tls_version, "
    "app_tls_cipher = excluded.app_tls_cipher, app_tls_alpn = excluded.app_tls_alpn, "
    "upstream_tls_version = excluded.upstream_tls_version, upstream_tls_cipher = "
    "excluded.upstream_tls_cipher, upstream_tls_alpn = excluded.upstream_tls_alpn, "
    "bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down, close_reason = "
    "excluded.close_reason, close_side = excluded.close_side, outcome = excluded.outcome, "
    "upstream_proxy = excluded.upstream_proxy, proxy_connect_us = excluded.proxy_connect_us, "
    "upstream_proxy_status = excluded.upstream_proxy_status, upstream_tls_issuer = "
    "excluded.upstream_tls_issuer";
constexpr std::string_view kInsertExchangeSql =
    "INSERT INTO exchanges (run_id, connection_id, sequence, method, host, path, resource, "
    "path_kind, deployment, model, api_version, transport, status, request_start_us, "
    "response_headers_us, first_body_byte_us, end_us, apim_request_id, x_request_id, "
    "x_ms_client_request_id, region, azureml_model_session, openai_processing_ms, ratelimit, "
    "retry_after, retry_after_ms, user_agent, stainless_lang, stainless_package_version, "
    "stainless_runtime, stainless_runtime_version, stainless_os, stainless_arch, retry_count, "
    "x_ms_useragent, auth_kind, jwt_exp, jwt_nbf, jwt_iat, upstream_date_us, clock_skew_ms, "
    "token_ttl_s, local_error_code, error_stage, error_reason, end_reason, error_type, "
    "error_code, outcome, request_headers, response_headers, request_body, response_body, "
    "sse_events, jwt_aud, jwt_tid, upstream_proxy_status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, "
    "?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, "
    "?49, ?50, ?51, ?52, ?53, ?54, ?55, ?56, ?57) ON CONFLICT (run_id, connection_id, sequence) DO "
    "NOTHING";
// The exchange and its session may arrive in either order; whichever comes second links them.
constexpr std::string_view kLinkSessionSql =
    "UPDATE ws_sessions SET exchange_id = (SELECT id FROM exchanges WHERE run_id = ?1 AND "
    "connection_id = ?2 AND sequence = ?3), open_us = MIN(COALESCE(open_us, ?4), ?4) "
    "WHERE run_id = ?1 AND connection_id = ?2 AND exchange_sequence = ?3";
constexpr std::string_view kInsertSessionSql =
    "INSERT INTO ws_sessions (run_id, connection_id, exchange_sequence, open_us, exchange_id) "
    "VALUES (?1, ?2, ?3, COALESCE((SELECT response_headers_us FROM exchanges WHERE run_id = ?1 "
    "AND connection_id = ?2 AND sequence = ?3), ?4), (SELECT id FROM exchanges WHERE run_id = ?1 "
    "AND connection_id = ?2 AND sequence = ?3)) ON CONFLICT (run_id, connection_id, "
    "exchange_sequence) DO NOTHING";
constexpr std::string_view kFindSessionSql =
    "SELECT id FROM ws_sessions WHERE run_id = ?1 AND connection_id = ?2 AND "
    "exchange_sequence = ?3";
constexpr std::string_view kSessionIdentitySql =
    "UPDATE ws_sessions SET session_id = ?2, model = ?3 WHERE id = ?1";
constexpr std::string_view kInsertEventSql =
    "INSERT INTO events (session_ref, seq, first_frame_us, last_frame_us, direction, opcode, "
    "wire_bytes, payload_bytes, frame_count, compressed, truncated, type, event_id, response_id, "
    "item_id, previous_item_id, error_type, error_code, error_event_id, response_status, "
    "status_error_type, status_error_code, audio_bytes, audio_ms, close_code, payload, "
    "close_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)";
constexpr std::string_view kUpdateRunSql =
    "UPDATE events SET last_frame_us = ?2, wire_bytes = ?3, payload_bytes = ?4, "
    "frame_count = ?5, audio_bytes = ?6, audio_ms = ?7, run_count = ?8, run_last_us = ?9, "
    "run_last_event_id = ?10, run_max_gap_us = ?11, run_fingerprint = ?12, run_detail = ?13 "
    "WHERE id = ?1";
constexpr std::string_view kCloseSessionSql =
    "UPDATE ws_sessions SET session_id = ?2, model = ?3, subprotocol = ?4, extensions = ?5, "
    "open_us = CASE WHEN ?6 IS NULL OR open_us <= ?6 THEN open_us ELSE ?6 END, close_us = ?7, "
    "close_code = ?8, close_reason = ?9, close_side = ?10, "
    "app_end = ?11, upstream_end = ?12, messages_up = ?13, messages_down = ?14, bytes_up = ?15, "
    "bytes_down = ?16, pings = ?17, pongs = ?18, ping_rtt_avg_ms = ?19, ping_rtt_max_ms = ?20, "
    "idle_before_close_ms = ?21, responses = ?22, failed_responses = ?23, error_events = ?24, "
    "first_error_type = ?25, first_error_code = ?26, first_failure_response_id = ?27, "
    "first_failure_us = ?28, tap_error = ?29, outcome = ?30 WHERE id = ?1";

constexpr std::string_view kInsertGuardDecisionSql =
    "INSERT INTO guard_decisions (run_id, at_us, key, mode, decision, reason, counts, "
    "connection_id, exchange_sequence, retry_after_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10)";

int64_t I(uint64_t v) { return static_cast<int64_t>(v); }
std::optional<int64_t> Timing(int64_t v) { return v < 0 ? std::nullopt : std::optional(v); }
std::optional<int64_t> NonZero(int64_t v) { return v == 0 ? std::nullopt : std::optional(v); }

}  // namespace

struct Store::Statements {
  sqlite::Statement insert_run, finish_run, insert_gap, conn_opened, conn_closed, insert_exchange,
      link_session, insert_session, find_session, session_identity, insert_event, update_run,
      close_session, insert_guard_decision;
};

Store::Store(std::unique_ptr<sqlite::Database> db, std::unique_ptr<Statements> st)
    : db_(std::move(db)), st_(std::move(st)) {}

Store::~Store() {
  st_.reset();  // statements before the connection
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, Durability durability) {
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db,
                            sqlite::Database::OpenOrCreate(path));
  RELAYTAP_RETURN_IF_ERROR(ApplyConnectionPragmas(*db, durability));
  RELAYTAP_RETURN_IF_ERROR(Migrate(*db));
  auto st = std::make_unique<Statements>();
  struct {
    sqlite::Statement* out;
    std::string_view sql;
  } const prepare[] = {
      {&st->insert_run, kInsertRunSql},
      {&st->finish_run, kFinishRunSql},
      {&st->insert_gap, kInsertGapSql},
      {&st->conn_opened, kConnectionOpenedSql},
      {&st->conn_closed, kConnectionClosedSql},
      {&st->insert_exchange, kInsertExchangeSql},
      {&st->link_session, kLinkSessionSql},
      {&st->insert_session, kInsertSessionSql},
      {&st->find_session, kFindSessionSql},
      {&st->session_identity, kSessionIdentitySql},
      {&st->insert_event, kInsertEventSql},
      {&st->update_run, kUpdateRunSql},
      {&st->close_session, kCloseSessionSql},
      {&st->insert_guard_decision, kInsertGuardDecisionSql},
  };
  for (const auto& p : prepare) {
    RELAYTAP_ASSIGN_OR_RETURN(*p.out, db->Prepare(p.sql));
  }
  return std::unique_ptr<Store>(new Store(std::move(db), std::move(st)));
}

absl::StatusOr<int64_t> Store::InsertRun(const RunInfo& run) {
  sqlite::Statement& s = st_->insert_run;
  s.BindText(1, run.relaytap_version);
  s.BindInt64(2, kSchemaVersion);
  s.BindInt64(3, run.start_us);
  s.BindTextOrNull(4, run.hostname);
  s.BindTextOrNull(5, run.timezone);
  s.BindInt64(6, run.utc_offset_s);
  s.BindTextOrNull(7, run.policy_hash);
  s.BindText(8, DurabilityName(run.durability));
  s.BindInt64(9, static_cast<int64_t>(getpid()));
  RELAYTAP_RETURN_IF_ERROR(s.Run());
  return db_->LastInsertRowId();
}

absl::Status Store::FinishRun(int64_t run_id, int64_t stop_us) {
  st_->finish_run.BindInt64(1, run_id);
  st_->finish_run.BindInt64(2, stop_us);
  return st_->finish_run.Run();
}

namespace {

// Binds ?2..?6 of a gaps statement: from_us, to_us, dropped_observations, dropped_bytes, reason.
void BindGap(sqlite::Statement& s, const DropStats& d, std::string_view reason) {
  s.BindOptionalInt64(2, NonZero(d.first_us));
  s.BindOptionalInt64(3, NonZero(d.last_us));
  s.BindInt64(4, I(d.observations));
  s.BindInt64(5, I(d.bytes));
  s.BindText(6, reason);
}

}  // namespace

absl::Status Store::InsertGap(int64_t run_id, const DropStats& d, std::string_view reason) {
  sqlite::Statement& s = st_->insert_gap;
  s.BindInt64(1, run_id);
  BindGap(s, d, reason);
  return s.Run();
}

absl::Status Store::UpdateGap(int64_t gap_id, const DropStats& d, std::string_view reason) {
  // Rare (a paused recorder, at most once a second): not worth a cached statement.
  RELAYTAP_ASSIGN_OR_RETURN(
      sqlite::Statement s,
      db_->Prepare("UPDATE gaps SET from_us = ?2, to_us = ?3, dropped_observations = ?4, "
                   "dropped_bytes = ?5, reason = ?6 WHERE id = ?1"));
  s.BindInt64(1, gap_id);
  BindGap(s, d, reason);
  return s.Run();
}

absl::Status Store::WriteConnectionOpened(int64_t run_id, const ConnectionOpened& c) {
  sqlite::Statement& s = st_->conn_opened;
  s.BindInt64(1, run_id);
  s.BindInt64(2, I(c.connection_id));
  s.BindText(3, c.client_address);
  s.BindText(4, c.target_host);
  s.BindInt64(5, c.target_port);
  s.BindBool(6, c.intercepted);
  s.BindBool(7, c.tunnel);
  s.BindInt64(8, c.open_us);
  return s.Run();
}

absl::Status Store::WriteConnectionClosed(int64_t run_id, const ConnectionClosed& c,
                                          const EndClass& end_class) {
  sqlite::Statement& s = st_->conn_closed;
  int i = 1;
  s.BindInt64(i++, run_id);
  s.BindInt64(i++, I(c.connection_id));
  s.BindTextOrNull(i++, c.upstream_address);
  s.BindInt64(i++, c.close_us);
  for (int64_t t : {c.dns_us, c.tcp_connect_us, c.upstream_tls_us, c.app_tls_us}) {
    s.BindOptionalInt64(i++, Timing(t));
  }
  for (const std::optional<TlsFacts>* tls : {&c.app_tls, &c.upstream_tls}) {
    s.BindTextOrNull(i++, *tls ? (*tls)->version : "");
    s.BindTextOrNull(i++, *tls ? (*tls)->cipher : "");
    s.BindTextOrNull(i++, *tls ? (*tls)->alpn : "");
  }
  s.BindInt64(i++, I(c.bytes_up));
  s.BindInt64(i++, I(c.bytes_down));
  s.BindTextOrNull(i++, EndText(c.end));
  s.BindTextOrNull(i++, EndSideName(end_class.side));
  s.BindText(i++, OutcomeName(end_class.outcome.value_or(Outcome::kOk)));
  s.BindTextOrNull(i++, c.upstream_proxy);
  s.BindOptionalInt64(i++, Timing(c.proxy_connect_us));
  s.BindOptionalInt64(i++, NonZero(c.proxy_status));
  s.BindTextOrNull(i++, c.upstream_tls ? c.upstream_tls->issuer : "");
  return s.Run();
}

absl::Status Store::WriteExchange(int64_t run_id, const ExchangeRow& row) {
  const Exchange& e = *row.ex;
  const ExchangeFacts& f = *row.facts;
  const std::string end_text = EndText(e.end);
  sqlite::Statement& s = st_->insert_exchange;
  int i = 1;
  s.BindInt64(i++, run_id);
  s.BindInt64(i++, I(e.connection_id));
  s.BindInt64(i++, e.sequence);
  s.BindText(i++, e.method);
  s.BindText(i++, e.host);
  s.BindText(i++, row.path);
  s.BindTextOrNull(i++, f.host.resource);
  s.BindText(i++, f.path.kind);
  s.BindTextOrNull(i++, f.path.deployment);
  s.BindTextOrNull(i++, f.path.model);
  s.BindTextOrNull(i++, f.path.api_version);
  s.BindText(i++, f.transport);
  s.BindOptionalInt64(i++, e.status ? std::optional<int64_t>(e.status) : std::nullopt);
  s.BindInt64(i++, e.request_start_us);
  for (int64_t t : {e.response_headers_us, e.first_body_byte_us, e.end_us}) {
    s.BindOptionalInt64(i++, NonZero(t));
  }
  for (const std::string* v :
       {&f.apim_request_id, &f.x_request_id, &f.x_ms_client_request_id, &f.region,
        &f.azureml_model_session, &f.openai_processing_ms, &f.ratelimit_json, &f.retry_after,
        &f.retry_after_ms, &f.user_agent, &f.stainless_lang, &f.stainless_package_version,
        &f.stainless_runtime, &f.stainless_runtime_version, &f.stainless_os, &f.stainless_arch}) {
    s.BindTextOrNull(i++, *v);
  }
  s.BindOptionalInt64(i++, f.retry_count);
  s.BindTextOrNull(i++, f.x_ms_useragent);
  s.BindText(i++, f.auth_kind);
  for (const std::optional<int64_t>* v : {&f.jwt.exp, &f.jwt.nbf, &f.jwt.iat, &f.upstream_date_us,
                                          &f.clock_skew_ms, &f.token_ttl_s}) {
    s.BindOptionalInt64(i++, *v);
  }
  for (std::string_view v : {std::string_view(e.local_error_code), std::string_view(e.error_stage),
                             std::string_view(row.error_reason), std::string_view(end_text),
                             std::string_view(f.error_type), std::string_view(f.error_code)}) {
    s.BindTextOrNull(i++, v);
  }
  s.BindText(i++, OutcomeName(f.outcome));
  for (const std::string* v : {&row.request_headers, &row.response_headers, &row.request_body,
                               &row.response_body, &row.sse_events, &row.jwt_aud, &row.jwt_tid}) {
    s.BindTextOrNull(i++, *v);
  }
  s.BindOptionalInt64(i++, NonZero(e.end.proxy_status));
  RELAYTAP_RETURN_IF_ERROR(s.Run());
  if (!e.switched) return absl::OkStatus();
  sqlite::Statement& link = st_->link_session;
  link.BindInt64(1, run_id);
  link.BindInt64(2, I(e.connection_id));
  link.BindInt64(3, e.sequence);
  link.BindInt64(4, e.response_headers_us ? e.response_headers_us : e.request_start_us);
  return link.Run();
}

absl::StatusOr<int64_t> Store::SessionRef(int64_t run_id, uint64_t connection_id,
                                          uint32_t exchange_sequence, int64_t open_us) {
  auto it = session_refs_.find(Key(connection_id, exchange_sequence));
  if (it != session_refs_.end()) return it->second;
  sqlite::Statement& ins = st_->insert_session;
  ins.BindInt64(1, run_id);
  ins.BindInt64(2, I(connection_id));
  ins.BindInt64(3, exchange_sequence);
  ins.BindInt64(4, open_us);
  RELAYTAP_RETURN_IF_ERROR(ins.Run());
  sqlite::Statement& find = st_->find_session;
  find.BindInt64(1, run_id);
  find.BindInt64(2, I(connection_id));
  find.BindInt64(3, exchange_sequence);
  absl::StatusOr<bool> row = find.Step();
  int64_t ref = row.ok() && *row ? find.ColumnInt64(0) : 0;
  find.Reset();
  if (!row.ok()) return row.status();
  if (ref == 0) return absl::InternalError("ws_sessions row missing after insert");
  session_refs_[Key(connection_id, exchange_sequence)] = ref;
  return ref;
}

absl::Status Store::UpdateSessionIdentity(int64_t ref, const SessionState& state) {
  sqlite::Statement& s = st_->session_identity;
  s.BindInt64(1, ref);
  s.BindTextOrNull(2, state.session_id);
  s.BindTextOrNull(3, state.model);
  return s.Run();
}

// Text is bound in place: `m`, `f`, `payload` and `close_reason` outlive the Run() below.
absl::Status Store::WriteEvent(int64_t ref, const WsMessage& m, const MessageFacts& f,
                               std::string_view payload, std::string_view close_reason) {
  sqlite::Statement& s = st_->insert_event;
  int i = 1;
  s.BindInt64(i++, ref);
  s.BindInt64(i++, I(m.sequence));
  s.BindInt64(i++, m.first_frame_us);
  s.BindInt64(i++, m.last_frame_us);
  s.BindTextInPlace(i++, m.direction == WsDirection::kClientToServer ? "client" : "server");
  s.BindInt64(i++, m.opcode);
  s.BindInt64(i++, I(m.wire_bytes));
  s.BindInt64(i++, I(m.payload_bytes));
  s.BindInt64(i++, m.frame_count);
  s.BindBool(i++, m.compressed);
  s.BindBool(i++, m.truncated());
  for (const std::string* v : {&f.type, &f.event_id, &f.response_id, &f.item_id,
                               &f.previous_item_id, &f.error_type, &f.error_code, &f.error_event_id,
                               &f.response_status, &f.status_error_type, &f.status_error_code}) {
    s.BindTextOrNullInPlace(i++, *v);
  }
  s.BindOptionalInt64(i++, f.audio_bytes);
  s.BindOptionalDouble(i++, f.audio_ms);
  s.BindOptionalInt64(i++, m.close_code ? std::optional<int64_t>(*m.close_code) : std::nullopt);
  s.BindTextOrNullInPlace(i++, payload);
  s.BindTextOrNullInPlace(i++, close_reason);
  return s.Run();  // resets: nothing bound in place is read after this
}

absl::Status Store::UpdateRun(const AudioRun& run) {
  sqlite::Statement& s = st_->update_run;
  int i = 1;
  s.BindInt64(i++, run.row_id);
  s.BindInt64(i++, run.last_frame_us);
  for (int64_t v : {run.wire_bytes, run.payload_bytes, run.frames}) s.BindInt64(i++, v);
  const bool audio = run.audio_bytes > 0 || run.audio_ms > 0;  // transcript runs: NULL
  s.BindOptionalInt64(i++, audio ? std::optional(run.audio_bytes) : std::nullopt);
  s.BindOptionalDouble(i++, audio ? std::optional(run.audio_ms) : std::nullopt);
  s.BindInt64(i++, I(run.count));
  s.BindInt64(i++, run.last.first_us);
  s.BindTextOrNull(i++, run.last_event_id);
  s.BindInt64(i++, run.max_gap_us);
  s.BindText(i++, run.fingerprint);
  s.BindBlob(i++, run.detail);
  return s.Run();
}

absl::Status Store::CloseSession(int64_t ref, const SessionCloseRow& row) {
  const SessionState& st = *row.state;
  const WsSessionClosed* c = row.closed;
  sqlite::Statement& s = st_->close_session;
  int i = 1;
  s.BindInt64(i++, ref);
  s.BindTextOrNull(i++, st.session_id);
  s.BindTextOrNull(i++, st.model);
  s.BindTextOrNull(i++, row.subprotocol);
  s.BindTextOrNull(i++, c ? c->extensions : "");
  s.BindOptionalInt64(i++, NonZero(st.open_us));
  s.BindOptionalInt64(i++, NonZero(row.close_us));
  s.BindOptionalInt64(i++, st.close_code ? std::optional<int64_t>(*st.close_code) : std::nullopt);
  s.BindTextOrNull(i++, row.close_reason);
  s.BindTextOrNull(i++, row.close_side);
  s.BindTextOrNull(i++, c ? PumpEndName(c->end.up) : "recorder_closed");
  s.BindTextOrNull(i++, c ? PumpEndName(c->end.down) : "recorder_closed");
  for (uint64_t v :
       {st.messages_up, st.messages_down, st.bytes_up, st.bytes_down, st.pings, st.pongs}) {
    s.BindInt64(i++, I(v));
  }
  s.BindOptionalDouble(i++, st.ping_rtt_avg_ms());
  s.BindOptionalDouble(i++, st.rtt_count ? std::optional(st.rtt_max_ms) : std::nullopt);
  s.BindOptionalDouble(i++, st.IdleBeforeCloseMs(row.close_us));
  for (uint64_t v : {st.responses, st.failed_responses, st.error_events}) s.BindInt64(i++, I(v));
  s.BindTextOrNull(i++, st.first_error_type);
  s.BindTextOrNull(i++, st.first_error_code);
  s.BindTextOrNull(i++, st.first_failure_response_id);
  s.BindOptionalInt64(i++, NonZero(st.first_failure_us));
  s.BindTextOrNull(i++, c ? c->tap_error : "");
  s.BindTextOrNull(i++, row.outcome);
  return s.Run();
}

absl::Status Store::WriteGuardDecision(int64_t run_id, const GuardDecision& g) {
  sqlite::Statement& s = st_->insert_guard_decision;
  s.BindInt64(1, run_id);
  s.BindInt64(2, g.at_us);
  s.BindText(3, g.key);
  s.BindText(4, g.mode);
  s.BindText(5, g.decision);
  s.BindTextOrNull(6, g.reason);
  s.BindTextOrNull(7, g.counts);
  if (g.connection_id != 0) {
    s.BindInt64(8, I(g.connection_id));
    s.BindInt64(9, g.exchange_sequence);
  } else {
    s.BindNull(8);
    s.BindNull(9);
  }
  s.BindInt64(10, g.retry_after_ms);
  return s.Run();
}

}  // namespace relaytap::recorder
