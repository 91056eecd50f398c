// What the proxy hands to the recorder's sink: one ConnectionOpened/Closed per connection, one
// Exchange per request (with raw headers, body samples, SSE events, timings), one WsMessage per
// decoded message in order, and a WsSessionClosed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <thread>
#include <variant>

#include "recorder/outcome.h"
#include "recorder/sink.h"
#include "recorder/sse_parser.h"
#include "tests/testing/ports.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/recording_sink.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using ::testing::HasSubstr;

std::string HeaderValue(const recorder::Headers& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (beast::iequals(n, name)) return v;
  }
  return "";
}

TEST(ObservationTest, HttpExchangeWithSseIsObservedWithHeadersTimingsAndEvents) {
  RecordingSink sink;
  {
    ProxyHarness::Options o;
    o.sink = &sink;
    ProxyHarness h(std::move(o));
    auto c = h.InterceptedClient();
    c->Write(
        "POST /echo HTTP/1.1\r\nHost: contoso.openai.azure.com\r\napi-key: k1\r\n"
        "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"input\":\"x\"}");
    EXPECT_EQ(c->ReadResponse().result_int(), 200);
    c->Write("GET /sse?events=3&interval_ms=10 HTTP/1.1\r\nHost: contoso.openai.azure.com\r\n\r\n");
    EXPECT_EQ(c->ReadResponse().result_int(), 200);
  }  // harness down: connection closed
  ASSERT_TRUE(sink.WaitFor<recorder::ConnectionClosed>(1));
  auto opened = sink.Of<recorder::ConnectionOpened>();
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].target_host, kAzureHost);
  EXPECT_EQ(opened[0].target_port, 443);
  EXPECT_TRUE(opened[0].intercepted);
  auto ex = sink.Of<recorder::Exchange>();
  ASSERT_EQ(ex.size(), 2u);
  for (recorder::Exchange& e : ex) recorder::ParseSseCapture(e);  // as the recorder's writer does
  EXPECT_EQ(ex[0].sequence, 1u);
  EXPECT_EQ(ex[0].method, "POST");
  EXPECT_EQ(ex[0].status, 200);
  EXPECT_EQ(HeaderValue(ex[0].request_headers, "api-key"), "k1");
  EXPECT_FALSE(HeaderValue(ex[0].response_headers, "apim-request-id").empty());
  EXPECT_EQ(ex[0].request_body.bytes, "{\"input\":\"x\"}");
  EXPECT_EQ(ex[0].request_body.content_type, "application/json");
  EXPECT_GT(ex[0].response_body.total_bytes, 0u);
  EXPECT_LE(ex[0].request_start_us, ex[0].response_headers_us);
  EXPECT_LE(ex[0].response_headers_us, ex[0].end_us);
  EXPECT_EQ(recorder::EndText(ex[0].end), "complete");
  EXPECT_EQ(ex[1].sequence, 2u);
  ASSERT_EQ(ex[1].sse_events.size(), 4u);  // 3 events + [DONE]
  EXPECT_THAT(ex[1].sse_events[0].data, HasSubstr("\"i\":0"));
  EXPECT_EQ(ex[1].sse_events[3].data, "[DONE]");
  EXPECT_LE(ex[1].sse_events[0].at_us, ex[1].sse_events[3].at_us);
  auto closed = sink.Of<recorder::ConnectionClosed>();
  ASSERT_TRUE(closed[0].app_tls.has_value());
  EXPECT_EQ(closed[0].app_tls->alpn, "");  // the test client offers no ALPN
  ASSERT_TRUE(closed[0].upstream_tls.has_value());
  EXPECT_EQ(closed[0].upstream_tls->alpn, "http/1.1");
  EXPECT_THAT(closed[0].upstream_tls->version, HasSubstr("TLS"));
  EXPECT_GE(closed[0].tcp_connect_us, 0);
  EXPECT_GT(closed[0].bytes_up, 0u);
}

