#include "recorder/call_facts.h"

#include <nlohmann/json.hpp>

#include "base/ascii.h"

namespace relaytap::recorder {
namespace {

using nlohmann::json;

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return AsciiStrToLower(haystack).find(needle) != std::string::npos;
}

std::string StringAt(const json& j, std::initializer_list<const char*> path) {
  const json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return "";
    auto it = at->find(key);
    if (it == at->end()) return "";
    at = &*it;
  }
  return at->is_string() ? at->get<std::string>() : "";
}

std::optional<int64_t> IntAt(const json& j, std::initializer_list<const char*> path) {
  const json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return std::nullopt;
    auto it = at->find(key);
    if (it == at->end()) return std::nullopt;
    at = &*it;
  }
  if (at->is_number_integer()) return at->get<int64_t>();
  return std::nullopt;
}

std::string BearerToken(const Exchange& ex) {
  std::string_view authz = TrimOws(FindHeader(ex.request_headers, "authorization"));
  if (!StartsWithIgnoreCase(authz, "bearer ")) return "";
  return std::string(TrimOws(authz.substr(7)));
}

// The offer from the request body: the body itself (application/sdp) or its `sdp` part
// (multipart/form-data, whose `session` part may name the model).
void ReadOffer(const Exchange& ex, CallFacts& c) {
  const BodySample& body = ex.request_body;
  const std::string ct = AsciiStrToLower(body.content_type);
  if (ct.starts_with("application/sdp")) {
    c.request_format = "sdp";
    if (!body.bytes.empty()) c.offer = redact::ParseSdpShape(body.bytes);
    return;
  }
  if (!ct.starts_with("multipart/form-data")) {
    c.request_format = "other";
    return;
  }
  c.request_format = "multipart";
  bool found = false;
  std::string_view sdp = redact::MultipartFormField(body.bytes, body.content_type, "sdp", &found);
  if (found) c.offer = redact::ParseSdpShape(sdp);
  std::string_view session =
      redact::MultipartFormField(body.bytes, body.content_type, "session", &found);
  if (found) {
    json j = json::parse(session, nullptr, /*allow_exceptions=*/false);
    c.session_model = StringAt(j, {"model"});
  }
}

}  // namespace

std::string_view CallEndpointName(CallEndpoint e) {
  switch (e) {
    case CallEndpoint::kNone:
      return "";
    case CallEndpoint::kCallSetup:
      return "ga_calls";
    case CallEndpoint::kPreviewRtc:
      return "preview_realtimertc";
    case CallEndpoint::kClientSecret:
      return "client_secrets";
    case CallEndpoint::kPreviewSession:
      return "preview_sessions";
    case CallEndpoint::kBetaSession:
      return "beta_sessions";
  }
  return "";
}

std::string_view CallOutcomeName(CallOutcome o) {
  switch (o) {
    case CallOutcome::kAnswered:
      return "answered";
    case CallOutcome::kRejected:
      return "rejected";
    case CallOutcome::kThrottled:
      return "throttled";
    case CallOutcome::kServerError:
      return "server_error";
    case CallOutcome::kTokenExpired:
      return "token_expired";
    case CallOutcome::kTokenInvalid:
      return "token_invalid";
    case CallOutcome::kSetupTimeout:
      return "setup_timeout";
    case CallOutcome::kSetupFailed:
      return "setup_failed";
    case CallOutcome::kGuardRejected:
      return "guard_rejected";
  }
  return "";
}

