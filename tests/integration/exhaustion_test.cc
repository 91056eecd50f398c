// #14 item 2: descriptors and time a slow or idle peer can hold. A request head trickled in a
// byte at a time is cut at head_timeout (408), a connection that sends nothing at all ends at
// head_timeout too, connections over max_connections are answered 503 while those within go on,
// and a blind tunnel silent both ways is closed after tunnel_idle_timeout (one that carries bytes
// is not). Each test failed before the fix: the head re-armed the idle timer per byte, there was
// no cap and no tunnel idle limit.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "proxy/session/admission.h"
#include "tests/integration/relay_test_support.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/recording_sink.h"
#include "tests/testing/wait.h"

namespace relaytap::testing {
namespace {

using std::chrono::milliseconds;

// A plain loopback TCP client with deadlines on every read (poll), for peers that misbehave.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool Write(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads until the peer closes or `limit` passes; *closed says which.
  std::string ReadUntilClosed(milliseconds limit, bool* closed) {
    std::string out;
    *closed = false;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // True when the peer sent something or closed (without waiting).
  bool Readable() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

ProxyHarness::Options Options(RecordingSink* sink) {
  ProxyHarness::Options o;
  o.sink = sink;
  o.http_idle_timeout = milliseconds(20'000);
  o.head_timeout = milliseconds(600);
  o.tunnel_idle_timeout = milliseconds(400);
  return o;
}

TEST(ExhaustionTest, HeadTrickledAByteAtATimeIsCutAtHeadTimeout) {
  ProxyHarness h(Options(nullptr));
  RawClient c(h.proxy_port());
  ASSERT_TRUE(c.connected());
  // One byte every 100 ms, never the blank line that ends the head: before the fix each byte
  // re-armed the 20 s idle timer and all 60 bytes went in.
  const std::string head = "CONNECT contoso.openai.azure.com:443 HTTP/1.1\r\nHost: contoso.openai";
  size_t sent = 0;
  while (sent < head.size() && !c.Readable() && c.Write(head.substr(sent, 1))) {
    ++sent;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_LT(sent, head.size()) << "the proxy let the head trickle for 6 s";
  bool closed = false;
  const std::string answer = c.ReadUntilClosed(milliseconds(5'000), &closed);
  // The app is told why, on a plain connection as inside TLS (HeadInsideTheTunnelIsBoundedToo).
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408")) << answer;
  EXPECT_NE(answer.find("relaytap_request_head_timeout"), std::string::npos) << answer;
  EXPECT_TRUE(closed);
}

TEST(ExhaustionTest, AConnectionThatSendsNothingEndsAtHeadTimeout) {
  ProxyHarness h(Options(nullptr));
  RawClient c(h.proxy_port());
  ASSERT_TRUE(c.connected());
  bool closed = false;
  // Far less than the 20 s idle timeout that held it before.
  EXPECT_EQ(c.ReadUntilClosed(milliseconds(5'000), &closed), "");
  EXPECT_TRUE(closed);
}

TEST(ExhaustionTest, HeadInsideTheTunnelIsBoundedToo) {
  ProxyHarness h(Options(nullptr));
  auto c = h.InterceptedClient();
  c->Write("GET /echo HTTP/1.1\r\nHo");  // and nothing more
  beast::get_lowest_layer(c->tls()).expires_after(std::chrono::seconds(10));
  auto res = c->ReadResponse();
  EXPECT_EQ(res.result_int(), 408);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_request_head_timeout");
}

TEST(ExhaustionTest, ConnectionsOverTheCapAreAnswered503AndTheOthersGoOn) {
  ProxyHarness::Options o = Options(nullptr);
  o.head_timeout = milliseconds(20'000);  // the held connections must stay
  o.max_connections = 3;
  ProxyHarness h(std::move(o));
  EXPECT_EQ(h.server().max_connections(), 3);
  auto held1 = std::make_unique<RawClient>(h.proxy_port());
  RawClient held2(h.proxy_port()), held3(h.proxy_port());
  ASSERT_TRUE(WaitFor([&] { return h.server().active_sessions() == 3; }, "three held"));
  RawClient over(h.proxy_port());
  ASSERT_TRUE(over.connected());
  bool closed = false;
  const std::string answer = over.ReadUntilClosed(milliseconds(5'000), &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
  EXPECT_NE(answer.find("relaytap_too_many_connections"), std::string::npos);
  EXPECT_TRUE(closed);
  EXPECT_EQ(h.server().refused_connections(), 1u);
  // One held connection goes; a new one is served.
  held1.reset();
  ASSERT_TRUE(WaitFor([&] { return h.server().active_sessions() == 2; }, "one released"));
  auto c = h.InterceptedClient();
  EXPECT_EQ(c->Request(Get("/echo", kAzureHost)).result_int(), 200);
}

TEST(ExhaustionTest, SilentTunnelIsClosedAndABusyOneIsNot) {
  RecordingSink sink;
  ProxyHarness h(Options(&sink));
  // A tunnel (127.0.0.1 is not intercepted) to the TLS fake upstream.
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect("127.0.0.1", h.upstream_port()), 200);
  ASSERT_TRUE(c.StartTls(kAzureHost, h.upstream_ca_pem()));
  // Busy for 1.2 s, three times the idle limit: a request every 100 ms keeps it open.
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(c.Request(Get("/echo", kAzureHost)).result_int(), 200) << i;
    std::this_thread::sleep_for(milliseconds(100));
  }
  // Then silent: closed by the proxy.
  ASSERT_TRUE(sink.WaitFor<recorder::ConnectionClosed>(1));
  const recorder::ConnectionClosed closed = sink.Of<recorder::ConnectionClosed>()[0];
  EXPECT_EQ(closed.end.reason, recorder::EndReason::kTunnelIdleTimeout);
  EXPECT_GT(closed.bytes_up, 0u);
}

TEST(AdmissionTest, RaisesTheSoftOpenFilesLimitToTheHardOne) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  const rlimit saved = lim;
  if (lim.rlim_max <= 256) GTEST_SKIP() << "hard limit too low to lower the soft one";
  lim.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
  const proxy::OpenFileLimit raised = proxy::RaiseOpenFileLimit();
  EXPECT_EQ(raised.soft_before, 256u);
  EXPECT_EQ(raised.soft, std::min<uint64_t>(lim.rlim_max, 1u << 20));
  EXPECT_EQ(proxy::CurrentOpenFileLimit(), raised.soft);
  ::setrlimit(RLIMIT_NOFILE, &saved);
}

TEST(AdmissionTest, TheCapLeavesDescriptorsInReserve) {
  EXPECT_EQ(proxy::MaxConnectionsFor(1024), 480);
  EXPECT_EQ(proxy::MaxConnectionsFor(1 << 20), ((1 << 20) - 64) / 2);
  EXPECT_GE(proxy::MaxConnectionsFor(16), 1);
}

TEST(AdmissionTest, LogThrottleSaysHowManySinceTheLastLine) {
  using Clock = proxy::LogThrottle::Clock;
  proxy::LogThrottle t(milliseconds(5'000));
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(t.Note(t0), 1u);  // the first at once
  EXPECT_EQ(t.Note(t0 + milliseconds(10)), 0u);
  EXPECT_EQ(t.Note(t0 + milliseconds(4'000)), 0u);
  EXPECT_EQ(t.Note(t0 + milliseconds(5'000)), 3u);
  EXPECT_EQ(t.Note(t0 + milliseconds(5'001)), 0u);
}

}  // namespace
}  // namespace relaytap::testing
