// Issue #14 item 5 through the real proxy: the leaf follows the CONNECT host (an SNI naming
// another host is refused and recorded as such), and the proxy's CA cannot vouch for a host
// outside the intercept patterns even with a leaf minted by hand from its key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "recorder/observation.h"
#include "tests/integration/relay_test_support.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/recording_sink.h"
#include "tests/testing/x509_check.h"

namespace relaytap::testing {
namespace {

using ::testing::HasSubstr;

TEST(CaConstraintsTest, SniOtherThanTheConnectHostIsRefusedAndRecorded) {
  RecordingSink sink;
  ProxyHarness::Options o;
  o.sink = &sink;
  ProxyHarness h(std::move(o));
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect(kAzureHost, 443), 200);
  std::string err;
  // The app trusts the proxy's CA, but asks for another name inside the tunnel.
  EXPECT_FALSE(c.StartTls("www.google.com", h.proxy_ca_pem(), &err));
  EXPECT_THAT(err, HasSubstr("handshake failure"));
  ASSERT_TRUE(sink.WaitFor<recorder::ConnectionClosed>(1));
  EXPECT_EQ(recorder::EndText(sink.Of<recorder::ConnectionClosed>()[0].end), "app_sni_mismatch");
  // The same connection shape with the matching name still works.
  auto ok = h.InterceptedClient();
  EXPECT_EQ(ok->Request(Get("/echo", kAzureHost)).result_int(), 200);
}

TEST(CaConstraintsTest, SniMatchingTheConnectHostInAnotherCaseIsAccepted) {
  ProxyHarness h;
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect(kAzureHost, 443), 200);
  std::string err;
  EXPECT_TRUE(c.StartTls("CONTOSO.openai.azure.com", h.proxy_ca_pem(), &err)) << err;
}

TEST(CaConstraintsTest, LeafOutsideTheInterceptPatternsFailsVerificationEvenIfMinted) {
  ProxyHarness h;
  X509Ptr ca = ParseCertPem(ReadFileForTest(h.proxy_ca_pem()));
  ASSERT_NE(ca, nullptr);
  X509Ptr outside = HandMintLeaf(h.proxy_ca_dir(), "www.google.com");
  ASSERT_NE(outside, nullptr);
  EXPECT_EQ(VerifyWithAnchor(ca.get(), outside.get(), "www.google.com", false),
            "permitted subtree violation");
  X509Ptr apex = HandMintLeaf(h.proxy_ca_dir(), "openai.azure.com");  // "*.x" is not "x"
  EXPECT_EQ(VerifyWithAnchor(ca.get(), apex.get(), "openai.azure.com", false),
            "permitted subtree violation");
  X509Ptr ip = HandMintLeaf(h.proxy_ca_dir(), "10.1.2.3");
  EXPECT_NE(VerifyWithAnchor(ca.get(), ip.get(), "10.1.2.3", true), "");
  // Inside the patterns, the same hand-made leaf verifies: the checks above are not vacuous.
  X509Ptr inside = HandMintLeaf(h.proxy_ca_dir(), kAzureHost);
  EXPECT_EQ(VerifyWithAnchor(ca.get(), inside.get(), kAzureHost, false), "");
}

}  // namespace
}  // namespace relaytap::testing
