// Certificates on both sides of the interception, and how the proxy answers when it cannot reach
// or trust the upstream (502/504 with a JSON body), end to end on loopback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/relay_test_support.h"
#include "tests/testing/ports.h"
#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

TEST(TlsInterceptionTest, TunnelledHostShowsTheUpstreamsOwnCertificate) {
  ProxyHarness::Options o;
  o.intercept = {"*.openai.azure.com"};
  ProxyHarness h(std::move(o));
  // Reach the fake upstream by its port directly: 127.0.0.1 is not intercepted.
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect("127.0.0.1", h.upstream_port()), 200);
  std::string err;
  // The upstream's leaf is for kAzureHost; SNI/host check for that name, trust the upstream CA.
  ASSERT_TRUE(c.StartTls(kAzureHost, h.upstream_ca_pem(), &err)) << err;
  auto res = c.Request(Get("/echo", kAzureHost));
  EXPECT_EQ(res.result_int(), 200);
}

TEST(TlsInterceptionTest, InterceptedHostPresentsAProxyMintedCertificate) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  EXPECT_THAT(c->PeerIssuerCommonName(), HasSubstr("relaytap"));
}

TEST(TlsInterceptionTest, ClientThatDistrustsTheCaIsRejectedAndOthersCarryOn) {
  ProxyHarness h;
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect(kAzureHost, 443), 200);
  std::string err;
  EXPECT_FALSE(c.StartTls(kAzureHost, h.upstream_ca_pem(), &err));  // the wrong CA
  auto ok = h.InterceptedClient();
  auto res = ok->Request(Get("/echo", kAzureHost));
  EXPECT_EQ(res.result_int(), 200);
}

TEST(UpstreamFailureTest, RefusedUpstreamGivesA502WithJson) {
  // A port with nothing listening: bind, note, close.
  const uint16_t dead = FreeLoopbackPort();  // nothing listens there
  ProxyHarness::Options o;
  o.extra_connect_to = {"dead.openai.azure.com:443:127.0.0.1:" + std::to_string(dead)};
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient("dead.openai.azure.com");
  auto res = c->Request(Get("/openai/v1/models", "dead.openai.azure.com"));
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_connect");
  json body = json::parse(res.body());
  EXPECT_EQ(body["error"]["stage"], "connect");
  EXPECT_EQ(body["error"]["host"], "dead.openai.azure.com");
  EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("refused"));
}

TEST(UpstreamFailureTest, UntrustedUpstreamCertificateGivesA502) {
  // The fake upstream's certificate is for kAzureHost, not for this name.
  ProxyHarness::Options o;
  ProxyHarness h0;  // only its upstream is used: a server whose CA `h` does not trust
  o.extra_connect_to = {"other.openai.azure.com:443:127.0.0.1:" +
                        std::to_string(h0.upstream_port())};
  ProxyHarness h(std::move(o));
  // h's connect-to sends other.openai.azure.com to h0's upstream, whose CA h does not trust.
  auto c = h.InterceptedClient("other.openai.azure.com");
  auto res = c->Request(Get("/echo", "other.openai.azure.com"));
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_tls");
  EXPECT_THAT(res.body(), HasSubstr("certificate verify failed"));
}

TEST(UpstreamFailureTest, UpstreamThatNeverHandshakesGivesA504) {
  net::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  ProxyHarness::Options o;
  o.handshake_timeout = std::chrono::milliseconds(300);
  o.extra_connect_to = {"slow.openai.azure.com:443:127.0.0.1:" +
                        std::to_string(silent.local_endpoint().port())};
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient("slow.openai.azure.com");
  auto res = c->Request(Get("/", "slow.openai.azure.com"));
  EXPECT_EQ(res.result_int(), 504);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_tls_timeout");
}

TEST(UpstreamFailureTest, UpstreamResetBeforeAnswerGivesA502) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  auto res = c->Request(Get("/reset", kAzureHost));
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_reset");
}

}  // namespace
}  // namespace relaytap::testing
