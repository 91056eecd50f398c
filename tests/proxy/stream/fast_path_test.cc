// The relay's fast path on real streams (ByteStream::TryReadSome / TryWriteSome): the TLS stream
// against an Asio ssl::stream peer and the plain TCP stream, on a loopback pair. A call that
// would wait says so instead of waiting; a write cut short by a full socket is finished by
// WriteAll with the rest, and the peer reads every byte once, in order.
#include <array>
#include <string>

#include "gtest/gtest.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/tls_byte_stream.h"
#include "tests/proxy/stream/tls_byte_stream_fixture.h"

namespace relaytap::proxy::tls_stream_testing {
namespace {

using FastPathTest = TlsByteStreamFixture;

// More than loopback's socket buffers hold, so that a write without a reader stops short.
constexpr size_t kMoreThanTheSocketHolds = 16 << 20;

TEST_F(FastPathTest, TlsReadWithNothingSentWouldWait) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  std::array<char, 64> buf{};
  EXPECT_FALSE(ours->TryReadSome(net::buffer(buf)).has_value());
}

TEST_F(FastPathTest, TlsReadReturnsEveryRecordThatArrived) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  std::optional<std::tuple<error_code, size_t>> got;
  std::string buf(64, '\0');
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
    for (std::string_view part : {"ab", "cde", "f"}) {
      co_await net::async_write(*peer, net::buffer(part), Token{});
    }
    co_await ours->WaitReadable();
    got = ours->TryReadSome(net::buffer(buf));
  }}));
  ASSERT_TRUE(got.has_value());
  auto [ec, n] = *got;
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(buf.substr(0, n), "abcdef");
}

TEST_F(FastPathTest, TlsReadAfterThePeersCloseNotifyIsTheEnd) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  std::optional<std::tuple<error_code, size_t>> got;
  std::array<char, 64> buf{};
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> { co_await peer->async_shutdown(Token{}); },
                      [&]() -> net::awaitable<void> {
                        co_await ours->WaitReadable();
                        got = ours->TryReadSome(net::buffer(buf));
                        co_await ours->ShutdownSend();  // the peer's shutdown waits for ours
                      }}));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<0>(*got), net::error::eof);
}

// The TLS write stops inside a record the socket could not take whole; WriteAll continuing with
// the rest sends that record's remainder first (OpenSSL's retry), so the peer reads exactly `all`.
TEST_F(FastPathTest, TlsWriteCutShortIsFinishedByWriteAll) {
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  const std::string all = Pattern(kMoreThanTheSocketHolds, 5);
  auto [try_ec, taken] = ours->TryWriteSome(net::buffer(all));
  ASSERT_FALSE(try_ec) << try_ec.message();
  ASSERT_GT(taken, 0u);
  ASSERT_LT(taken, all.size()) << "the socket took everything: nothing left to finish";
  std::string got(all.size(), '\0');
  error_code write_ec, read_ec;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
                        std::tie(write_ec, std::ignore) = co_await ours->WriteAll(
                            net::buffer(all.data() + taken, all.size() - taken));
                      },
                      [&]() -> net::awaitable<void> {
                        std::tie(read_ec, std::ignore) = co_await net::async_read(
                            *peer, net::buffer(got), net::transfer_all(), Token{});
                      }}));
  EXPECT_FALSE(write_ec) << write_ec.message();
  EXPECT_FALSE(read_ec) << read_ec.message();
  EXPECT_TRUE(got == all);
}

TEST_F(FastPathTest, TcpReadWouldWaitThenReturnsBytesThenTheEnd) {
  auto [a, b] = Connect();
  auto ours = MakeTcpByteStream(std::move(a));
  std::array<char, 64> buf{};
  EXPECT_FALSE(ours->TryReadSome(net::buffer(buf)).has_value());
  net::write(b.socket(), net::buffer(std::string_view("hello")));
  b.socket().shutdown(tcp::socket::shutdown_send);
  std::optional<std::tuple<error_code, size_t>> got, end;
  ASSERT_TRUE(RunAll({[&]() -> net::awaitable<void> {
    co_await ours->WaitReadable();
    got = ours->TryReadSome(net::buffer(buf));
    end = ours->TryReadSome(net::buffer(buf));
  }}));
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(std::get<0>(*got));
  EXPECT_EQ(std::string_view(buf.data(), std::get<1>(*got)), "hello");
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(std::get<0>(*end), net::error::eof);
}

TEST_F(FastPathTest, TcpWriteCutShortIsFinishedByWriteAll) {
  auto [a, b] = Connect();
  auto ours = MakeTcpByteStream(std::move(a));
  TcpStream& peer = b;  // a lambda may not capture a structured binding before clang 16
  const std::string all = Pattern(kMoreThanTheSocketHolds, 9);
  auto [try_ec, taken] = ours->TryWriteSome(net::buffer(all));
  ASSERT_FALSE(try_ec) << try_ec.message();
  ASSERT_LT(taken, all.size()) << "the socket took everything: nothing left to finish";
  std::string got(all.size(), '\0');
  ASSERT_TRUE(RunAll(
      {[&]() -> net::awaitable<void> {
         co_await ours->WriteAll(net::buffer(all.data() + taken, all.size() - taken));
       },
       [&]() -> net::awaitable<void> {
         co_await net::async_read(peer.socket(), net::buffer(got), net::transfer_all(), Token{});
       }}));
  EXPECT_TRUE(got == all);
}

TEST_F(FastPathTest, TcpWriteToAResetPeerFails) {
  auto [a, b] = Connect();
  auto ours = MakeTcpByteStream(std::move(a));
  b.socket().set_option(net::socket_base::linger(true, 0));
  b.socket().close();
  const std::string all = Pattern(1 << 20, 3);
  error_code ec;
  // The first send may still be accepted before the RST is seen; a bounded few more must fail.
  for (int i = 0; i < 8 && !ec; ++i)
    std::tie(ec, std::ignore) = ours->TryWriteSome(net::buffer(all));
  EXPECT_TRUE(ec == net::error::connection_reset || ec == net::error::broken_pipe) << ec.message();
}

}  // namespace
}  // namespace relaytap::proxy::tls_stream_testing
