#pragma once
// WebRTC calls as relaytap sees them: the HTTPS set-up (SDP offer -> answer and a call id), the
// ephemeral token issued for it, and the sideband WebSocket that joins the call. Which exchanges
// are which, what their bodies say, and how a set-up ended. Pure; reads the RAW exchange on the
// writer thread. The raw token is handed out only to be fingerprinted (Redactor::Fingerprint);
// nothing here is stored as is.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "recorder/correlator.h"
#include "recorder/observation.h"
#include "redact/sdp_shape.h"

namespace relaytap::recorder {

enum class CallEndpoint : uint8_t {
  kNone,
  kCallSetup,       // POST /openai/v1/realtime/calls (Azure GA), /v1/realtime/calls (OpenAI)
  kPreviewRtc,      // POST <region>.realtimeapi-preview.ai.azure.com/v1/realtimertc?model=…
  kClientSecret,    // POST …/realtime/client_secrets (GA ephemeral token)
  kPreviewSession,  // POST /openai/realtimeapi/sessions (Azure preview token)
  kBetaSession,     // POST /v1/realtime/sessions, /transcription_sessions (OpenAI beta token)
};
// "ga_calls", "preview_realtimertc", "client_secrets", "preview_sessions", "beta_sessions".
std::string_view CallEndpointName(CallEndpoint e);

// What a request is, from its method and target alone (the SIP control paths
// /realtime/calls/{id}/accept|hangup|refer|reject are not set-ups).
CallEndpoint ClassifyCallEndpoint(std::string_view method, std::string_view target);
inline bool IsCallSetup(CallEndpoint e) {
  return e == CallEndpoint::kCallSetup || e == CallEndpoint::kPreviewRtc;
}
inline bool IsTokenIssuance(CallEndpoint e) {
  return e == CallEndpoint::kClientSecret || e == CallEndpoint::kPreviewSession ||
         e == CallEndpoint::kBetaSession;
}

// How a call set-up ended. Spelled out only at the store (CallOutcomeName).
enum class CallOutcome : uint8_t {
  kAnswered,       // "answered": 2xx with an SDP answer
  kRejected,       // "rejected": another 4xx (with Azure's error code and message)
  kThrottled,      // "throttled": 429
  kServerError,    // "server_error": 5xx from upstream
  kTokenExpired,   // "token_expired": 401/403 saying so, or the token's expires_at had passed
  kTokenInvalid,   // "token_invalid": any other 401/403
  kSetupTimeout,   // "setup_timeout": no answer in time
  kSetupFailed,    // "setup_failed": no answer (reset, failed dial, client abort)
  kGuardRejected,  // "guard_rejected": relaytap's retry guard answered
};
std::string_view CallOutcomeName(CallOutcome o);

// What the set-up exchange says (raw; redacted or reduced to a shape before the store).
struct CallFacts {
  std::string request_format;  // "sdp", "multipart" or "other"
  std::optional<redact::SdpShape> offer, answer;
  std::string call_id;        // the last path segment of Location ("rtc_…"), raw
  std::string session_model;  // multipart `session` part's "model", raw
  std::string bearer_token;   // the Authorization bearer token, raw: fingerprint it, never store
  std::string error_message;  // {"error":{"message":…}} of a failed answer, raw
  bool error_says_expired = false;
};
CallFacts ReadCallFacts(const Exchange& ex);

// `token_expires_at_us`: the expiry of the issued token the set-up used, when relaytap saw it
// being issued.
CallOutcome ClassifyCall(const Exchange& ex, const ExchangeFacts& facts, const CallFacts& call,
                         std::optional<int64_t> token_expires_at_us);

// What a token issuance answered (raw).
struct TokenFacts {
  std::string token;                    // value / client_secret.value ("ek_…"): fingerprint it
  std::optional<int64_t> expires_at_s;  // expires_at / client_secret.expires_at
  std::string session_id;               // session.id or id ("sess_…")
  std::string model;                    // session.model or model
};
TokenFacts ReadTokenFacts(const Exchange& ex);

// The `call_id` query parameter of a WebSocket upgrade (a sideband connection), "" if none.
std::string SidebandCallId(const Exchange& ex);

}  // namespace relaytap::recorder
