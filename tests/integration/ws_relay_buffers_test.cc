// The WebSocket relay after its buffers were made smaller and are released while idle (issue #5):
// head-parse buffers freed before the pump, OpenSSL record buffers released between records, and
// 16 KiB pump buffers taken only while bytes flow (the pump waits for readability first unless the
// TLS engine already holds received bytes). Messages around the record and buffer sizes, a large
// one, a frame arriving one byte (one TLS record) at a time and records already inside the TLS
// engine must all come back byte-identical, and the close must stay clean.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <string>
#include <vector>

#include "proxy/ws/frame_tap.h"
#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) % 251);
  return s;
}

void Open(ProxyClient& c, TlsWebSocket& ws) {
  beast::get_lowest_layer(c.tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
  ws.read_message_max(64u << 20);
  ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime&echo=1");
  beast::flat_buffer b;
  ws.read(b);  // session.created: the session is now idle, its buffers released
}

TEST(WsRelayBuffersTest, MessagesAroundRecordAndBufferSizesEchoUnchanged) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  Open(*c, ws);
  const std::vector<size_t> sizes = {1,     2,     125,   126,   16383, 16384,   16385,
                                     16400, 32767, 32768, 32769, 65537, 3u << 20};
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string msg = Pattern(sizes[i], static_cast<unsigned>(i));
    ws.binary(true);
    ws.write(net::buffer(msg));
    beast::flat_buffer b;
    ws.read(b);
    ASSERT_EQ(beast::buffers_to_string(b.data()), msg) << "size " << sizes[i];
  }
  ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
  ASSERT_TRUE(h.upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
}

// No recorder, no observer, no guard (relaytap proxy --no-record): nobody reads the messages, so
// the session decodes nothing (no frame tap is created) and still relays every size unchanged,
// text and binary, and closes cleanly.
TEST(WsRelayBuffersTest, UnobservedSessionRelaysUnchangedWithoutFrameTaps) {
  ProxyHarness h;
  const uint64_t taps_before = proxy::ws::FrameTap::instances_created();
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  Open(*c, ws);
  const std::vector<size_t> sizes = {1, 125, 126, 6481, 16385, 65535, 65536, 3u << 20};
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string msg = Pattern(sizes[i], static_cast<unsigned>(i));
    ws.binary(true);
    ws.write(net::buffer(msg));
    beast::flat_buffer b;
    ws.read(b);
    ASSERT_EQ(beast::buffers_to_string(b.data()), msg) << "size " << sizes[i];
  }
  ws.text(true);
  const std::string text = R"({"type":"echo.request","n":1})";
  ws.write(net::buffer(text));
  beast::flat_buffer b;
  ws.read(b);
  EXPECT_EQ(beast::buffers_to_string(b.data()), text);
  ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
  ASSERT_TRUE(h.upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
  EXPECT_EQ(proxy::ws::FrameTap::instances_created(), taps_before);
}

// A masked binary frame written to the TLS stream one byte per write: every byte is its own TLS
// record, so each pump read returns one byte and the engine's buffers empty between records.
TEST(WsRelayBuffersTest, FrameArrivingOneByteAtATimeEchoesUnchanged) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  Open(*c, ws);
  const std::string payload = Pattern(100, 7);
  const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  std::string frame;
  frame.push_back(static_cast<char>(0x82));                   // FIN + binary
  frame.push_back(static_cast<char>(0x80 | payload.size()));  // masked, 7-bit length
  frame.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(payload[i] ^ static_cast<char>(mask[i % 4])));
  }
  for (char byte : frame) net::write(c->tls(), net::buffer(&byte, 1));
  beast::flat_buffer b;
  ws.read(b);
  EXPECT_TRUE(ws.got_binary());
  EXPECT_EQ(beast::buffers_to_string(b.data()), payload);
  // The session still relays ordinary messages afterwards.
  ws.text(true);
  ws.write(net::buffer(std::string(R"({"type":"echo.request","n":2})")));
  b.clear();
  ws.read(b);
  EXPECT_EQ(beast::buffers_to_string(b.data()), R"({"type":"echo.request","n":2})");
}

// Several TLS records in one TCP segment (corked): the proxy's first socket read takes them all,
// so after the first record is relayed the rest wait inside the TLS engine with nothing more on
// the socket. The pump must read them at once rather than wait for readability (which would
// never come: the client waits for the echoes before sending anything else).
TEST(WsRelayBuffersTest, RecordsAlreadyInsideTheTlsEngineAreRelayedWithoutNewSocketBytes) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  Open(*c, ws);
  // Bounded: a pump stuck waiting fails the read below with a timeout, not a hung test.
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(5), std::chrono::seconds(5), false});
  auto& sock = beast::get_lowest_layer(c->tls()).socket();
  const int on = 1, off = 0;
  ASSERT_EQ(::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
  std::vector<std::string> sent;
  for (int i = 0; i < 4; ++i) {
    sent.push_back(Pattern(300 + i, static_cast<unsigned>(i)));
    ws.binary(true);
    ws.write(net::buffer(sent.back()));
  }
  ASSERT_EQ(::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &off, sizeof(off)), 0);
  for (const std::string& want : sent) {
    beast::flat_buffer b;
    boost::system::error_code ec;
    ws.read(b, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(beast::buffers_to_string(b.data()), want);
  }
}

}  // namespace
}  // namespace relaytap::testing
