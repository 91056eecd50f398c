#include "recorder/outcome.h"

#include "gtest/gtest.h"

namespace relaytap::recorder {
namespace {

struct ExchangeCase {
  ExchangeOutcomeInput in;
  Outcome want;
};

TEST(OutcomeTest, ClassifiesEveryExchangeClass) {
  const ExchangeCase cases[] = {
      {{200, "", "", "closed_after_response"}, Outcome::kOk},
      {{101, "", "", "switched"}, Outcome::kOk},
      {{400, "", "", ""}, Outcome::kClientError4xx},
      {{404, "", "", ""}, Outcome::kClientError4xx},
      {{429, "", "", ""}, Outcome::kThrottled429},
      {{500, "", "", ""}, Outcome::kServerError5xx},
      {{503, "", "", ""}, Outcome::kServerError5xx},
      {{200, "", "", "", true, false}, Outcome::kResponseFailed},
      {{200, "", "", "", false, true}, Outcome::kErrorEvent},
      {{200, "", "", "upstream_reset_mid_response"}, Outcome::kUpstreamReset},
      {{502, "relaytap_upstream_reset", "response", "upstream_reset_before_response"},
       Outcome::kUpstreamReset},
      {{200, "", "", "app_closed_mid_response"}, Outcome::kClientAbort},
      {{0, "", "", "app_closed"}, Outcome::kClientAbort},
      {{504, "relaytap_upstream_timeout", "response", "upstream_timeout"}, Outcome::kTimeout},
      {{502, "relaytap_upstream_tls", "tls", "relaytap_upstream_tls"},
       Outcome::kUpstreamTlsFailure},
      {{0, "", "", "client_rejected_ca"}, Outcome::kClientRejectedCa},
      {{502, "relaytap_upstream_dns", "dns", "relaytap_upstream_dns"}, Outcome::kDnsFailure},
      {{504, "relaytap_upstream_connect_timeout", "connect", ""}, Outcome::kConnectFailure},
      {{429, "relaytap_guard_retry_budget", "", ""}, Outcome::kGuardRejected},
  };
  for (const ExchangeCase& c : cases) {
    EXPECT_EQ(OutcomeName(ClassifyExchange(c.in)), OutcomeName(c.want))
        << "status=" << c.in.status << " code=" << c.in.local_error_code << " end=" << c.in.end;
  }
}

TEST(OutcomeTest, SessionFirstFailureWinsThenHowItEnded) {
  EXPECT_EQ(ClassifySession({Outcome::kResponseFailed, "eof", "reset", 1000}),
            Outcome::kResponseFailed);
  EXPECT_EQ(ClassifySession({Outcome::kErrorEvent, "eof", "eof", 1000}), Outcome::kErrorEvent);
  EXPECT_EQ(ClassifySession({std::nullopt, "eof", "reset", std::nullopt}),
            Outcome::kUpstreamReset);
  EXPECT_EQ(ClassifySession({std::nullopt, "reset", "eof", std::nullopt}), Outcome::kClientAbort);
  EXPECT_EQ(ClassifySession({std::nullopt, "idle_timeout", "eof", std::nullopt}),
            Outcome::kTimeout);
  EXPECT_EQ(ClassifySession({std::nullopt, "eof", "eof", 1000}), Outcome::kOk);
}

TEST(OutcomeTest, ConnectionUsesProxyClassElseEnd) {
  EXPECT_EQ(ClassifyConnection("dns_failure", ""), Outcome::kDnsFailure);
  EXPECT_EQ(ClassifyConnection("", "upstream_dns_failed"), Outcome::kDnsFailure);
  EXPECT_EQ(ClassifyConnection("", "upstream_connect_failed"), Outcome::kConnectFailure);
  EXPECT_EQ(ClassifyConnection("", "upstream_tls_failed"), Outcome::kUpstreamTlsFailure);
  EXPECT_EQ(ClassifyConnection("", "client_rejected_ca"), Outcome::kClientRejectedCa);
  EXPECT_EQ(ClassifyConnection("", "app:eof upstream:reset"), Outcome::kUpstreamReset);
  EXPECT_EQ(ClassifyConnection("", "closed_after_response"), Outcome::kOk);
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
