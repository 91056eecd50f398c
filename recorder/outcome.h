#pragma once
// Outcome classes (DESIGN.md): every exchange, session and connection ends in exactly one, so
// "classify the symptom" is a query. Pure functions; the inputs are the facts the proxy reports.

#include <optional>
#include <string>
#include <string_view>

#include "recorder/observation.h"

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
  kUpstreamProxyFailure,  // the upstream proxy (--upstream-proxy) refused or failed the CONNECT
};
inline constexpr int kOutcomeCount = 15;

// The store's spelling: "ok", "client_error_4xx", ... "upstream_proxy_failure".
std::string_view OutcomeName(Outcome o);
std::optional<Outcome> ParseOutcome(std::string_view name);

// What an end reason says by itself: the outcome it implies (nullopt: none, the HTTP status or the
// events decide) and the side that ended the connection. The one place end reasons are classified.
struct EndClass {
  std::optional<Outcome> outcome;
  EndSide side = EndSide::kNone;
};
EndClass ClassifyEnd(const EndFacts& end);

struct ExchangeOutcomeInput {
  int status = 0;  // 0: no response
  EndFacts end;
  bool sse_response_failed = false;  // an SSE event said the response failed
  bool sse_error_event = false;      // an SSE `error` event
  // `relaytap probe`'s https stage (IsProbeTransportCheck, correlator.h): any answer below 500
  // proves the path, as the probe itself judges it, so it is not a failed request.
  bool transport_check = false;
};
// Order: how the exchange ended when that is a failure (guard, dial stage, timeout, reset,
// abort) > the probe's transport check answered below 500 (ok) > HTTP status > failures inside
// an SSE stream > ok.
Outcome ClassifyExchange(const ExchangeOutcomeInput& in);

// A WebSocket session: the first failure seen inside it wins (the symptom the operator asks
// about); otherwise how its relay ended (an upstream reset, a client abort, a keepalive timeout).
Outcome ClassifySession(std::optional<Outcome> first_failure, const EndFacts& end);

// A connection: from its end reason alone (its exchanges and sessions carry their own).
Outcome ClassifyConnection(const EndFacts& end);

}  // namespace relaytap::recorder
