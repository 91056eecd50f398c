// TlsByteStream over a loopback TCP pair against an Asio ssl::stream peer (the kind of TLS stack
// apps and Azure bring), both driven as coroutines on one io_context, every run bounded in time.
#include "proxy/stream/tls_byte_stream.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/stream/errors.h"
#include "proxy/tls/cert_authority.h"
#include "proxy/tls/contexts.h"

namespace relaytap::proxy {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using PeerStream = ssl::stream<TcpStream>;

constexpr auto kRunLimit = std::chrono::seconds(60);
constexpr std::string_view kHost = "api.example.test";

fs::path TestRoot() {
  return fs::path(::testing::TempDir()) /
         ("relaytap_tls_stream_test_" + std::to_string(::getpid()));
}

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) % 251);
  return s;
}

class TlsByteStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_DFL);  // a send() without MSG_NOSIGNAL would kill the test
    auto ca = tls::CertAuthority::LoadOrCreate(
        TestRoot() / ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::move(*ca);
    auto server = tls::MakeDownstreamContext(*ca_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ctx_ = std::move(*server);
    auto client = tls::MakeUpstreamContext(ca_->cert_path());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ctx_ = std::move(*client);
    acceptor_.emplace(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(TestRoot(), ec);
  }

  // A connected pair: {ours (accepted), peer (connecting)}.
  std::pair<TcpStream, TcpStream> Connect() {
    TcpStream peer(ioc_.get_executor());
    peer.socket().connect(acceptor_->local_endpoint());
    TcpStream ours(ioc_.get_executor());
    acceptor_->accept(ours.socket());
    return {std::move(ours), std::move(peer)};
  }

  std::unique_ptr<TlsByteStream> MakeServer(TcpStream s, std::string early = {}) {
    auto made =
        TlsByteStream::Create(std::move(s), *server_ctx_, TlsRole::kServer, std::move(early));
    EXPECT_TRUE(made.ok()) << made.status();
    if (!made.ok()) return nullptr;
    EXPECT_TRUE(tls::PrepareDownstreamSsl((*made)->native_handle(), *ca_, kHost).ok());
    return *std::move(made);
  }

  std::unique_ptr<PeerStream> MakePeerClient(TcpStream s, ssl::context& ctx) {
    auto peer = std::make_unique<PeerStream>(std::move(s), ctx);
    EXPECT_TRUE(tls::PrepareUpstreamSsl(peer->native_handle(), kHost).ok());
    return peer;
  }

  // Runs the coroutines to completion (bounded); true if all finished.
  ::testing::AssertionResult RunAll(std::vector<std::function<net::awaitable<void>()>> tasks) {
    size_t done = 0;
    for (auto& t : tasks) {
      net::co_spawn(ioc_, t(), [&done](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        ++done;
      });
    }
    ioc_.run_for(kRunLimit);
    ioc_.restart();
    if (done == tasks.size()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << done << " of " << tasks.size() << " tasks finished";
  }

  // Our server stream and an Asio client peer, handshaken.
  ::testing::AssertionResult Handshaken(std::unique_ptr<TlsByteStream>& ours,
                                        std::unique_ptr<PeerStream>& peer) {
    auto [a, b] = Connect();
    ours = MakeServer(std::move(a));
    peer = MakePeerClient(std::move(b), *client_ctx_);
    error_code oec, pec;
    auto ok = RunAll({[&]() -> net::awaitable<void> { oec = co_await ours->Handshake({}); },
                      [&]() -> net::awaitable<void> {
                        std::tie(pec) =
                            co_await peer->async_handshake(ssl::stream_base::client, Token{});
                      }});
    if (!ok) return ok;
    if (oec || pec) {
      return ::testing::AssertionFailure()
             << "ours: " << DescribeError(oec) << " peer: " << DescribeError(pec);
    }
    return ::testing::AssertionSuccess();
  }

  net::io_context ioc_;
  std::optional<tcp::acceptor> acceptor_;
  std::unique_ptr<tls::CertAuthority> ca_;
  std::unique_ptr<ssl::context> server_ctx_;
  std::unique_ptr<ssl::context> client_ctx_;
};

// Both ends write 8 MiB while reading: the two directions' SSL_read and SSL_write interleave on
// one SSL, with the socket buffers full in both directions.
TEST_F(TlsByteStreamTest, LargeBidirectionalTransferAtOnce) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  constexpr size_t kBytes = 8 << 20;
  const std::string down = Pattern(kBytes, 7), up = Pattern(kBytes, 11);
  std::string got_by_ours, got_by_peer(kBytes, '\0');
  error_code our_write_ec, peer_write_ec, peer_read_ec;
  size_t our_reads = 0;
  ASSERT_TRUE(RunAll({
      [&]() -> net::awaitable<void> {
        auto [ec, n] = co_await ours->WriteAll(net::buffer(down));
        our_write_ec = ec;
        EXPECT_EQ(n, kBytes);
      },
      [&]() -> net::awaitable<void> {
        std::vector<char> buf(16 * 1024);
        while (got_by_ours.size() < kBytes && our_reads < 4 * kBytes) {
          ++our_reads;
          auto [ec, n] = co_await ours->ReadSome(net::buffer(buf));
          got_by_ours.append(buf.data(), n);
          if (ec) break;
        }
      },
      [&]() -> net::awaitable<void> {
        std::tie(peer_write_ec, std::ignore) =
            co_await net::async_write(*peer, net::buffer(up), Token{});
      },
      [&]() -> net::awaitable<void> {
        std::tie(peer_read_ec, std::ignore) =
            co_await net::async_read(*peer, net::buffer(got_by_peer), net::transfer_all(), Token{});
      },
  }));
  EXPECT_FALSE(our_write_ec) << our_write_ec.message();
  EXPECT_FALSE(peer_write_ec) << peer_write_ec.message();
  EXPECT_FALSE(peer_read_ec) << peer_read_ec.message();
  EXPECT_TRUE(got_by_ours == up) << "ours received " << got_by_ours.size() << " bytes";
  EXPECT_TRUE(got_by_peer == down);
}

// Records already fetched from the socket (read ahead) or half returned count as buffered input:
// the pump then reads again instead of waiting for a socket that has nothing more to say.
TEST_F(TlsByteStreamTest, BufferedInputCoversRecordsAlreadyFetched) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  std::string first(3, '\0'), second(1, '\0'), rest(2, '\0');
  bool before = true, after_first = false, after_second = false, after_rest = true;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
    co_await net::async_write(*peer, net::buffer(std::string_view("abc")), Token{});
    co_await net::async_write(*peer, net::buffer(std::string_view("def")), Token{});
    before = ours->HasBufferedInput();
    co_await ours->WaitReadable();
    co_await ours->ReadSome(net::buffer(first));  // fetches both records, returns the first
    after_first = ours->HasBufferedInput();
    co_await ours->ReadSome(net::buffer(second));
    after_second = ours->HasBufferedInput();  // "ef" of the second record
    co_await ours->ReadSome(net::buffer(rest));
    after_rest = ours->HasBufferedInput();
  }}));
  EXPECT_FALSE(before);
  EXPECT_EQ(first, "abc");
  EXPECT_TRUE(after_first);
  EXPECT_EQ(second, "d");
  EXPECT_TRUE(after_second);
  EXPECT_EQ(rest, "ef");
  EXPECT_FALSE(after_rest);
}

