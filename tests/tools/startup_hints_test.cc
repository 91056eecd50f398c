#include "tools/fake_upstream/startup_hints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relaytap::tools::fake_upstream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(StartupHintsTest, TlsHintsNameTheUrlsAndTheProxyFlags) {
  HintInput in;
  in.port = 8443;
  in.tls = true;
  in.tls_ca = "/tmp/ca.pem";
  std::string hints = StartupHints(in);
  EXPECT_THAT(hints, HasSubstr("wss://127.0.0.1:8443/openai/v1/realtime?model=gpt-realtime"));
  EXPECT_THAT(hints, HasSubstr("wss://127.0.0.1:8443/openai/realtime?api-version="));
  EXPECT_THAT(hints,
              HasSubstr("https://127.0.0.1:8443/openai/v1/realtime/calls -H "
                        "'authorization: Bearer ek_...' -H 'content-type: application/sdp'"));
  EXPECT_THAT(hints, HasSubstr("curl -sS --cacert /tmp/ca.pem -X POST "
                               "https://127.0.0.1:8443/openai/v1/realtime/client_secrets"));
  EXPECT_THAT(hints, HasSubstr("relaytap proxy --connect-to "
                               "contoso.openai.azure.com:443:127.0.0.1:8443 --upstream-ca "
                               "/tmp/ca.pem"));
  EXPECT_THAT(hints, HasSubstr("eval \"$(relaytap ca env)\""));
  in.tls_ca.clear();
  in.azure_host = "myres.openai.azure.com";
  hints = StartupHints(in);
  EXPECT_THAT(hints, HasSubstr("curl -sS -k"));
  EXPECT_THAT(hints, HasSubstr("--connect-to myres.openai.azure.com:443:127.0.0.1:8443"));
  EXPECT_THAT(hints, HasSubstr("<CA that issued --tls-cert>"));
}

TEST(StartupHintsTest, LeafForTheAzureHostReachesItByNameWithConnectTo) {
  HintInput in;
  in.port = 8443;
  in.tls = true;
  in.tls_ca = "/root/.relaytap/relaytap-ca.pem";
  in.leaf_for_azure_host = true;
  std::string hints = StartupHints(in);
  EXPECT_THAT(hints, HasSubstr("curl -sS --cacert /root/.relaytap/relaytap-ca.pem --connect-to "
                               "contoso.openai.azure.com:443:127.0.0.1:8443 -X POST "
                               "https://contoso.openai.azure.com/openai/v1/realtime/"
                               "client_secrets"));
  EXPECT_THAT(hints, HasSubstr("wss://contoso.openai.azure.com/openai/v1/realtime?model="));
  EXPECT_THAT(hints, HasSubstr("relaytap proxy --connect-to "
                               "contoso.openai.azure.com:443:127.0.0.1:8443 --upstream-ca "
                               "/root/.relaytap/relaytap-ca.pem"));
}

TEST(StartupHintsTest, PlainHttpSaysTheProxyNeedsTls) {
  HintInput in;
  in.port = 8080;
  std::string hints = StartupHints(in);
  EXPECT_THAT(hints, HasSubstr("ws://127.0.0.1:8080/openai/v1/realtime"));
  EXPECT_THAT(hints, HasSubstr("restart with --tls (a leaf from relaytap's CA)"));
  EXPECT_THAT(hints, HasSubstr("--tls-cert/--tls-key"));
  EXPECT_THAT(hints, Not(HasSubstr("--connect-to")));
}

TEST(StartupHintsTest, DescribesFaultsAndCounts) {
  FaultProfile p;
  p.rates = {{Fault::kResponseFailed, 0.8}};
  p.windows.push_back({seconds(600), seconds(900), {{Fault::kResponseFailed, 15}}});
  p.period = seconds(3600);
  p.deployments["gpt-x"] = {{Fault::kUpgrade5xx, 100}};
  std::string d = DescribeFaults(p, 42);
  EXPECT_THAT(d, HasSubstr("faults: response_failed 0.8%"));
  EXPECT_THAT(d, HasSubstr("window 600-900 s: response_failed 15%"));
  EXPECT_THAT(d, HasSubstr("every 3600 s"));
  EXPECT_THAT(d, HasSubstr("deployment gpt-x: upgrade_5xx 100%"));
  EXPECT_THAT(d, HasSubstr("--seed 42 repeats"));
  EXPECT_THAT(DescribeFaults(FaultProfile{}, 1), HasSubstr("faults: none"));

  FaultModel model(p, 1, [] { return milliseconds(0); });
  EXPECT_EQ(DescribeCounts(model), "none");
  for (int i = 0; i < 3; ++i) model.Decide(Stage::kUpgrade, "gpt-x");
  EXPECT_EQ(DescribeCounts(model), "upgrade_5xx 3");
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream
