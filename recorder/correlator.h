#pragma once
// Pure correlation: the structural facts of an exchange or a realtime message, read from the RAW
// observation on the writer thread. Only identifiers, names, versions, counts and times come out;
// never a secret or content value (the auth kind is a name, never the credential).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "recorder/base64_size.h"
#include "recorder/observation.h"
#include "recorder/outcome.h"
#include "redact/flat_json.h"
#include "redact/json_holes.h"

namespace relaytap::recorder {

struct HostFacts {
  std::string resource;  // "<resource>" of an Azure host, else ""
  bool azure = false;
};
HostFacts ParseHost(std::string_view host);

struct PathFacts {
  std::string kind;  // "ga_v1", "preview", "deployments", "openai_v1" or "other"
  std::string deployment;
  std::string model;
  std::string api_version;
};
PathFacts ParsePath(std::string_view host, std::string_view target);
// The path of a request target: an absolute-form target (plain proxying) without its scheme and
// authority ("/" when it has no path), without the query or fragment.
std::string_view TargetPath(std::string_view target);

struct JwtTimes {
  std::optional<int64_t> exp, nbf, iat;  // Unix seconds, read by redact::JwtClaimsOf
};

// HTTP-date (RFC 9110 IMF-fixdate) -> Unix microseconds.
std::optional<int64_t> ParseHttpDate(std::string_view value);

struct ExchangeFacts {
  HostFacts host;
  PathFacts path;
  // "http", "sse", "websocket_upgrade", or what relaytap itself sent or answered, which the
  // store's answers leave out (recorder/query/): "self_check" (its self-check host answered it,
  // Exchange::self_check) and "probe_check" (relaytap probe's `GET /`, IsProbeTransportCheck).
  std::string transport;
  // Correlation headers (response first, then request).
  std::string apim_request_id, x_request_id, x_ms_client_request_id, region, azureml_model_session,
      openai_processing_ms, retry_after, retry_after_ms;
  std::string ratelimit_json;  // {"x-ratelimit-remaining-requests":"99",...} or ""
  // Client identity.
  std::string user_agent, stainless_lang, stainless_package_version, stainless_runtime,
      stainless_runtime_version, stainless_os, stainless_arch, x_ms_useragent;
  std::optional<int64_t> retry_count;
  std::string auth_kind;  // comma-joined: api_key_header, bearer_jwt, bearer_ephemeral,
                          // bearer_key, query_key, subprotocol_key; "none"
  JwtTimes jwt;
  // A bearer JWT's raw aud and tid claims: stored only through redact::JwtIdentifier.
  std::string jwt_aud, jwt_tid;
  std::optional<int64_t> upstream_date_us;
  std::optional<int64_t> clock_skew_ms;  // local clock at response minus upstream Date
  std::optional<int64_t> token_ttl_s;    // exp minus upstream Date (local clock if no Date)
  std::string error_type, error_code;    // from an `{"error":{...}}` response body
  bool sse_response_failed = false;
  bool sse_error_event = false;
  Outcome outcome = Outcome::kOk;
};
ExchangeFacts CorrelateExchange(const Exchange& ex);
// `relaytap probe`'s https stage: `GET /` (origin or absolute form, no query) with the probe's
// User-Agent (kProbeUserAgent, local_checks.h), not a WebSocket upgrade.
bool IsProbeTransportCheck(const Exchange& ex);

struct MessageFacts {
  bool json = false;
  std::string type, event_id, response_id, item_id, previous_item_id;
  std::string session_id, model;  // from session.created / session.updated
  std::string error_type, error_code, error_event_id;
  std::string response_status, status_error_type, status_error_code;  // response.done
  std::optional<int64_t> audio_bytes;  // decoded base64 length of audio deltas / appends
  std::optional<double> audio_ms;      // pcm16 24 kHz mono: bytes / 48 ms
  std::optional<Outcome> failure;      // kResponseFailed or kErrorEvent
};
// When `doc` is given, the parsed payload is moved there (so the redactor need not parse the
// same 8 KB audio delta again); its doc is discarded/null when the payload is not a JSON object.
// It borrows msg.payload (long strings are cut out, see redact/json_holes.h).
MessageFacts CorrelateMessage(const WsMessage& msg, redact::ParsedJson* doc = nullptr);
// The same facts for a text message whose payload ParseFlatObject read as `flat`
// (redact/flat_json.h), without a DOM.
MessageFacts CorrelateFlatMessage(const WsMessage& msg, const redact::FlatObject& flat);

// The first query parameter `name` (lowercase) of a request target, percent-decoded; "" if none.
std::string QueryParam(std::string_view target, std::string_view name);

// Case-insensitive header lookup; "" when absent.
std::string_view FindHeader(const Headers& headers, std::string_view name);

}  // namespace relaytap::recorder
