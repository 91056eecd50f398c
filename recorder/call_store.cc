#include "recorder/call_store.h"

#include "base/status_macros.h"
#include "recorder/call_facts.h"
#include "recorder/sqlite/statement.h"
#include "redact/sdp_shape.h"

namespace relaytap::recorder {
namespace {

constexpr std::string_view kInsertTokenSql =
    "INSERT INTO call_tokens (run_id, connection_id, exchange_sequence, exchange_id, endpoint, "
    "issued_us, host, deployment, model, status, token_fp, expires_at_us, session_id, "
    "apim_request_id, x_request_id, region) VALUES (?1, ?2, ?3, "
    "(SELECT id FROM exchanges WHERE run_id = ?1 AND connection_id = ?2 AND sequence = ?3), "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

// The latest issuance of the token a set-up used.
constexpr std::string_view kFindTokenSql =
    "SELECT id, expires_at_us, deployment FROM call_tokens WHERE token_fp = ?1 "
    "ORDER BY issued_us DESC, id DESC LIMIT 1";

constexpr std::string_view kInsertCallSql =
    "INSERT INTO calls (run_id, connection_id, exchange_sequence, exchange_id, endpoint, "
    "start_us, answer_us, answer_ms, host, resource, deployment, model, api_version, status, "
    "outcome, error_type, error_code, error_message, local_error_code, apim_request_id, "
    "x_request_id, x_ms_client_request_id, region, call_id, auth_kind, token_fp, token_ref, "
    "request_format, offer_media, offer_candidates, answer_media, answer_candidates, "
    "fingerprint_algorithm, offer_shape, answer_shape) VALUES (?1, ?2, ?3, "
    "(SELECT id FROM exchanges WHERE run_id = ?1 AND connection_id = ?2 AND sequence = ?3), "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
    "?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)";

constexpr std::string_view kSidebandSql = "UPDATE ws_sessions SET call_id = ?2 WHERE id = ?1";

std::optional<int64_t> NonZero(int64_t v) { return v == 0 ? std::nullopt : std::optional(v); }

// ?1..?3: the exchange's run, connection and sequence (the exchange_id subquery reads them).
void BindExchangeKey(sqlite::Statement& s, int64_t run_id, const Exchange& ex) {
  s.BindInt64(1, run_id);
  s.BindInt64(2, static_cast<int64_t>(ex.connection_id));
  s.BindInt64(3, ex.sequence);
}

std::string FirstNonEmpty(std::initializer_list<std::string_view> values) {
  for (std::string_view v : values) {
    if (!v.empty()) return std::string(v);
  }
  return "";
}

absl::Status WriteToken(sqlite::Database& db, const Redactor& redactor, int64_t run_id,
                        const Exchange& ex, const ExchangeFacts& f, CallEndpoint endpoint) {
  const TokenFacts t = ReadTokenFacts(ex);
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, db.Prepare(kInsertTokenSql));
  BindExchangeKey(s, run_id, ex);
  int i = 4;
  s.BindText(i++, CallEndpointName(endpoint));
  s.BindInt64(i++, ex.request_start_us);
  s.BindTextOrNull(i++, ex.host);
  s.BindTextOrNull(i++, FirstNonEmpty({f.path.deployment, redactor.Identifier(t.model)}));
  s.BindTextOrNull(i++, redactor.Identifier(t.model));
  s.BindOptionalInt64(i++, NonZero(ex.status));
  s.BindTextOrNull(i++, t.token.empty() ? "" : redactor.Fingerprint(t.token));
  s.BindOptionalInt64(i++,
                      t.expires_at_s ? std::optional(*t.expires_at_s * 1'000'000) : std::nullopt);
  s.BindTextOrNull(i++, redactor.Identifier(t.session_id));
  for (const std::string* v : {&f.apim_request_id, &f.x_request_id, &f.region}) {
    s.BindTextOrNull(i++, *v);
  }
  return s.Run();
}

struct TokenLink {
  std::optional<int64_t> ref, expires_at_us;
  std::string deployment;
};

absl::StatusOr<TokenLink> FindToken(sqlite::Database& db, std::string_view token_fp) {
  TokenLink link;
  if (token_fp.empty()) return link;
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, db.Prepare(kFindTokenSql));
  s.BindText(1, token_fp);
  RELAYTAP_ASSIGN_OR_RETURN(bool row, s.Step());
  if (row) {
    link.ref = s.ColumnInt64(0);
    link.expires_at_us = s.ColumnOptionalInt64(1);
    link.deployment = s.ColumnText(2);
  }
  return link;
}