TEST(ObservationTest, WebSocketMessagesAreObservedInOrderWithTheirExchange) {
  RecordingSink sink;
  ProxyHarness::Options o;
  o.sink = &sink;
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient();
  websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws(c->tls());
  beast::get_lowest_layer(c->tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& r) { r.set("api-key", "k2"); }));
  ws.handshake(kAzureHost, "/openai/realtime?api-version=2024-10-01-preview&deployment=gpt-4o");
  beast::flat_buffer b;
  ws.read(b);  // session.created
  ws.write(net::buffer(std::string(R"({"type":"response.create"})")));
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) {
    b.clear();
    ws.read(b);
    done = beast::buffers_to_string(b.data()).find("response.done") != std::string::npos;
  }
  ws.close(websocket::close_code::normal);
  ASSERT_TRUE(sink.WaitFor<recorder::WsSessionClosed>(1));
  auto ex = sink.Of<recorder::Exchange>();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_TRUE(ex[0].websocket_upgrade);
  EXPECT_TRUE(ex[0].switched);
  EXPECT_EQ(ex[0].status, 101);
  EXPECT_EQ(HeaderValue(ex[0].request_headers, "api-key"), "k2");
  auto msgs = sink.Of<recorder::WsMessage>();
  ASSERT_GE(msgs.size(), 5u);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].sequence, i + 1);
    EXPECT_EQ(msgs[i].exchange_sequence, ex[0].sequence);
  }
  EXPECT_EQ(msgs[0].direction, recorder::WsDirection::kServerToClient);
  EXPECT_THAT(msgs[0].payload, HasSubstr("session.created"));
  EXPECT_EQ(msgs[1].direction, recorder::WsDirection::kClientToServer);
  EXPECT_THAT(msgs[1].payload, HasSubstr("response.create"));
  // Close frames are observed too, from both sides.
  int closes = 0;
  for (const auto& m : msgs) closes += m.opcode == 8 ? 1 : 0;
  EXPECT_EQ(closes, 2);
  auto sc = sink.Of<recorder::WsSessionClosed>();
  EXPECT_EQ(sc[0].exchange_sequence, ex[0].sequence);
  EXPECT_FALSE(sc[0].tap_failed);
}

TEST(ObservationTest, FailedDialIsObservedAsALocalError) {
  RecordingSink sink;
  const uint16_t dead = FreeLoopbackPort();  // nothing listens there
  {
    ProxyHarness::Options o;
    o.sink = &sink;
    o.extra_connect_to = {"dead.openai.azure.com:443:127.0.0.1:" + std::to_string(dead)};
    ProxyHarness h(std::move(o));
    auto c = h.InterceptedClient("dead.openai.azure.com");
    c->Write("GET /x HTTP/1.1\r\nHost: dead.openai.azure.com\r\n\r\n");
    EXPECT_EQ(c->ReadResponse().result_int(), 502);
  }
  ASSERT_TRUE(sink.WaitFor<recorder::ConnectionClosed>(1));
  auto ex = sink.Of<recorder::Exchange>();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].local_error_code, "relaytap_upstream_connect");
  EXPECT_EQ(ex[0].error_stage, "connect");
  EXPECT_EQ(recorder::EndText(ex[0].end), "upstream_connect_failed");
  const auto closed = sink.Of<recorder::ConnectionClosed>()[0];
  EXPECT_EQ(recorder::EndText(closed.end), "upstream_connect_failed");
  EXPECT_EQ(recorder::OutcomeName(recorder::ClassifyConnection(closed.end)), "connect_failure");
  EXPECT_EQ(recorder::OutcomeName(recorder::ClassifyExchange({0, ex[0].end})), "connect_failure");
}

// A loopback TCP server for tunnels: accepts one connection, writes `greeting`, then closes at
// once (`close_after_greeting`) or holds the connection until its peer closes it.
class OneShotServer {
 public:
  OneShotServer(std::string greeting, bool close_after_greeting)
      : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, greeting = std::move(greeting), close_after_greeting] {
      boost::system::error_code ec;
      tcp::socket s = acceptor_.accept(ec);
      if (ec) return;
      net::write(s, net::buffer(greeting), ec);
      if (close_after_greeting) return;  // the socket closes: FIN
      // Until the proxy closes its side; bounded by a receive timeout and a read count.
      const timeval limit{30, 0};
      ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
      char b[256];
      for (int i = 0; i < 100'000; ++i) {
        if (::recv(s.native_handle(), b, sizeof(b), 0) <= 0) return;
      }
    });
  }
  ~OneShotServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
};

