// TlsByteStream over a loopback TCP pair against an Asio ssl::stream peer (the kind of TLS stack
// apps and Azure bring): moving bytes (large transfers both ways, records already fetched, bytes
// read before the ClientHello). How a stream ends or fails is in tls_byte_stream_end_test.cc.
#include "proxy/stream/tls_byte_stream.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/stream/errors.h"
#include "tests/proxy/stream/tls_byte_stream_fixture.h"

namespace relaytap::proxy::tls_stream_testing {
namespace {

using TlsByteStreamTest = TlsByteStreamFixture;

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
      [&]() -> Awaitable<void> {
        auto [ec, n] = co_await ours->WriteAll(net::buffer(down));
        our_write_ec = ec;
        EXPECT_EQ(n, kBytes);
      },
      [&]() -> Awaitable<void> {
        std::vector<char> buf(16 * 1024);
        while (got_by_ours.size() < kBytes && our_reads < 4 * kBytes) {
          ++our_reads;
          auto [ec, n] = co_await ours->ReadSome(net::buffer(buf));
          got_by_ours.append(buf.data(), n);
          if (ec) break;
        }
      },
      [&]() -> Awaitable<void> {
        std::tie(peer_write_ec, std::ignore) =
            co_await net::async_write(*peer, net::buffer(up), Token{});
      },
      [&]() -> Awaitable<void> {
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
  ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> {
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
  ASSERT_TRUE(RunAll({[&]() -> Awaitable<void> {
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

// The first bytes of the ClientHello were read off the socket before the stream existed (as the
// CONNECT head's read does): handed in as `early`, the handshake still completes.
TEST_F(TlsByteStreamTest, EarlyBytesBeforeTheClientHello) {
  auto [a_bound, b] = Connect();
  TcpStream& a = a_bound;  // a lambda may not capture a structured binding before clang 16
  auto peer = MakePeerClient(std::move(b), *client_ctx_);
  std::unique_ptr<TlsByteStream> ours;
  error_code oec, pec, rec;
  std::string early(7, '\0'), got(4, '\0');
  size_t early_n = 0;
  ASSERT_TRUE(RunAll({
      [&]() -> Awaitable<void> {
        std::tie(rec, early_n) =
            co_await net::async_read(a, net::buffer(early), net::transfer_all(), Token{});
        ours = MakeServer(std::move(a), early);
        oec = co_await ours->Handshake({});
        if (!oec) co_await ours->WriteAll(net::buffer(std::string_view("pong")));
      },
      [&]() -> Awaitable<void> {
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

}  // namespace
}  // namespace relaytap::proxy::tls_stream_testing
