// How a TlsByteStream ends or fails against an Asio ssl::stream peer on loopback: close_notify,
// TCP FIN without it, resets, SIGPIPE, handshake and read timeouts, and certificate verification
// failures on both roles.
#include <csignal>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/tls_byte_stream.h"
#include "tests/proxy/stream/tls_byte_stream_fixture.h"

namespace relaytap::proxy::tls_stream_testing {
namespace {

using ::testing::HasSubstr;
using TlsByteStreamEndTest = TlsByteStreamFixture;

// The peer's close_notify right behind its last record: the bytes come first, the end with the
// next read, which needs nothing more from the socket.
TEST_F(TlsByteStreamEndTest, CloseNotifyBehindTheLastRecordEndsTheNextRead) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  std::string got;
  error_code end, sec;
  size_t reads = 0;
  ASSERT_TRUE(RunAll({
      [&]() -> Awaitable<void> {
        co_await net::async_write(*peer, net::buffer(std::string_view("last words")), Token{});
        std::tie(sec) = co_await peer->async_shutdown(Token{});
      },
      [&]() -> Awaitable<void> {
        std::vector<char> buf(64);
        while (reads++ < 16) {
          if (!ours->HasBufferedInput()) co_await ours->WaitReadable();
          auto [ec, n] = co_await ours->ReadSome(net::buffer(buf));
          got.append(buf.data(), n);
          if (ec) {
            end = ec;
            break;
          }
        }
        co_await ours->ShutdownSend();  // answers the peer's shutdown, which waits for ours
      },
  }));
  EXPECT_EQ(got, "last words");
  EXPECT_EQ(end, net::error::eof) << end.message();
  EXPECT_FALSE(sec) << sec.message();
}

TEST_F(TlsByteStreamEndTest, PeerCloseNotifyIsEof) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  error_code rec, sec;
  char byte;
  ASSERT_TRUE(RunAll({
      [&]() -> Awaitable<void> {
        std::tie(rec, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
        co_await ours->ShutdownSend();  // answers the peer's shutdown, which waits for ours
      },
      [&]() -> Awaitable<void> { std::tie(sec) = co_await peer->async_shutdown(Token{}); },
  }));
  EXPECT_EQ(rec, net::error::eof) << rec.message();
  EXPECT_FALSE(sec) << sec.message();  // the peer saw our close_notify
}

// ShutdownSend while our read is pending (the other pump's): the peer sees our close_notify (eof),
// and our pending read ends once the peer's answer arrives, instead of reading application data.
TEST_F(TlsByteStreamEndTest, ShutdownSendWithAReadPending) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  error_code our_read, peer_read;
  bool shut = false;
  char byte, pbyte;
  ASSERT_TRUE(RunAll({
      [&]() -> Awaitable<void> {
        std::tie(our_read, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
      },
      [&]() -> Awaitable<void> {
        co_await ours->ShutdownSend();
        shut = true;
      },
      [&]() -> Awaitable<void> {
        std::tie(peer_read, std::ignore) =
            co_await peer->async_read_some(net::buffer(&pbyte, 1), Token{});
        co_await peer->async_shutdown(Token{});  // its close_notify; ours is already in
      },
  }));
  EXPECT_TRUE(shut);
  EXPECT_EQ(peer_read, net::error::eof) << peer_read.message();
  EXPECT_EQ(our_read, net::error::eof) << our_read.message();
}

TEST_F(TlsByteStreamEndTest, TcpFinWithoutCloseNotifyIsTruncation) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  peer->next_layer().socket().shutdown(tcp::socket::shutdown_send);
  error_code rec;
  char byte;
  ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> {
    std::tie(rec, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
  }}));
  EXPECT_EQ(rec, ssl::error::stream_truncated) << rec.message();
  EXPECT_TRUE(IsBenignDisconnect(rec));
}

TEST_F(TlsByteStreamEndTest, PeerResetIsReset) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  auto& ps = peer->next_layer().socket();
  ps.set_option(net::socket_base::linger(true, 0));
  ps.close();
  error_code rec;
  char byte;
  ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> {
    std::tie(rec, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
  }}));
  EXPECT_TRUE(IsReset(rec)) << rec.message();
}

// The peer is gone (RST): writes fail with an error instead of raising SIGPIPE (SIG_DFL here).
TEST_F(TlsByteStreamEndTest, WriteAfterPeerResetFailsWithoutSigpipe) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  auto& ps = peer->next_layer().socket();
  ps.set_option(net::socket_base::linger(true, 0));
  ps.close();
  const std::string chunk = Pattern(64 * 1024, 3);
  std::vector<error_code> errors;
  ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> {
    co_await ours->WaitReadable();  // the RST arrived
    // The first send reports the reset (ECONNRESET), the next ones EPIPE: the SIGPIPE case.
    for (int i = 0; i < 3; ++i) {
      auto [ec, n] = co_await ours->WriteAll(net::buffer(chunk));
      errors.push_back(ec);
    }
  }}));
  ASSERT_EQ(errors.size(), 3u);
  for (const error_code& ec : errors) EXPECT_TRUE(IsReset(ec)) << ec.message();
}