// Records OpenSSL already holds come back in one read (up to the buffer): the pump then relays a
// WebSocket message the peer wrote as several records (a frame header and its payload, Beast's
// 4 KiB chunks) as one record and one send.
TEST_F(TlsByteStreamTest, OneReadReturnsEveryRecordAlreadyFetched) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  std::string got(16, '\0');
  size_t n = 0;
  error_code ec;
  bool after = true;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
    for (std::string_view part : {"ab", "cde", "f"}) {
      co_await net::async_write(*peer, net::buffer(part), Token{});
    }
    co_await ours->WaitReadable();
    std::tie(ec, n) = co_await ours->ReadSome(net::buffer(got));
    after = ours->HasBufferedInput();
  }}));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(got.substr(0, n), "abcdef");
  EXPECT_FALSE(after);
}

// The peer's close_notify right behind its last record: the bytes come first, the end with the
// next read, which needs nothing more from the socket.
TEST_F(TlsByteStreamTest, CloseNotifyBehindTheLastRecordEndsTheNextRead) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  std::string got;
  error_code end, sec;
  size_t reads = 0;
  ASSERT_TRUE(RunAll({
      [&]() -> net::awaitable<void> {
        co_await net::async_write(*peer, net::buffer(std::string_view("last words")), Token{});
        std::tie(sec) = co_await peer->async_shutdown(Token{});
      },
      [&]() -> net::awaitable<void> {
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

// The first bytes of the ClientHello were read off the socket before the stream existed (as the
// CONNECT head's read does): handed in as `early`, the handshake still completes.
TEST_F(TlsByteStreamTest, EarlyBytesBeforeTheClientHello) {
  auto [a, b] = Connect();
  auto peer = MakePeerClient(std::move(b), *client_ctx_);
  std::unique_ptr<TlsByteStream> ours;
  error_code oec, pec, rec;
  std::string early(7, '\0'), got(4, '\0');
  size_t early_n = 0;
  ASSERT_TRUE(RunAll({
      [&]() -> net::awaitable<void> {
        std::tie(rec, early_n) =
            co_await net::async_read(a, net::buffer(early), net::transfer_all(), Token{});
        ours = MakeServer(std::move(a), early);
        oec = co_await ours->Handshake({});
        if (!oec) co_await ours->WriteAll(net::buffer(std::string_view("pong")));
      },
      [&]() -> net::awaitable<void> {
        std::tie(pec) = co_await peer->async_handshake(ssl::stream_base::client, Token{});
        if (!pec) co_await net::async_read(*peer, net::buffer(got), net::transfer_all(), Token{});
      },
  }));
  ASSERT_EQ(early_n, 7u) << rec.message();
  EXPECT_EQ(early[0], 0x16);  // a handshake record: the ClientHello's start
  EXPECT_FALSE(oec) << DescribeError(oec);
  EXPECT_FALSE(pec) << DescribeError(pec);
  EXPECT_EQ(got, "pong");
}

TEST_F(TlsByteStreamTest, PeerCloseNotifyIsEof) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  error_code rec, sec;
  char byte;
  ASSERT_TRUE(RunAll({
      [&]() -> net::awaitable<void> {
        std::tie(rec, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
        co_await ours->ShutdownSend();  // answers the peer's shutdown, which waits for ours
      },
      [&]() -> net::awaitable<void> { std::tie(sec) = co_await peer->async_shutdown(Token{}); },
  }));
  EXPECT_EQ(rec, net::error::eof) << rec.message();
  EXPECT_FALSE(sec) << sec.message();  // the peer saw our close_notify
}

// ShutdownSend while our read is pending (the other pump's): the peer sees our close_notify (eof),
// and our pending read ends once the peer's answer arrives, instead of reading application data.
TEST_F(TlsByteStreamTest, ShutdownSendWithAReadPending) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  error_code our_read, peer_read;
  bool shut = false;
  char byte, pbyte;
  ASSERT_TRUE(RunAll({
      [&]() -> net::awaitable<void> {
        std::tie(our_read, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
      },
      [&]() -> net::awaitable<void> {
        co_await ours->ShutdownSend();
        shut = true;
      },
      [&]() -> net::awaitable<void> {
        std::tie(peer_read, std::ignore) =
            co_await peer->async_read_some(net::buffer(&pbyte, 1), Token{});
        co_await peer->async_shutdown(Token{});  // its close_notify; ours is already in
      },
  }));
  EXPECT_TRUE(shut);
  EXPECT_EQ(peer_read, net::error::eof) << peer_read.message();
  EXPECT_EQ(our_read, net::error::eof) << our_read.message();
}

TEST_F(TlsByteStreamTest, TcpFinWithoutCloseNotifyIsTruncation) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  peer->next_layer().socket().shutdown(tcp::socket::shutdown_send);
  error_code rec;
  char byte;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
    std::tie(rec, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
  }}));
  EXPECT_EQ(rec, ssl::error::stream_truncated) << rec.message();
  EXPECT_TRUE(IsBenignDisconnect(rec));
}

