// #14 item 6: remote mode (--allow-remote) is never an open proxy. Without credentials or an
// allowlist the configuration is refused; with --proxy-auth-file the app must send them (407
// otherwise); a client outside --allow-client is closed; and nobody is dialled into loopback,
// link-local or private addresses unless --connect-to maps the target there. Before, remote
// mode served anyone, anywhere.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "proxy/config/config.h"
#include "proxy/stream/address.h"
#include "tests/integration/relay_test_support.h"
#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {
namespace {

TEST(RemoteAccessTest, RemoteModeNeedsCredentialsOrAnAllowlist) {
  proxy::ProxyConfig c;
  c.listen = {"0.0.0.0", 8080};
  c.allow_remote = true;
  absl::Status st = proxy::ValidateConfig(c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--proxy-auth-file"), std::string_view::npos);
  c.allow_clients = {"10.0.0.0/8"};
  EXPECT_TRUE(proxy::ValidateConfig(c).ok());
}

std::filesystem::path AuthFile() {
  const std::filesystem::path p = FreshDir("remote_auth") / "proxy-auth";
  std::ofstream(p) << "# operators\nalice:s3cret pass\n";
  return p;
}

TEST(RemoteAccessTest, CredentialsAreRequiredAndChecked) {
  ProxyHarness::Options o;
  o.allow_remote = true;
  o.proxy_auth_file = AuthFile();
  ProxyHarness h(std::move(o));
  const std::string connect =
      "CONNECT " + std::string(kAzureHost) + ":443 HTTP/1.1\r\nHost: " + kAzureHost + ":443\r\n";
  {
    ProxyClient c(h.proxy_port());
    c.Write(connect + "\r\n");
    auto res = c.ReadResponse(/*head_request=*/true);
    EXPECT_EQ(res.result_int(), 407);
    EXPECT_EQ(res["proxy-authenticate"], "Basic realm=\"relaytap\"");
  }
  {
    ProxyClient c(h.proxy_port());  // base64("alice:wrong")
    c.Write(connect + "Proxy-Authorization: Basic YWxpY2U6d3Jvbmc=\r\n\r\n");
    EXPECT_EQ(c.ReadResponse(/*head_request=*/true).result_int(), 407);
  }
  ProxyClient c(h.proxy_port());  // base64("alice:s3cret pass")
  c.Write(connect + "Proxy-Authorization: basic YWxpY2U6czNjcmV0IHBhc3M=\r\n\r\n");
  http::response_parser<http::empty_body> p;
  p.skip(true);
  http::read_header(c.tcp(), c.buffer(), p);
  ASSERT_EQ(p.get().result_int(), 200);
  ASSERT_TRUE(c.StartTls(kAzureHost, h.proxy_ca_pem()));
  EXPECT_EQ(c.Request(Get("/echo", kAzureHost)).result_int(), 200);
}

TEST(RemoteAccessTest, ClientsOutsideTheAllowlistAreClosed) {
  ProxyHarness::Options o;
  o.allow_remote = true;
  o.allow_clients = {"10.0.0.0/8", "fd00::/8"};
  ProxyHarness h(std::move(o));
  ProxyClient c(h.proxy_port());
  c.Write("CONNECT " + std::string(kAzureHost) + ":443 HTTP/1.1\r\n\r\n");
  char byte;
  boost::system::error_code ec;
  c.tcp().socket().read_some(net::buffer(&byte, 1), ec);  // closed without an answer
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
}

TEST(RemoteAccessTest, InternalDestinationsAreRefusedUnlessMapped) {
  ProxyHarness::Options o;
  o.allow_remote = true;
  o.allow_clients = {"127.0.0.0/8"};
  ProxyHarness h(std::move(o));
  const std::string internal = "127.0.0.1:" + std::to_string(h.upstream_port());
  {
    ProxyClient c(h.proxy_port());  // a tunnel into this machine
    c.Write("CONNECT " + internal + " HTTP/1.1\r\nHost: " + internal + "\r\n\r\n");
    auto res = c.ReadResponse();
    EXPECT_EQ(res.result_int(), 403);
    EXPECT_EQ(res["x-relaytap-error"], "relaytap_destination_forbidden");
  }
  {
    ProxyClient c(h.proxy_port());  // plain HTTP into this machine
    c.Write("GET http://" + internal + "/echo HTTP/1.1\r\nHost: " + internal + "\r\n\r\n");
    EXPECT_EQ(c.ReadResponse().result_int(), 403);
  }
  // The intercepted host is mapped to the same loopback address by --connect-to: allowed.
  auto c = h.InterceptedClient();
  EXPECT_EQ(c->Request(Get("/echo", kAzureHost)).result_int(), 200);
}

TEST(AddressTest, CidrsAndInternalRanges) {
  auto addr = [](const char* a) { return net::ip::make_address(a); };
  const proxy::Cidr ten = *proxy::ParseCidr("10.0.0.0/8");
  EXPECT_TRUE(proxy::CidrContains(ten, addr("10.1.2.3")));
  EXPECT_TRUE(proxy::CidrContains(ten, addr("::ffff:10.1.2.3")));
  EXPECT_FALSE(proxy::CidrContains(ten, addr("11.0.0.1")));
  EXPECT_FALSE(proxy::CidrContains(ten, addr("::a01:203")));
  EXPECT_TRUE(proxy::CidrContains(*proxy::ParseCidr("192.0.2.7"), addr("192.0.2.7")));
  EXPECT_FALSE(proxy::CidrContains(*proxy::ParseCidr("192.0.2.7"), addr("192.0.2.8")));
  EXPECT_TRUE(proxy::CidrContains(*proxy::ParseCidr("fd00::/8"), addr("fd12::1")));
  EXPECT_FALSE(proxy::ParseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(proxy::ParseCidr("host.example/8").ok());
  for (const char* internal :
       {"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.1.1", "100.64.0.1",
        "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:192.168.1.1"}) {
    EXPECT_TRUE(proxy::IsInternalAddress(addr(internal))) << internal;
  }
  for (const char* external : {"20.1.2.3", "172.32.0.1", "2001:db8::1", "::ffff:20.1.2.3"}) {
    EXPECT_FALSE(proxy::IsInternalAddress(addr(external))) << external;
  }
}

}  // namespace
}  // namespace relaytap::testing
