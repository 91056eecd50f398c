// The CONNECT client against scripted proxy answers on loopback: the request it sends, a 2xx that
// leaves the tunnel's first bytes in the socket, a 407, relaytap's own loop answer, a malformed
// answer and silence until the timeout.
#include "proxy/stream/upstream_proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace relaytap::proxy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Outcome {
  ProxyConnectResult result;
  std::string request;    // what the proxy received
  std::string after;      // what the client read after the answer (the tunnel's first bytes)
  bool finished = false;  // the client coroutine ran to its end
};

// RunAgainst: ConnectThroughProxy against a one-shot server that reads the request head and writes
// `answer` (then keeps the socket open until the client is done). Bounded by io run_for.
Outcome RunAgainst(const std::string& answer, const UpstreamProxy& proxy,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  net::io_context ioc;
  Acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  Outcome out;
  auto server = [&]() -> Awaitable<void> {
    auto [aec, socket] = co_await acceptor.async_accept();
    if (aec) co_return;
    std::string buf;
    auto [rec, n] = co_await net::async_read_until(socket, net::dynamic_buffer(buf), "\r\n\r\n");
    out.request = buf.substr(0, rec ? buf.size() : n);
    if (!answer.empty()) co_await net::async_write(socket, net::buffer(answer));
    Timer hold(co_await net::this_coro::executor);
    hold.expires_after(timeout + std::chrono::seconds(2));
    co_await hold.async_wait();
  };
  auto client = [&]() -> Awaitable<void> {
    TcpStream stream(co_await net::this_coro::executor);
    auto [cec] =
        co_await stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    if (cec) co_return;
    const HostPort target{"10.1.2.3", 443};  // named: g++ 12 mishandles temporaries in co_await
    out.result = co_await ConnectThroughProxy(stream, proxy, target, timeout);
    if (out.result.ok()) {
      std::string rest(5, '\0');
      auto [rec, n] = co_await net::async_read(stream, net::buffer(rest));
      if (!rec) out.after = rest.substr(0, n);
    }
    out.finished = true;
    ioc.stop();
  };
  auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  net::co_spawn(ioc, server(), rethrow);
  net::co_spawn(ioc, client(), rethrow);
  ioc.run_for(timeout + std::chrono::seconds(5));
  return out;
}

UpstreamProxy Proxy(const std::string& credentials = "") {
  UpstreamProxy p;
  p.address = {"127.0.0.1", 3128};
  p.credentials = credentials;
  return p;
}

TEST(UpstreamProxyClientTest, SendsConnectWithBasicCredentialsAndItsViaMarker) {
  const std::string req = BuildConnectRequest(Proxy("aladdin:opensesame"), {"::1", 8443});
  EXPECT_THAT(req, HasSubstr("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"));
  EXPECT_THAT(req, HasSubstr("\r\nProxy-Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l\r\n"));
  EXPECT_THAT(req, HasSubstr("\r\nVia: 1.1 " + std::string(LoopMarker()) + "\r\n"));
  EXPECT_THAT(BuildConnectRequest(Proxy(), {"h", 1}), Not(HasSubstr("Proxy-Authorization")));
  EXPECT_TRUE(CarriesLoopMarker({{"VIA", "1.0 squid, 1.1 " + std::string(LoopMarker())}}));
  EXPECT_FALSE(CarriesLoopMarker({{"Via", "1.1 relaytap-0000000000000000"}}));
}

TEST(UpstreamProxyClientTest, A2xxLeavesTheTunnelsFirstBytesInTheSocket) {
  Outcome o = RunAgainst("HTTP/1.1 200 Connection established\r\nX-A: b\r\n\r\nHELLO", Proxy());
  ASSERT_TRUE(o.finished);
  EXPECT_TRUE(o.result.ok()) << o.result.reason;
  EXPECT_EQ(o.result.status, 200);
  EXPECT_EQ(o.after, "HELLO");
  EXPECT_THAT(o.request, HasSubstr("CONNECT 10.1.2.3:443 HTTP/1.1\r\n"));
}

TEST(UpstreamProxyClientTest, A407SaysWhereCredentialsGoWithoutThem) {
  Outcome o = RunAgainst("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
                         Proxy("u:Secr3t"));
  ASSERT_TRUE(o.finished);
  EXPECT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.status, 407);
  EXPECT_THAT(o.result.reason, HasSubstr("answered 407 Proxy Authentication Required to CONNECT "
                                         "10.1.2.3:443 (it rejected the credentials given)"));
  EXPECT_THAT(o.result.reason, Not(HasSubstr("Secr3t")));
  Outcome none = RunAgainst("HTTP/1.0 407 Proxy Authentication Required\r\n\r\n", Proxy());
  EXPECT_THAT(none.result.reason, HasSubstr("--upstream-proxy-auth-file"));
}

TEST(UpstreamProxyClientTest, RelaytapsOwnLoopAnswerIsALoop) {
  Outcome o = RunAgainst(
      "HTTP/1.1 508 Loop Detected\r\nx-relaytap-error: relaytap_proxy_loop\r\n\r\n", Proxy());
  ASSERT_TRUE(o.finished);
  EXPECT_EQ(o.result.status, 508);
  EXPECT_TRUE(o.result.loop);
  EXPECT_THAT(o.result.reason, HasSubstr("a proxy loop"));
}

TEST(UpstreamProxyClientTest, MalformedOrMissingAnswersAreFailures) {
  Outcome bad = RunAgainst("SSH-2.0-OpenSSH\r\n\r\n", Proxy());
  ASSERT_TRUE(bad.finished);
  EXPECT_FALSE(bad.result.ok());
  EXPECT_THAT(bad.result.reason, HasSubstr("malformed"));
  Outcome silent = RunAgainst("", Proxy(), std::chrono::milliseconds(200));
  ASSERT_TRUE(silent.finished);
  EXPECT_EQ(silent.result.ec, net::error::timed_out);
  EXPECT_THAT(silent.result.reason, HasSubstr("did not answer CONNECT 10.1.2.3:443 in time"));
}

}  // namespace
}  // namespace relaytap::proxy
