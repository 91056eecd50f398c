#include "recorder/outcome.h"

#include "gtest/gtest.h"

namespace relaytap::recorder {
namespace {

EndFacts End(EndReason r, DialStage stage = DialStage::kNone) {
  return EndFacts{.reason = r, .dial_stage = stage};
}

EndFacts Relay(PumpEnd up, PumpEnd down, bool up_first, bool websocket = false) {
  return EndFacts{.reason = EndReason::kRelayEnded,
                  .up = up,
                  .down = down,
                  .up_ended_first = up_first,
                  .websocket = websocket};
}

struct ExchangeCase {
  ExchangeOutcomeInput in;
  Outcome want;
};

TEST(OutcomeTest, ClassifiesEveryExchangeClass) {
  const ExchangeCase cases[] = {
      {{200, End(EndReason::kComplete)}, Outcome::kOk},
      {{101, End(EndReason::kSwitched)}, Outcome::kOk},
      {{400, End(EndReason::kComplete)}, Outcome::kClientError4xx},
      {{404, End(EndReason::kComplete)}, Outcome::kClientError4xx},
      {{429, End(EndReason::kComplete)}, Outcome::kThrottled429},
      {{500, End(EndReason::kComplete)}, Outcome::kServerError5xx},
      {{503, End(EndReason::kComplete)}, Outcome::kServerError5xx},
      {{200, End(EndReason::kComplete), true, false}, Outcome::kResponseFailed},
      {{200, End(EndReason::kComplete), false, true}, Outcome::kErrorEvent},
      {{200, End(EndReason::kUpstreamResetMidResponse)}, Outcome::kUpstreamReset},
      {{200, End(EndReason::kUpstreamTimeoutMidResponse)}, Outcome::kTimeout},
      {{0, End(EndReason::kUpstreamResetBeforeResponse)}, Outcome::kUpstreamReset},
      {{200, End(EndReason::kAppClosedMidResponse)}, Outcome::kClientAbort},
      {{0, End(EndReason::kUpstreamTimeout)}, Outcome::kTimeout},
      {{0, End(EndReason::kUpstreamDialFailed, DialStage::kTls)}, Outcome::kUpstreamTlsFailure},
      {{0, End(EndReason::kUpstreamDialFailed, DialStage::kDns)}, Outcome::kDnsFailure},
      {{0, End(EndReason::kUpstreamDialFailed, DialStage::kConnect)}, Outcome::kConnectFailure},
      // A dial that timed out is classified by its stage, on the exchange as on the connection.
      {{0, End(EndReason::kUpstreamDialTimeout, DialStage::kConnect)}, Outcome::kConnectFailure},
      {{0, End(EndReason::kUpstreamDialTimeout, DialStage::kTls)}, Outcome::kUpstreamTlsFailure},
      {{429, End(EndReason::kGuardRejected)}, Outcome::kGuardRejected},
      {{0, End(EndReason::kNone)}, Outcome::kUpstreamReset},
      // relaytap probe's `GET /`: an answer below 500 proves the path (the probe's own rule);
      // a 5xx, a reset or no answer are failures as for any exchange.
      {{404, End(EndReason::kComplete), false, false, true}, Outcome::kOk},
      {{429, End(EndReason::kComplete), false, false, true}, Outcome::kOk},
      {{503, End(EndReason::kComplete), false, false, true}, Outcome::kServerError5xx},
      {{404, End(EndReason::kUpstreamResetMidResponse), false, false, true},
       Outcome::kUpstreamReset},
      {{0, End(EndReason::kUpstreamResetBeforeResponse), false, false, true},
       Outcome::kUpstreamReset},
  };
  for (const ExchangeCase& c : cases) {
    EXPECT_EQ(OutcomeName(ClassifyExchange(c.in)), OutcomeName(c.want))
        << "status=" << c.in.status << " end=" << EndText(c.in.end);
  }
}

TEST(OutcomeTest, SessionFirstFailureWinsThenHowItsRelayEnded) {
  EXPECT_EQ(ClassifySession(Outcome::kResponseFailed,
                            Relay(PumpEnd::kCancelled, PumpEnd::kSourceReset, false)),
            Outcome::kResponseFailed);
  EXPECT_EQ(ClassifySession(Outcome::kErrorEvent, Relay(PumpEnd::kEof, PumpEnd::kEof, true)),
            Outcome::kErrorEvent);
  EXPECT_EQ(ClassifySession(std::nullopt, Relay(PumpEnd::kCancelled, PumpEnd::kSourceReset, false)),
            Outcome::kUpstreamReset);
  EXPECT_EQ(ClassifySession(std::nullopt, Relay(PumpEnd::kSourceReset, PumpEnd::kCancelled, true)),
            Outcome::kClientAbort);
  // TCP keepalive gave up on a vanished peer: the timeout branch the proxy can reach.
  EXPECT_EQ(ClassifySession(std::nullopt, Relay(PumpEnd::kCancelled, PumpEnd::kTimedOut, false)),
            Outcome::kTimeout);
  EXPECT_EQ(ClassifySession(std::nullopt, Relay(PumpEnd::kEof, PumpEnd::kEof, true)), Outcome::kOk);
}

struct EndCase {
  EndFacts end;
  Outcome outcome;
  EndSide side;
  std::string_view text;
};

// Every end the proxy can produce, with its outcome, side and spelling.
TEST(OutcomeTest, EveryConnectionEndHasOneClassSideAndSpelling) {
  const EndCase cases[] = {
      {End(EndReason::kAppClosed), Outcome::kOk, EndSide::kApp, "app_closed"},
      {End(EndReason::kAppClosedBeforeRequest), Outcome::kOk, EndSide::kApp,
       "app_closed_before_request"},
      // A healthy keep-alive connection that ends by idleness is ok.
      {End(EndReason::kIdleTimeout), Outcome::kOk, EndSide::kProxy, "idle_timeout"},
      {End(EndReason::kClosedAfterResponse), Outcome::kOk, EndSide::kProxy,
       "closed_after_response"},
      {End(EndReason::kTunnelIdleTimeout), Outcome::kOk, EndSide::kProxy, "tunnel_idle_timeout"},
      {End(EndReason::kProxyAuthRequired), Outcome::kClientError4xx, EndSide::kProxy,
       "proxy_auth_required"},
      {End(EndReason::kClientNotAllowed), Outcome::kClientError4xx, EndSide::kProxy,
       "client_not_allowed"},
      {End(EndReason::kDestinationForbidden), Outcome::kClientError4xx, EndSide::kProxy,
       "destination_forbidden"},
      {End(EndReason::kRequestHeadTimeout), Outcome::kTimeout, EndSide::kApp,
       "request_head_timeout"},
      {End(EndReason::kProxyShutdown), Outcome::kOk, EndSide::kProxy, "proxy_shutdown"},
      {End(EndReason::kBadRequest400), Outcome::kClientError4xx, EndSide::kApp, "bad_request_400"},
      {End(EndReason::kBadRequest431), Outcome::kClientError4xx, EndSide::kApp, "bad_request_431"},
      {End(EndReason::kCertificateError), Outcome::kOk, EndSide::kProxy, "certificate_error"},
      {End(EndReason::kAppSniMismatch), Outcome::kClientError4xx, EndSide::kApp,
       "app_sni_mismatch"},
      {End(EndReason::kClientRejectedCa), Outcome::kClientRejectedCa, EndSide::kApp,
       "client_rejected_ca"},
      {End(EndReason::kAppTlsHandshakeFailed), Outcome::kClientAbort, EndSide::kApp,
       "app_tls_handshake_failed"},
      {End(EndReason::kAppTlsHandshakeTimeout), Outcome::kTimeout, EndSide::kProxy,
       "app_tls_handshake_timeout"},
      {End(EndReason::kUpstreamDialFailed, DialStage::kDns), Outcome::kDnsFailure,
       EndSide::kUpstream, "upstream_dns_failed"},
      {End(EndReason::kUpstreamDialFailed, DialStage::kConnect), Outcome::kConnectFailure,
       EndSide::kUpstream, "upstream_connect_failed"},
      {End(EndReason::kUpstreamDialTimeout, DialStage::kConnect), Outcome::kConnectFailure,
       EndSide::kProxy, "upstream_connect_timeout"},
      {End(EndReason::kUpstreamDialFailed, DialStage::kTls), Outcome::kUpstreamTlsFailure,
       EndSide::kUpstream, "upstream_tls_failed"},
      {End(EndReason::kUpstreamTimeout), Outcome::kTimeout, EndSide::kProxy, "upstream_timeout"},
      {End(EndReason::kUpstreamResetBeforeResponse), Outcome::kUpstreamReset, EndSide::kUpstream,
       "upstream_reset_before_response"},
      {End(EndReason::kAppClosedMidResponse), Outcome::kClientAbort, EndSide::kApp,
       "app_closed_mid_response"},
      {End(EndReason::kUpstreamTimeoutMidResponse), Outcome::kTimeout, EndSide::kProxy,
       "upstream_timeout_mid_response"},
      {End(EndReason::kUpstreamResetMidResponse), Outcome::kUpstreamReset, EndSide::kUpstream,
       "upstream_reset_mid_response"},
      {End(EndReason::kGuardRejected), Outcome::kGuardRejected, EndSide::kProxy, "guard_rejected"},
      // Tunnels: the direction that ended first names the side (the upstream closing first is
      // not the app's doing, as the spelling's "app:" prefix once made it).
      {Relay(PumpEnd::kEof, PumpEnd::kEof, true), Outcome::kOk, EndSide::kApp,
       "app:eof upstream:eof"},
      {Relay(PumpEnd::kEof, PumpEnd::kEof, false), Outcome::kOk, EndSide::kUpstream,
       "app:eof upstream:eof"},
      {Relay(PumpEnd::kCancelled, PumpEnd::kSourceReset, false), Outcome::kUpstreamReset,
       EndSide::kUpstream, "app:cancelled upstream:reset"},
      {Relay(PumpEnd::kSourceReset, PumpEnd::kCancelled, true), Outcome::kClientAbort,
       EndSide::kApp, "app:reset upstream:cancelled"},
      {Relay(PumpEnd::kSinkFailed, PumpEnd::kCancelled, true), Outcome::kUpstreamReset,
       EndSide::kUpstream, "app:sink_failed upstream:cancelled"},
      {Relay(PumpEnd::kCancelled, PumpEnd::kSinkFailed, false), Outcome::kClientAbort,
       EndSide::kApp, "app:cancelled upstream:sink_failed"},
      {Relay(PumpEnd::kTimedOut, PumpEnd::kCancelled, true), Outcome::kTimeout, EndSide::kApp,
       "app:timeout upstream:cancelled"},
      {Relay(PumpEnd::kEof, PumpEnd::kEof, true, /*websocket=*/true), Outcome::kOk, EndSide::kApp,
       "ws app:eof upstream:eof"},
  };
  for (const EndCase& c : cases) {
    EndClass got = ClassifyEnd(c.end);
    EXPECT_EQ(OutcomeName(got.outcome.value_or(Outcome::kOk)), OutcomeName(c.outcome)) << c.text;
    EXPECT_EQ(EndSideName(got.side), EndSideName(c.side)) << c.text;
    EXPECT_EQ(EndText(c.end), c.text);
    EXPECT_EQ(OutcomeName(ClassifyConnection(c.end)), OutcomeName(c.outcome)) << c.text;
  }
}

TEST(OutcomeTest, ExchangeEndsLeaveTheClassToTheStatus) {
  EXPECT_FALSE(ClassifyEnd(End(EndReason::kComplete)).outcome.has_value());
  EXPECT_FALSE(ClassifyEnd(End(EndReason::kSwitched)).outcome.has_value());
  EXPECT_EQ(EndText(End(EndReason::kComplete)), "complete");
  EXPECT_EQ(EndText(End(EndReason::kSwitched)), "switched");
}

TEST(OutcomeTest, NamesRoundTrip) {
  for (int i = 0; i < kOutcomeCount; ++i) {
    auto o = static_cast<Outcome>(i);
    EXPECT_EQ(ParseOutcome(OutcomeName(o)), o);
  }
  EXPECT_EQ(ParseOutcome("nope"), std::nullopt);
}

}  // namespace
}  // namespace relaytap::recorder
