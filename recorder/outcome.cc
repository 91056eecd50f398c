#include "recorder/outcome.h"

#include <array>

namespace relaytap::recorder {
namespace {

constexpr std::array<std::string_view, kOutcomeCount> kNames = {"ok",
                                                                "client_error_4xx",
                                                                "throttled_429",
                                                                "server_error_5xx",
                                                                "response_failed",
                                                                "error_event",
                                                                "upstream_reset",
                                                                "client_abort",
                                                                "timeout",
                                                                "upstream_tls_failure",
                                                                "client_rejected_ca",
                                                                "dns_failure",
                                                                "connect_failure",
                                                                "guard_rejected",
                                                                "upstream_proxy_failure"};

EndClass RelayEndClass(const EndFacts& e) {
  // The direction whose source ended first tells what happened; the other end follows from it.
  const bool up = e.up_ended_first;
  switch (up ? e.up : e.down) {
    case PumpEnd::kEof:
      return {Outcome::kOk, up ? EndSide::kApp : EndSide::kUpstream};
    case PumpEnd::kSourceReset:
      return up ? EndClass{Outcome::kClientAbort, EndSide::kApp}
                : EndClass{Outcome::kUpstreamReset, EndSide::kUpstream};
    case PumpEnd::kTimedOut:
      return {Outcome::kTimeout, up ? EndSide::kApp : EndSide::kUpstream};
    case PumpEnd::kSinkFailed:  // writing to the other side failed: that side went away
      return up ? EndClass{Outcome::kUpstreamReset, EndSide::kUpstream}
                : EndClass{Outcome::kClientAbort, EndSide::kApp};
    case PumpEnd::kCancelled:
      return {Outcome::kOk, EndSide::kProxy};
  }
  return {Outcome::kOk, EndSide::kNone};
}

Outcome DialOutcome(DialStage stage) {
  switch (stage) {
    case DialStage::kDns:
      return Outcome::kDnsFailure;
    case DialStage::kTls:
      return Outcome::kUpstreamTlsFailure;
    case DialStage::kProxy:
      return Outcome::kUpstreamProxyFailure;
    case DialStage::kConnect:
    case DialStage::kNone:
      return Outcome::kConnectFailure;
  }
  return Outcome::kConnectFailure;
}

}  // namespace

std::string_view OutcomeName(Outcome o) { return kNames[static_cast<size_t>(o)]; }

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Outcome>(i);
  }
  return std::nullopt;
}

EndClass ClassifyEnd(const EndFacts& e) {
  switch (e.reason) {
    case EndReason::kNone:
    case EndReason::kComplete:
    case EndReason::kSwitched:
      return {std::nullopt, EndSide::kNone};
    case EndReason::kAppClosed:
    case EndReason::kAppClosedBeforeRequest:
      return {Outcome::kOk, EndSide::kApp};
    case EndReason::kIdleTimeout:
    case EndReason::kTunnelIdleTimeout:
    case EndReason::kClosedAfterResponse:
    case EndReason::kProxyShutdown:
      return {Outcome::kOk, EndSide::kProxy};
    case EndReason::kBadRequest400:
    case EndReason::kBadRequest431:
    // The app asked, inside the tunnel, for another host than its CONNECT named: refused like a
    // malformed request.
    case EndReason::kAppSniMismatch:
      return {Outcome::kClientError4xx, EndSide::kApp};
    // relaytap refused a CONNECT it had sent itself (its upstream proxy leads back to it).
    case EndReason::kProxyLoop:
      return {Outcome::kClientError4xx, EndSide::kProxy};
    // Remote mode's access rules refused the app (407, a closed connection, 403).
    case EndReason::kProxyAuthRequired:
    case EndReason::kClientNotAllowed:
    case EndReason::kDestinationForbidden:
      return {Outcome::kClientError4xx, EndSide::kProxy};
    // The app sent part of a request head and not the rest in time (answered 408).
    case EndReason::kRequestHeadTimeout:
      return {Outcome::kTimeout, EndSide::kApp};
    // relaytap could not mint a certificate: no class names a failure of relaytap itself, the
    // close reason does.
    case EndReason::kCertificateError:
      return {Outcome::kOk, EndSide::kProxy};
    case EndReason::kClientRejectedCa:
      return {Outcome::kClientRejectedCa, EndSide::kApp};
    case EndReason::kAppTlsHandshakeFailed:
      return {Outcome::kClientAbort, EndSide::kApp};
    case EndReason::kAppTlsHandshakeTimeout:
      return {Outcome::kTimeout, EndSide::kProxy};
    // A dial that timed out is classified by its stage on the connection and the exchange alike;
    // the end reason keeps the timeout (upstream_connect_timeout).
    case EndReason::kUpstreamDialFailed:
      return {DialOutcome(e.dial_stage), EndSide::kUpstream};
    case EndReason::kUpstreamDialTimeout:
      return {DialOutcome(e.dial_stage), EndSide::kProxy};
    case EndReason::kUpstreamTimeout:
    case EndReason::kUpstreamTimeoutMidResponse:
      return {Outcome::kTimeout, EndSide::kProxy};
    case EndReason::kUpstreamResetBeforeResponse:
    case EndReason::kUpstreamResetMidResponse:
      return {Outcome::kUpstreamReset, EndSide::kUpstream};
    case EndReason::kAppClosedMidResponse:
      return {Outcome::kClientAbort, EndSide::kApp};
    case EndReason::kGuardRejected:
      return {Outcome::kGuardRejected, EndSide::kProxy};
    case EndReason::kRelayEnded:
      return RelayEndClass(e);
  }
  return {std::nullopt, EndSide::kNone};
}

Outcome ClassifyExchange(const ExchangeOutcomeInput& in) {
  if (auto o = ClassifyEnd(in.end).outcome; o && *o != Outcome::kOk) return *o;
  if (in.transport_check && in.status > 0 && in.status < 500) return Outcome::kOk;
  if (in.status == 429) return Outcome::kThrottled429;
  if (in.status >= 400 && in.status < 500) return Outcome::kClientError4xx;
  if (in.status >= 500) return Outcome::kServerError5xx;
  if (in.sse_response_failed) return Outcome::kResponseFailed;
  if (in.sse_error_event) return Outcome::kErrorEvent;
  if (in.status == 0) {
    // No response and no known reason: the upstream went away before answering.
    return Outcome::kUpstreamReset;
  }
  return Outcome::kOk;
}

Outcome ClassifySession(std::optional<Outcome> first_failure, const EndFacts& end) {
  if (first_failure) return *first_failure;
  return ClassifyEnd(end).outcome.value_or(Outcome::kOk);
}

Outcome ClassifyConnection(const EndFacts& end) {
  return ClassifyEnd(end).outcome.value_or(Outcome::kOk);
}

}  // namespace relaytap::recorder