TEST_F(TlsByteStreamTest, PeerResetIsReset) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  auto& ps = peer->next_layer().socket();
  ps.set_option(net::socket_base::linger(true, 0));
  ps.close();
  error_code rec;
  char byte;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
    std::tie(rec, std::ignore) = co_await ours->ReadSome(net::buffer(&byte, 1));
  }}));
  EXPECT_TRUE(IsReset(rec)) << rec.message();
}

// The peer is gone (RST): writes fail with an error instead of raising SIGPIPE (SIG_DFL here).
TEST_F(TlsByteStreamTest, WriteAfterPeerResetFailsWithoutSigpipe) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  auto& ps = peer->next_layer().socket();
  ps.set_option(net::socket_base::linger(true, 0));
  ps.close();
  const std::string chunk = Pattern(64 * 1024, 3);
  std::vector<error_code> errors;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
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

TEST_F(TlsByteStreamTest, HandshakeTimesOutWhenThePeerSendsNothing) {
  auto [a, b] = Connect();
  auto ours = MakeServer(std::move(a));
  error_code hec;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
    hec = co_await ours->Handshake(std::chrono::milliseconds(50));
  }}));
  EXPECT_TRUE(IsTimeout(hec)) << hec.message();
}

TEST_F(TlsByteStreamTest, ReadTimesOutAndZeroMeansNone) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  error_code first, second;
  size_t n2 = 0;
  char buf[8];
  ASSERT_TRUE(RunAll({
      [&]() -> net::awaitable<void> {
        ours->SetTimeout(std::chrono::milliseconds(50));
        std::tie(first, std::ignore) = co_await ours->ReadSome(net::buffer(buf));
        ours->SetTimeout(std::chrono::milliseconds(0));
        // No deadline now: this read waits for the peer's bytes, sent after the timeout.
        std::tie(second, n2) = co_await ours->ReadSome(net::buffer(buf));
      },
      [&]() -> net::awaitable<void> {
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
TEST_F(TlsByteStreamTest, ClientThatDoesNotTrustTheCa) {
  auto untrusting = tls::MakeUpstreamContext(std::nullopt);
  ASSERT_TRUE(untrusting.ok()) << untrusting.status();
  auto [a, b] = Connect();
  auto ours = MakeServer(std::move(a));
  auto peer = MakePeerClient(std::move(b), **untrusting);
  error_code oec, pec;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> { oec = co_await ours->Handshake({}); },
                      [&]() -> net::awaitable<void> {
                        std::tie(pec) =
                            co_await peer->async_handshake(ssl::stream_base::client, Token{});
                        peer->next_layer().close();
                      }}));
  EXPECT_TRUE(pec);
  EXPECT_TRUE(IsClientRejectedCa(oec)) << DescribeError(oec);
  EXPECT_THAT(DescribeError(oec), HasSubstr("unknown ca"));
}

// The upstream side: our client stream verifies the server, and names the verify failure.
TEST_F(TlsByteStreamTest, ClientRoleVerifiesTheServer) {
  auto untrusting = tls::MakeUpstreamContext(std::nullopt);
  ASSERT_TRUE(untrusting.ok()) << untrusting.status();
  for (ssl::context* ctx : {client_ctx_.get(), untrusting->get()}) {
    auto [a, b] = Connect();
    auto made = TlsByteStream::Create(std::move(b), *ctx, TlsRole::kClient);
    ASSERT_TRUE(made.ok()) << made.status();
    std::unique_ptr<TlsByteStream> ours = *std::move(made);
    ASSERT_TRUE(tls::PrepareUpstreamSsl(ours->native_handle(), kHost).ok());
    PeerStream server(std::move(a), *server_ctx_);
    ASSERT_TRUE(tls::PrepareDownstreamSsl(server.native_handle(), *ca_, kHost).ok());
    error_code oec;
    std::string got(5, '\0');
    ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
                          oec = co_await ours->Handshake({});
                          if (!oec) co_await ours->WriteAll(net::buffer(std::string_view("hello")));
                          ours->Close();
                        },
                        [&]() -> net::awaitable<void> {
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
}  // namespace relaytap::proxy
