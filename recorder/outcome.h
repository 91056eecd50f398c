#pragma once
// Outcome classes (DESIGN.md): every exchange, session and connection ends in exactly one, so
// "classify the symptom" is a query. Pure functions; the inputs are the facts the proxy reports.

#include <optional>
#include <string>
#include <string_view>

namespace relaytap::recorder {

enum class Outcome {
  kOk,
  kClientError4xx,
  kThrottled429,
  kServerError5xx,
  kResponseFailed,
  kErrorEvent,
  kUpstreamReset,
  kClientAbort,
  kTimeout,
  kUpstreamTlsFailure,
  kClientRejectedCa,
  kDnsFailure,
  kConnectFailure,
  kGuardRejected,
};
inline constexpr int kOutcomeCount = 14;

// The store's spelling: "ok", "client_error_4xx", ... "guard_rejected".
std::string_view OutcomeName(Outcome o);
std::optional<Outcome> ParseOutcome(std::string_view name);

struct ExchangeOutcomeInput {
  int status = 0;                  // 0: no response
  std::string_view local_error_code;  // relaytap answered itself: "relaytap_upstream_dns", ...
  std::string_view error_stage;    // "dns" / "connect" / "tls" / "response" / "request"
  std::string_view end;            // the proxy's end reason: "upstream_reset_mid_response", ...
  bool sse_response_failed = false;  // an SSE event said the response failed
  bool sse_error_event = false;      // an SSE `error` event
};
// Order: relaytap's own answer (guard, dial stage, timeout) > how the exchange ended (reset,
// abort) > HTTP status > failures inside an SSE stream > ok.
Outcome ClassifyExchange(const ExchangeOutcomeInput& in);

struct SessionOutcomeInput {
  std::optional<Outcome> first_failure;  // response_failed / error_event, in message order
  std::string_view app_end;              // "eof", "reset", "sink_failed", "cancelled", "timeout"
  std::string_view upstream_end;
  std::optional<int> close_code;         // from the first close frame
};
// The first failure seen inside the session wins (it is the symptom the operator asks about);
// otherwise how the session ended: an upstream reset, a client abort, a timeout.
Outcome ClassifySession(const SessionOutcomeInput& in);

// A connection: the proxy's class if it sent one, else derived from its end reason
// ("upstream_dns_failed", "client_rejected_ca", "app:eof upstream:reset", ...).
Outcome ClassifyConnection(std::string_view proxy_outcome, std::string_view end);

}  // namespace relaytap::recorder