// Binds the offer's and the answer's shapes (?28..?34).
void BindShapes(sqlite::Statement& s, int i, const CallFacts& c) {
  const auto media = [](const std::optional<redact::SdpShape>& sh) {
    return sh ? std::optional<int64_t>(sh->media_total) : std::nullopt;
  };
  const auto candidates = [](const std::optional<redact::SdpShape>& sh) {
    return sh ? std::optional<int64_t>(sh->candidates.total) : std::nullopt;
  };
  s.BindOptionalInt64(i++, media(c.offer));
  s.BindOptionalInt64(i++, candidates(c.offer));
  s.BindOptionalInt64(i++, media(c.answer));
  s.BindOptionalInt64(i++, candidates(c.answer));
  std::string alg;
  for (const auto* sh : {&c.offer, &c.answer}) {
    if (*sh && alg.empty() && !(*sh)->fingerprint_algorithms.empty()) {
      alg = (*sh)->fingerprint_algorithms.front();
    }
  }
  s.BindTextOrNull(i++, alg);
  s.BindTextOrNull(i++, c.offer ? redact::SdpShapeJson(*c.offer) : "");
  s.BindTextOrNull(i++, c.answer ? redact::SdpShapeJson(*c.answer) : "");
}

absl::Status WriteCall(sqlite::Database& db, const Redactor& redactor, int64_t run_id,
                       const Exchange& ex, const ExchangeFacts& f, CallEndpoint endpoint) {
  const CallFacts c = ReadCallFacts(ex);
  const std::string token_fp = c.bearer_token.empty() ? "" : redactor.Fingerprint(c.bearer_token);
  RELAYTAP_ASSIGN_OR_RETURN(TokenLink token, FindToken(db, token_fp));
  const CallOutcome outcome = ClassifyCall(ex, f, c, token.expires_at_us);
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, db.Prepare(kInsertCallSql));
  BindExchangeKey(s, run_id, ex);
  int i = 4;
  s.BindText(i++, CallEndpointName(endpoint));
  s.BindInt64(i++, ex.request_start_us);
  s.BindOptionalInt64(i++, NonZero(ex.response_headers_us));
  s.BindOptionalDouble(
      i++, ex.response_headers_us
               ? std::optional<double>(
                     static_cast<double>(ex.response_headers_us - ex.request_start_us) / 1000.0)
               : std::nullopt);
  s.BindTextOrNull(i++, ex.host);
  s.BindTextOrNull(i++, f.host.resource);
  s.BindTextOrNull(i++, FirstNonEmpty({f.path.deployment, f.path.model,
                                       redactor.Identifier(c.session_model), token.deployment}));
  s.BindTextOrNull(i++, FirstNonEmpty({f.path.model, redactor.Identifier(c.session_model)}));
  s.BindTextOrNull(i++, f.path.api_version);
  s.BindOptionalInt64(i++, NonZero(ex.status));
  s.BindText(i++, CallOutcomeName(outcome));
  s.BindTextOrNull(i++, f.error_type);
  s.BindTextOrNull(i++, f.error_code);
  s.BindTextOrNull(i++, redactor.ScrubbedText(c.error_message));
  s.BindTextOrNull(i++, ex.local_error_code);
  for (const std::string* v :
       {&f.apim_request_id, &f.x_request_id, &f.x_ms_client_request_id, &f.region}) {
    s.BindTextOrNull(i++, *v);
  }
  s.BindTextOrNull(i++, redactor.Identifier(c.call_id));
  s.BindTextOrNull(i++, f.auth_kind);
  s.BindTextOrNull(i++, token_fp);
  s.BindOptionalInt64(i++, token.ref);
  s.BindTextOrNull(i++, c.request_format);
  BindShapes(s, i, c);
  return s.Run();
}

absl::Status LinkSideband(Store& store, const Redactor& redactor, int64_t run_id,
                          const Exchange& ex, const std::string& call_id) {
  const int64_t open_us = ex.response_headers_us ? ex.response_headers_us : ex.request_start_us;
  RELAYTAP_ASSIGN_OR_RETURN(int64_t ref,
                            store.SessionRef(run_id, ex.connection_id, ex.sequence, open_us));
  RELAYTAP_ASSIGN_OR_RETURN(sqlite::Statement s, store.db().Prepare(kSidebandSql));
  s.BindInt64(1, ref);
  s.BindText(2, redactor.Identifier(call_id));
  return s.Run();
}

}  // namespace

absl::Status WriteCallFacts(Store& store, const Redactor& redactor, int64_t run_id,
                            const Exchange& ex, const ExchangeFacts& facts) {
  if (ex.switched) {
    const std::string call_id = SidebandCallId(ex);
    if (call_id.empty()) return absl::OkStatus();
    return LinkSideband(store, redactor, run_id, ex, call_id);
  }
  const CallEndpoint endpoint = ClassifyCallEndpoint(ex.method, ex.target);
  if (IsCallSetup(endpoint)) return WriteCall(store.db(), redactor, run_id, ex, facts, endpoint);
  if (IsTokenIssuance(endpoint)) {
    return WriteToken(store.db(), redactor, run_id, ex, facts, endpoint);
  }
  return absl::OkStatus();
}

}  // namespace relaytap::recorder