TEST_F(TlsByteStreamEndTest, HandshakeTimesOutWhenThePeerSendsNothing) {
  auto [a, b] = Connect();
  auto ours = MakeServer(std::move(a));
  error_code hec;
  ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> {
    hec = co_await ours->Handshake(std::chrono::milliseconds(50));
  }}));
  EXPECT_TRUE(IsTimeout(hec)) << hec.message();
}

TEST_F(TlsByteStreamEndTest, ReadTimesOutAndZeroMeansNone) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  error_code first, second;
  size_t n2 = 0;
  char buf[8];
  ASSERT_TRUE(RunAll({
      [&]() -> Awaitable<void> {
        ours->SetTimeout(std::chrono::milliseconds(50));
        std::tie(first, std::ignore) = co_await ours->ReadSome(net::buffer(buf));
        ours->SetTimeout(std::chrono::milliseconds(0));
        // No deadline now: this read waits for the peer's bytes, sent after the timeout.
        std::tie(second, n2) = co_await ours->ReadSome(net::buffer(buf));
      },
      [&]() -> Awaitable<void> {
        Timer t(co_await net::this_coro::executor);
        for (int i = 0; i < 400 && !first; ++i) {  // bounded: until the first read ended
          t.expires_after(std::chrono::milliseconds(10));
          co_await t.async_wait();
        }
        co_await net::async_write(*peer, net::buffer(std::string_view("late")), Token{});
      },
  }));
  EXPECT_TRUE(IsTimeout(first)) << first.message();
  EXPECT_FALSE(second) << second.message();
  EXPECT_EQ(std::string(buf, n2), "late");
}

// An app that does not trust relaytap's CA aborts the handshake with an alert: the server side's
// error is the one client_session.cc recognises and words for the operator.
TEST_F(TlsByteStreamEndTest, ClientThatDoesNotTrustTheCa) {
  auto untrusting = tls::MakeUpstreamContext(std::nullopt);
  ASSERT_TRUE(untrusting.ok()) << untrusting.status();
  auto [a, b] = Connect();
  auto ours = MakeServer(std::move(a));
  auto peer = MakePeerClient(std::move(b), **untrusting);
  error_code oec, pec;
  ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> { oec = co_await ours->Handshake({}); },
                      [&]() -> Awaitable<void> {
                        std::tie(pec) =
                            co_await peer->async_handshake(ssl::stream_base::client, Token{});
                        peer->next_layer().close();
                      }}));
  EXPECT_TRUE(pec);
  EXPECT_TRUE(IsClientRejectedCa(oec)) << DescribeError(oec);
  EXPECT_THAT(DescribeError(oec), HasSubstr("unknown ca"));
}

// The upstream side: our client stream verifies the server, and names the verify failure.
TEST_F(TlsByteStreamEndTest, ClientRoleVerifiesTheServer) {
  auto untrusting = tls::MakeUpstreamContext(std::nullopt);
  ASSERT_TRUE(untrusting.ok()) << untrusting.status();
  for (ssl::context* ctx : {client_ctx_.get(), untrusting->get()}) {
    auto [a, b] = Connect();
    auto made = TlsByteStream::Create(std::move(b.socket()), *ctx, TlsRole::kClient);
    ASSERT_TRUE(made.ok()) << made.status();
    std::unique_ptr<TlsByteStream> ours = *std::move(made);
    ASSERT_TRUE(tls::PrepareUpstreamSsl(ours->native_handle(), kHost).ok());
    PeerStream server(std::move(a), *server_ctx_);
    ASSERT_TRUE(tls::PrepareDownstreamSsl(server.native_handle(), *ca_, kHost).ok());
    error_code oec;
    std::string got(5, '\0');
    ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> {
                          oec = co_await ours->Handshake({});
                          if (!oec) co_await ours->WriteAll(net::buffer(std::string_view("hello")));
                          ours->Close();
                        },
                        [&]() -> Awaitable<void> {
                          auto [hec] =
                              co_await server.async_handshake(ssl::stream_base::server, Token{});
                          if (!hec)
                            co_await net::async_read(server, net::buffer(got), net::transfer_all(),
                                                     Token{});
                          server.next_layer().close();
                        }}));
    if (ctx == client_ctx_.get()) {
      EXPECT_FALSE(oec) << DescribeError(oec);
      EXPECT_EQ(got, "hello");
    } else {
      EXPECT_TRUE(oec);
      EXPECT_THAT(tls::VerifyFailureOf(ours->native_handle()), HasSubstr("issuer"));
    }
  }
}

}  // namespace
}  // namespace relaytap::proxy::tls_stream_testing