CallEndpoint ClassifyCallEndpoint(std::string_view method, std::string_view target) {
  if (!EqualsIgnoreCase(method, "POST")) return CallEndpoint::kNone;
  std::string_view path = TargetPath(target);
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/openai/v1/realtime/calls" || path == "/v1/realtime/calls") {
    return CallEndpoint::kCallSetup;
  }
  if (path == "/v1/realtimertc" || path == "/openai/v1/realtimertc") {
    return CallEndpoint::kPreviewRtc;
  }
  if (path == "/openai/v1/realtime/client_secrets" || path == "/v1/realtime/client_secrets") {
    return CallEndpoint::kClientSecret;
  }
  if (path == "/openai/realtimeapi/sessions") return CallEndpoint::kPreviewSession;
  if (path == "/v1/realtime/sessions" || path == "/v1/realtime/transcription_sessions") {
    return CallEndpoint::kBetaSession;
  }
  return CallEndpoint::kNone;
}

CallFacts ReadCallFacts(const Exchange& ex) {
  CallFacts c;
  ReadOffer(ex, c);
  c.bearer_token = BearerToken(ex);
  const BodySample& answer = ex.response_body;
  if (ex.status >= 200 && ex.status < 300 && !answer.bytes.empty()) {
    c.answer = redact::ParseSdpShape(answer.bytes);
  }
  std::string_view location = FindHeader(ex.response_headers, "location");
  location = TargetPath(location);
  c.call_id = std::string(location.substr(location.rfind('/') + 1));
  if (ex.status >= 400 && !answer.bytes.empty()) {
    json j = json::parse(answer.bytes, nullptr, /*allow_exceptions=*/false);
    c.error_message = StringAt(j, {"error", "message"});
    c.error_says_expired = ContainsIgnoreCase(StringAt(j, {"error", "code"}), "expired") ||
                           ContainsIgnoreCase(c.error_message, "expired");
  }
  return c;
}

CallOutcome ClassifyCall(const Exchange& ex, const ExchangeFacts& facts, const CallFacts& call,
                         std::optional<int64_t> token_expires_at_us) {
  switch (facts.outcome) {
    case Outcome::kGuardRejected:
      return CallOutcome::kGuardRejected;
    case Outcome::kTimeout:
      return CallOutcome::kSetupTimeout;
    case Outcome::kUpstreamReset:
    case Outcome::kClientAbort:
    case Outcome::kUpstreamTlsFailure:
    case Outcome::kClientRejectedCa:
    case Outcome::kDnsFailure:
    case Outcome::kConnectFailure:
    case Outcome::kUpstreamProxyFailure:
      return CallOutcome::kSetupFailed;
    default:
      break;
  }
  const int status = ex.status;
  if (status >= 200 && status < 300) return CallOutcome::kAnswered;
  if (status == 401 || status == 403) {
    const bool expired = call.error_says_expired ||
                         (token_expires_at_us && *token_expires_at_us <= ex.request_start_us);
    return expired ? CallOutcome::kTokenExpired : CallOutcome::kTokenInvalid;
  }
  if (status == 429) return CallOutcome::kThrottled;
  if (status >= 500) return CallOutcome::kServerError;
  if (status == 0) return CallOutcome::kSetupFailed;
  return CallOutcome::kRejected;
}

TokenFacts ReadTokenFacts(const Exchange& ex) {
  TokenFacts t;
  if (ex.status < 200 || ex.status >= 300 || ex.response_body.truncated) return t;
  json j = json::parse(ex.response_body.bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return t;
  t.token = StringAt(j, {"value"});
  t.expires_at_s = IntAt(j, {"expires_at"});
  if (t.token.empty()) {  // preview / beta: {id, model, client_secret:{value, expires_at}}
    t.token = StringAt(j, {"client_secret", "value"});
    t.expires_at_s = IntAt(j, {"client_secret", "expires_at"});
  }
  t.session_id = StringAt(j, {"session", "id"});
  if (t.session_id.empty()) t.session_id = StringAt(j, {"id"});
  t.model = StringAt(j, {"session", "model"});
  if (t.model.empty()) t.model = StringAt(j, {"model"});
  return t;
}

std::string SidebandCallId(const Exchange& ex) {
  if (!ex.websocket_upgrade) return "";
  return QueryParam(ex.target, "call_id");
}

}  // namespace relaytap::recorder