recorder::EndClass ClassOf(const recorder::ConnectionClosed& c) {
  return recorder::ClassifyEnd(c.end);
}

TEST(ConnectionEndTest, AKeepAliveConnectionEndedByIdlenessIsOk) {
  RecordingSink sink;
  {
    ProxyHarness::Options o;
    o.sink = &sink;
    o.http_idle_timeout = std::chrono::milliseconds(200);
    ProxyHarness h(std::move(o));
    auto c = h.InterceptedClient();
    c->Write("GET /echo HTTP/1.1\r\nHost: contoso.openai.azure.com\r\n\r\n");
    EXPECT_EQ(c->ReadResponse().result_int(), 200);
    // The app keeps the connection open and idle; the proxy closes it after 200 ms.
    ASSERT_TRUE(sink.WaitFor<recorder::ConnectionClosed>(1));
  }
  const auto closed = sink.Of<recorder::ConnectionClosed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(recorder::EndText(closed[0].end), "idle_timeout");
  EXPECT_EQ(recorder::OutcomeName(ClassOf(closed[0]).outcome.value()), "ok");
  EXPECT_EQ(recorder::EndSideName(ClassOf(closed[0]).side), "proxy");
  auto ex = sink.Of<recorder::Exchange>();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(recorder::EndText(ex[0].end), "complete");
}

TEST(ConnectionEndTest, ATunnelTheUpstreamClosedFirstIsClosedByTheUpstream) {
  RecordingSink sink;
  OneShotServer upstream("bye\n", /*close_after_greeting=*/true);
  {
    ProxyHarness::Options o;
    o.sink = &sink;
    ProxyHarness h(std::move(o));
    ProxyClient c(h.proxy_port());
    ASSERT_EQ(c.Connect("127.0.0.1", upstream.port()), 200);
    // Read until the upstream's FIN reaches us through the tunnel; only then close our side.
    // Bytes read along with the CONNECT answer wait in the client's buffer.
    std::string got = beast::buffers_to_string(c.buffer().data());
    boost::system::error_code ec;
    char b[64];
    for (int i = 0; i < 100 && !ec; ++i) {
      size_t n = c.tcp().socket().read_some(net::buffer(b), ec);
      got.append(b, n);
    }
    EXPECT_EQ(got, "bye\n");
    EXPECT_EQ(ec, net::error::eof);
    c.tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    ASSERT_TRUE(sink.WaitFor<recorder::ConnectionClosed>(1));
  }
  const auto closed = sink.Of<recorder::ConnectionClosed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(recorder::EndText(closed[0].end), "app:eof upstream:eof");
  EXPECT_FALSE(closed[0].end.up_ended_first);
  EXPECT_EQ(recorder::EndSideName(ClassOf(closed[0]).side), "upstream");
  EXPECT_EQ(recorder::OutcomeName(ClassOf(closed[0]).outcome.value()), "ok");
}

TEST(ConnectionEndTest, ShutdownRecordsTheConnectionsStillOpen) {
  RecordingSink sink;
  OneShotServer upstream("hello\n", /*close_after_greeting=*/false);
  ProxyHarness::Options o;
  o.sink = &sink;
  ProxyHarness h(std::move(o));
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect("127.0.0.1", upstream.port()), 200);
  // The tunnel is relaying once the greeting arrived (maybe along with the CONNECT answer).
  std::string got = beast::buffers_to_string(c.buffer().data());
  char b[6];
  if (got.size() < 6) net::read(c.tcp().socket(), net::buffer(b, 6 - got.size()));
  ASSERT_TRUE(sink.WaitFor<recorder::ConnectionOpened>(1));
  h.server().Shutdown(std::chrono::milliseconds(0));
  // Shutdown returned: the open tunnel's close was already submitted.
  const auto closed = sink.Of<recorder::ConnectionClosed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(recorder::EndText(closed[0].end), "proxy_shutdown");
  EXPECT_EQ(recorder::EndSideName(ClassOf(closed[0]).side), "proxy");
}

}  // namespace
}  // namespace relaytap::testing
