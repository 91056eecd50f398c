// WebSocket sessions through the proxy end to end on loopback: realtime conversations arrive
// byte-identical and in order (with and without permessage-deflate) and the frame taps decode the
// same messages; a reset or an abort on one side ends the session on the other.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "recorder/outcome.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/recording_sink.h"
#include "tests/testing/wait.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using ::testing::HasSubstr;

// Records what the frame taps decoded, for comparing with what the ends saw.
class RecordingFactory : public proxy::WsObserverFactory {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<std::string> client_hashes, server_hashes;
    int errors = 0;
  };
  explicit RecordingFactory(std::shared_ptr<Shared> s) : shared_(std::move(s)) {}
  std::unique_ptr<proxy::ws::MessageObserver> Create(const proxy::WsSessionInfo&) override {
    return std::make_unique<Observer>(shared_);
  }

 private:
  class Observer : public proxy::ws::MessageObserver {
   public:
    explicit Observer(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
    void OnMessage(proxy::ws::Message&& m) override {
      if (m.opcode != proxy::ws::Opcode::kText && m.opcode != proxy::ws::Opcode::kBinary) return;
      std::lock_guard<std::mutex> lock(s_->mu);
      (m.direction == proxy::ws::Direction::kClientToServer ? s_->client_hashes : s_->server_hashes)
          .push_back(Sha256Hex(m.payload));
    }
    void OnTapError(proxy::ws::Direction, std::string_view) override {
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->errors++;
    }

   private:
    std::shared_ptr<Shared> s_;
  };
  std::shared_ptr<Shared> shared_;
};

void RunRealtimeConversation(bool deflate) {
  auto shared = std::make_shared<RecordingFactory::Shared>();
  ProxyHarness::Options o;
  o.observers = std::make_unique<RecordingFactory>(shared);
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient();
  websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws(c->tls());
  websocket::permessage_deflate pmd;
  pmd.client_enable = deflate;
  ws.set_option(pmd);
  ws.read_message_max(64u << 20);
  beast::get_lowest_layer(c->tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
  ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime&echo=1");
  std::vector<std::string> sent, received;
  auto read_one = [&] {
    beast::flat_buffer b;
    ws.read(b);
    received.push_back(Sha256Hex(beast::buffers_to_string(b.data())));
    return beast::buffers_to_string(b.data());
  };
  auto send = [&](const std::string& msg, bool binary) {
    ws.binary(binary);
    ws.write(net::buffer(msg));
    sent.push_back(Sha256Hex(msg));
  };
  EXPECT_THAT(read_one(), HasSubstr("session.created"));
  std::string audio(200'000, 'A');  // a 16-bit+ length; 64-bit once framed with headers
  send(R"({"type":"input_audio_buffer.append","audio":")" + audio + "\"}", false);
  send(R"({"type":"response.create"})", false);
  // response.created, audio and transcript deltas, ..., response.done (bounded)
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i)
    done = read_one().find("\"response.done\"") != std::string::npos;
  ASSERT_TRUE(done);
  std::string bin(70'000, '\0');
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>(i % 251);
  send(bin, true);
  read_one();  // echoed
  send(R"({"type":"echo.request","n":1})", false);
  read_one();
  ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
  ASSERT_TRUE(h.upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
  auto sessions = h.upstream().ws_sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].received, sent);
  EXPECT_EQ(sessions[0].sent, received);
  EXPECT_EQ(sessions[0].deflate_negotiated, deflate);
  // The taps decoded the same messages as the two ends saw (after the pump finished).
  EXPECT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(shared->mu);
        return shared->client_hashes.size() == sent.size() &&
               shared->server_hashes.size() == received.size();
      },
      "the frame taps to decode every message"));
  std::lock_guard<std::mutex> lock(shared->mu);
  EXPECT_EQ(shared->client_hashes, sent);
  EXPECT_EQ(shared->server_hashes, received);
  EXPECT_EQ(shared->errors, 0);
}

TEST(WsRelayTest, WebSocketMessagesAreIdenticalAndInOrderWithDeflate) {
  RunRealtimeConversation(true);
}

TEST(WsRelayTest, WebSocketMessagesAreIdenticalAndInOrderWithoutDeflate) {
  RunRealtimeConversation(false);
}

using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

void OpenRealtime(ProxyClient& c, TlsWebSocket& ws, const std::string& target) {
  beast::get_lowest_layer(c.tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
  ws.handshake(kAzureHost, target);
  beast::flat_buffer b;
  ws.read(b);  // session.created
}

TEST(WsRelayTest, UpstreamResetMidSessionClosesTheAppSocket) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime&reset_after=1");
  ws.write(net::buffer(std::string(R"({"type":"input_audio_buffer.commit"})")));
  beast::flat_buffer b;
  boost::system::error_code ec;
  for (int i = 0; i < 10 && !ec; ++i) ws.read(b, ec);  // the reset ends the read, not the timeout
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, beast::error::timeout);
}

TEST(WsRelayTest, AppAbortClosesTheUpstreamSession) {
  ProxyHarness h;
  {
    auto c = h.InterceptedClient();
    TlsWebSocket ws(c->tls());
    OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime");
    boost::system::error_code ignored;
    auto& sock = beast::get_lowest_layer(c->tls()).socket();
    sock.set_option(net::socket_base::linger(true, 0), ignored);
    sock.close(ignored);  // RST, no close frame
  }
  EXPECT_TRUE(h.upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
}

// The proxy shuts down while a WebSocket session is open and both its pumps wait for the next
// message (relay/ready_relay.h: the waits hold the pumps' completion handlers): destroying the
// waits destroys the session, which records its close.
TEST(WsRelayTest, ShutdownEndsAnOpenWebSocketSessionAndRecordsIt) {
  RecordingSink sink;
  ProxyHarness::Options o;
  o.sink = &sink;
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime&echo=1");
  ws.write(net::buffer(std::string(R"({"type":"echo.request","n":1})")));
  beast::flat_buffer b;
  ws.read(b);  // relayed both ways: the pumps are in their steady state
  EXPECT_THAT(beast::buffers_to_string(b.data()), HasSubstr("echo"));
  h.server().Shutdown(std::chrono::milliseconds(0));
  // Shutdown returned: the open session's close was already submitted.
  const auto closed = sink.Of<recorder::ConnectionClosed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(recorder::EndText(closed[0].end), "proxy_shutdown");
  boost::system::error_code ec;
  ws.read(b, ec);  // the app sees its connection end
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace relaytap::testing
