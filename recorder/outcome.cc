#include "recorder/outcome.h"

#include <array>

namespace relaytap::recorder {
namespace {

constexpr std::array<std::string_view, kOutcomeCount> kNames = {
    "ok",           "client_error_4xx",     "throttled_429",      "server_error_5xx",
    "response_failed", "error_event",       "upstream_reset",     "client_abort",
    "timeout",      "upstream_tls_failure", "client_rejected_ca", "dns_failure",
    "connect_failure", "guard_rejected"};

bool Has(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Failures relaytap itself saw while dialling or waiting, from the local error code or stage.
std::optional<Outcome> FromLocalError(std::string_view code, std::string_view stage) {
  if (Has(code, "guard")) return Outcome::kGuardRejected;
  if (stage == "dns" || Has(code, "_dns")) return Outcome::kDnsFailure;
  if (stage == "connect" || Has(code, "_connect")) return Outcome::kConnectFailure;
  if (stage == "tls" || Has(code, "_tls")) return Outcome::kUpstreamTlsFailure;
  if (Has(code, "timeout")) return Outcome::kTimeout;
  if (Has(code, "reset")) return Outcome::kUpstreamReset;
  return std::nullopt;
}

// An end reason as written by the proxy (exchange loop, client session, pumps).
std::optional<Outcome> FromEnd(std::string_view end) {
  if (end.empty()) return std::nullopt;
  if (Has(end, "client_rejected_ca")) return Outcome::kClientRejectedCa;
  if (Has(end, "guard")) return Outcome::kGuardRejected;
  if (Has(end, "dns")) return Outcome::kDnsFailure;
  if (Has(end, "upstream_connect")) return Outcome::kConnectFailure;
  if (Has(end, "upstream_tls")) return Outcome::kUpstreamTlsFailure;
  if (Has(end, "timeout")) return Outcome::kTimeout;
  if (Has(end, "upstream_reset") || Has(end, "upstream:reset")) return Outcome::kUpstreamReset;
  if (Has(end, "app_closed") || Has(end, "app:reset") || Has(end, "client_abort")) {
    return Outcome::kClientAbort;
  }
  return std::nullopt;
}

}  // namespace

std::string_view OutcomeName(Outcome o) { return kNames[static_cast<size_t>(o)]; }

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Outcome>(i);
  }
  return std::nullopt;
}

Outcome ClassifyExchange(const ExchangeOutcomeInput& in) {
  if (!in.local_error_code.empty()) {
    if (auto o = FromLocalError(in.local_error_code, in.error_stage)) return *o;
  }
  // "closed_after_response" and "complete" are ordinary ends; anything FromEnd knows is not.
  // "app_closed" after a complete response is still an abort only if no status was relayed.
  if (auto o = FromEnd(in.end)) {
    if (!(*o == Outcome::kClientAbort && in.status >= 100 && in.end == "app_closed")) return *o;
  }
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

Outcome ClassifySession(const SessionOutcomeInput& in) {
  if (in.first_failure) return *in.first_failure;
  if (Has(in.upstream_end, "reset")) return Outcome::kUpstreamReset;
  if (Has(in.upstream_end, "timeout") || Has(in.app_end, "timeout")) return Outcome::kTimeout;
  if (Has(in.app_end, "reset")) return Outcome::kClientAbort;
  // TODO(#6): a server close 1011 (internal error) has no class of its own; it stays `ok` with
  // the close code visible in ws_sessions.close_code.
  return Outcome::kOk;
}

Outcome ClassifyConnection(std::string_view proxy_outcome, std::string_view end) {
  if (auto o = ParseOutcome(proxy_outcome)) return *o;
  if (auto o = FromEnd(end)) return *o;
  return Outcome::kOk;
}

}  // namespace relaytap::recorder
