// The relay's steady state without a coroutine per chunk (relay/ready_relay.h), over real loopback
// sockets: two TLS pairs (or two TCP pairs) with the BiPump between them, as a WebSocket session
// relays after 101. Each test checks that the bytes arrive unchanged and how each direction
// ended, and that the ready path did the relaying (ReadyCountsOnThisThread), so a pump that
// quietly fell back to its coroutine would fail here.
#include "proxy/relay/ready_relay.h"

#include <string>
#include <tuple>
#include <utility>

#include "gtest/gtest.h"
#include "proxy/relay/pump.h"
#include "proxy/stream/errors.h"
#include "tests/proxy/stream/tls_byte_stream_fixture.h"

namespace relaytap::proxy::tls_stream_testing {
namespace {

using recorder::PumpEnd;

class ReadyRelayTest : public TlsByteStreamFixture {
 protected:
  // The relay between `app` and `up` as the WebSocket session runs it (plain policies, no taps).
  std::function<Awaitable<void>()> Relay(ByteStream& app, ByteStream& up, BiPumpResult& out) {
    return [&app, &up, &out]() -> Awaitable<void> {
      PlainRelay up_relay(up, nullptr), down_relay(app, nullptr);
      BiPump pumps(app, up, "", "", up_relay, down_relay);
      const std::tuple<PumpResult, PumpResult> ended = co_await pumps.Run();
      out = pumps.Result(ended);
    };
  }
  // The app's pair and the upstream's, each our TLS stream against an Asio peer.
  ::testing::AssertionResult HandshakenBoth(std::unique_ptr<TlsByteStream>& app,
                                            std::unique_ptr<PeerStream>& app_peer,
                                            std::unique_ptr<TlsByteStream>& up,
                                            std::unique_ptr<PeerStream>& up_peer) {
    ::testing::AssertionResult ok = Handshaken(app, app_peer);
    return ok ? Handshaken(up, up_peer) : ok;
  }
  // Waits `ms` on the test's io_context.
  Awaitable<void> Sleep(int ms) {
    Timer t(ioc_.get_executor());
    t.expires_after(std::chrono::milliseconds(ms));
    co_await t.async_wait();
  }
};

// Realtime cadence in miniature: the app sends a message, the upstream echoes it, 200 times; then
// the app closes with close_notify and the upstream answers with its own.
TEST_F(ReadyRelayTest, EchoedMessagesArriveUnchangedAndEndCleanly) {
  std::unique_ptr<TlsByteStream> app, up;
  std::unique_ptr<PeerStream> app_peer, up_peer;
  ASSERT_TRUE(HandshakenBoth(app, app_peer, up, up_peer));
  constexpr int kMessages = 200;
  constexpr size_t kSize = 6400;
  std::string sent, echoed, seen_upstream;
  error_code app_ec, up_ec, up_end;
  BiPumpResult r;
  const ReadyCounts before = ReadyCountsOnThisThread();
  ASSERT_TRUE(RunAll({
      Relay(*app, *up, r),
      [&]() -> Awaitable<void> {
        std::string in(kSize, '\0');
        for (int i = 0; i < kMessages && !app_ec; ++i) {
          const std::string m = Pattern(kSize, i);
          sent += m;
          std::tie(app_ec, std::ignore) =
              co_await net::async_write(*app_peer, net::buffer(m), Token{});
          if (app_ec) break;
          std::tie(app_ec, std::ignore) =
              co_await net::async_read(*app_peer, net::buffer(in), net::transfer_all(), Token{});
          echoed += in;
        }
        std::tie(app_ec) = co_await app_peer->async_shutdown(Token{});
      },
      [&]() -> Awaitable<void> {
        std::string in(kSize, '\0');
        for (int i = 0; i < kMessages && !up_ec; ++i) {
          std::tie(up_ec, std::ignore) =
              co_await net::async_read(*up_peer, net::buffer(in), net::transfer_all(), Token{});
          if (up_ec) break;
          seen_upstream += in;
          std::tie(up_ec, std::ignore) =
              co_await net::async_write(*up_peer, net::buffer(in), Token{});
        }
        char c;
        std::tie(up_end, std::ignore) =
            co_await up_peer->async_read_some(net::buffer(&c, 1), Token{});
        co_await up_peer->async_shutdown(Token{});
      },
  }));
  EXPECT_FALSE(app_ec) << DescribeError(app_ec);
  EXPECT_FALSE(up_ec) << DescribeError(up_ec);
  EXPECT_EQ(up_end, net::error::eof) << "the app's close_notify reaches the upstream";
  EXPECT_TRUE(seen_upstream == sent);
  EXPECT_TRUE(echoed == sent);
  EXPECT_EQ(r.up.end, PumpEnd::kEof);
  EXPECT_EQ(r.down.end, PumpEnd::kEof);
  EXPECT_TRUE(r.up_ended_first);
  EXPECT_EQ(r.up.bytes, sent.size());
  EXPECT_EQ(r.down.bytes, sent.size());
  // Every message went through the ready path, each way (a message may be read in two chunks).
  EXPECT_GE(ReadyCountsOnThisThread().chunks - before.chunks, 2u * kMessages);
}

// The upstream reads nothing for a while, so the relay's writes meet a full socket: the chunk's
// rest goes on in the pump, which waits for the destination, and every byte still arrives in
// order.
TEST_F(ReadyRelayTest, AChunkTheDestinationCannotTakeYetArrivesWhole) {
  std::unique_ptr<TlsByteStream> app, up;
  std::unique_ptr<PeerStream> app_peer, up_peer;
  ASSERT_TRUE(HandshakenBoth(app, app_peer, up, up_peer));
  constexpr size_t kBytes = 32 << 20;  // more than the loopback socket buffers hold
  const std::string sent = Pattern(kBytes, 5);
  std::string got(kBytes, '\0');
  error_code app_ec, up_ec;
  BiPumpResult r;
  const ReadyCounts before = ReadyCountsOnThisThread();
  ASSERT_TRUE(RunAll({
      Relay(*app, *up, r),
      [&]() -> Awaitable<void> {
        std::tie(app_ec, std::ignore) =
            co_await net::async_write(*app_peer, net::buffer(sent), Token{});
        if (!app_ec) std::tie(app_ec) = co_await app_peer->async_shutdown(Token{});
      },
      [&]() -> Awaitable<void> {
        co_await Sleep(300);
        std::tie(up_ec, std::ignore) =
            co_await net::async_read(*up_peer, net::buffer(got), net::transfer_all(), Token{});
        char c;
        error_code end;
        std::tie(end, std::ignore) = co_await up_peer->async_read_some(net::buffer(&c, 1), Token{});
        EXPECT_EQ(end, net::error::eof);
        co_await up_peer->async_shutdown(Token{});
      },
  }));
  EXPECT_FALSE(app_ec) << DescribeError(app_ec);
  EXPECT_FALSE(up_ec) << DescribeError(up_ec);
  EXPECT_TRUE(got == sent);
  EXPECT_EQ(r.up.bytes, kBytes);
  EXPECT_EQ(r.up.end, PumpEnd::kEof);
  EXPECT_EQ(r.down.end, PumpEnd::kEof);
  const ReadyCounts after = ReadyCountsOnThisThread();
  EXPECT_GT(after.write_waits - before.write_waits, 0u) << "the destination never filled up";
  EXPECT_GT(after.chunks - before.chunks, 0u);
}

// The upstream resets its connection mid-session: its reset reaches the app, and the ends are
// the upstream's reset and the app side's cancellation.
TEST_F(ReadyRelayTest, AnUpstreamResetReachesTheApp) {
  std::unique_ptr<TlsByteStream> app, up;
  std::unique_ptr<PeerStream> app_peer, up_peer;
  ASSERT_TRUE(HandshakenBoth(app, app_peer, up, up_peer));
  const std::string m = Pattern(6400, 1);
  std::string seen(m.size(), '\0');
  error_code app_read_ec, up_ec;
  BiPumpResult r;
  const ReadyCounts before = ReadyCountsOnThisThread();
  ASSERT_TRUE(RunAll({
      Relay(*app, *up, r),
      [&]() -> Awaitable<void> {
        co_await net::async_write(*app_peer, net::buffer(m), Token{});
        char c;
        std::tie(app_read_ec, std::ignore) =
            co_await app_peer->async_read_some(net::buffer(&c, 1), Token{});
      },
      [&]() -> Awaitable<void> {
        std::tie(up_ec, std::ignore) =
            co_await net::async_read(*up_peer, net::buffer(seen), net::transfer_all(), Token{});
        auto& sock = up_peer->next_layer().socket();
        error_code ignored;
        sock.set_option(net::socket_base::linger(true, 0), ignored);
        sock.close(ignored);
      },
  }));
  EXPECT_FALSE(up_ec) << DescribeError(up_ec);
  EXPECT_TRUE(seen == m);
  EXPECT_TRUE(IsReset(app_read_ec)) << DescribeError(app_read_ec);
  EXPECT_EQ(r.down.end, PumpEnd::kSourceReset);
  EXPECT_EQ(r.up.end, PumpEnd::kCancelled);
  EXPECT_FALSE(r.up_ended_first);
  EXPECT_EQ(r.up.bytes, m.size());
  EXPECT_GE(ReadyCountsOnThisThread().chunks - before.chunks, 1u);
}

// Plain TCP on both sides (a ws:// upstream, a tunnel's sockets): 16 MiB up while the upstream
// holds back, 1 MiB down, each side ending with a FIN.
TEST_F(ReadyRelayTest, PlainTcpBothWays) {
  // Pairs, not structured bindings: a lambda may not capture those before clang 16.
  std::pair<TcpStream, TcpStream> app_pair = Connect(), up_pair = Connect();
  TcpStream& app_peer = app_pair.second;
  TcpStream& up_peer = up_pair.second;
  std::unique_ptr<ByteStream> app = MakeTcpByteStream(std::move(app_pair.first.socket()));
  std::unique_ptr<ByteStream> up = MakeTcpByteStream(std::move(up_pair.first.socket()));
  constexpr size_t kUp = 16 << 20, kDown = 1 << 20;
  const std::string sent_up = Pattern(kUp, 3), sent_down = Pattern(kDown, 4);
  std::string got_up(kUp, '\0'), got_down(kDown, '\0');
  error_code e1, e2, e3, e4, app_end, up_end;
  BiPumpResult r;
  const ReadyCounts before = ReadyCountsOnThisThread();
  ASSERT_TRUE(RunAll({
      Relay(*app, *up, r),
      [&]() -> Awaitable<void> {
        std::tie(e1, std::ignore) = co_await net::async_write(app_peer, net::buffer(sent_up));
        app_peer.socket().shutdown(tcp::socket::shutdown_send, e1);
        std::tie(e2, std::ignore) = co_await net::async_read(app_peer, net::buffer(got_down));
        char c;
        std::tie(app_end, std::ignore) = co_await app_peer.async_read_some(net::buffer(&c, 1));
      },
      [&]() -> Awaitable<void> {
        co_await Sleep(200);
        std::tie(e3, std::ignore) = co_await net::async_read(up_peer, net::buffer(got_up));
        char c;
        std::tie(up_end, std::ignore) = co_await up_peer.async_read_some(net::buffer(&c, 1));
        std::tie(e4, std::ignore) = co_await net::async_write(up_peer, net::buffer(sent_down));
        up_peer.socket().shutdown(tcp::socket::shutdown_send, e4);
      },
  }));
  for (const error_code& e : {e1, e2, e3, e4}) EXPECT_FALSE(e) << DescribeError(e);
  EXPECT_EQ(up_end, net::error::eof);
  EXPECT_EQ(app_end, net::error::eof);
  EXPECT_TRUE(got_up == sent_up);
  EXPECT_TRUE(got_down == sent_down);
  EXPECT_EQ(r.up.bytes, kUp);
  EXPECT_EQ(r.down.bytes, kDown);
  EXPECT_EQ(r.up.end, PumpEnd::kEof);
  EXPECT_EQ(r.down.end, PumpEnd::kEof);
  const ReadyCounts after = ReadyCountsOnThisThread();
  EXPECT_GT(after.chunks - before.chunks, 0u);
  EXPECT_GT(after.write_waits - before.write_waits, 0u) << "the destination never filled up";
}

}  // namespace
}  // namespace relaytap::proxy::tls_stream_testing
