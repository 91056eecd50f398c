// The retry guard's in-session cap through the real proxy against the in-tree fake upstream with
// `fail=response` (every response.create ends in response.done status "failed"): a client that
// sends response.create after each failure. Enforce withholds what exceeds the cap and answers
// with a realtime error event; observe forwards everything and records; cap off relays as
// before; a deflate session without client_no_context_takeover cannot be capped. How guarded
// sessions end is in guard_session_end_test.cc.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "tests/integration/guard_session_test_support.h"

namespace relaytap::testing::guard_session {
namespace {

using GuardSessionCapTest = GuardSessionFixture;

TEST_F(GuardSessionCapTest, EnforceWithholdsBeyondTheCapAndAnswersWithAnErrorEvent) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/1);
  Realtime rt(*h, {});
  rt.Send(Create("c1"));
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");  // failed
  rt.Send(Create("c2"));  // the one allowed after a failure
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");
  const std::string withheld = Create("c3");
  rt.Send(withheld);
  Json e = Json::parse(rt.ReadUntilDoneOrError(), nullptr, false);
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e["type"], "error");
  EXPECT_TRUE(e["event_id"].get<std::string>().starts_with("relaytap_"));
  EXPECT_EQ(e["error"]["type"], "relaytap_guard");
  EXPECT_EQ(e["error"]["code"], "relaytap_session_cap");
  EXPECT_EQ(e["error"]["event_id"], "c3");
  // The session stays usable: a later message flows both ways byte-identical (echoed), also a
  // binary one large enough for a 64-bit length.
  const std::string item = R"({"type":"conversation.item.create","event_id":"i1","n":7})";
  rt.Send(item);
  EXPECT_EQ(rt.Read(), item);
  rt.Send(Create("c4"));  // still capped
  EXPECT_EQ(Json::parse(rt.ReadUntilDoneOrError())["error"]["event_id"], "c4");
  rt.Close();
  std::vector<std::string> want = Hashes({Create("c1"), Create("c2"), item});
  EXPECT_EQ(UpstreamReceived(*h), want);

  ASSERT_TRUE(WaitForSink(2, /*closed_sessions=*/1));
  std::vector<recorder::GuardDecision> rows = CapDecisions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].reason, "session_cap");
  EXPECT_EQ(rows[0].decision, "reject");
  EXPECT_EQ(rows[0].mode, "enforce");
  EXPECT_EQ(rows[0].key, std::string(kAzureHost) + "/gpt-realtime");
  EXPECT_NE(rows[0].connection_id, 0u);
  EXPECT_GT(rows[0].exchange_sequence, 0u);
  Json counts = Json::parse(rows[1].counts);
  EXPECT_EQ(counts["failed_responses"], 2);
  EXPECT_EQ(counts["creates_after_failure"], 1);
  EXPECT_EQ(counts["withheld"], 2);
  EXPECT_EQ(rows[0].counts.find("c3"), std::string::npos);  // no payload in the row

  // The taps saw what each socket got: upstream never got c3; the app got the error events.
  int up_creates = 0, down_cap_errors = 0;
  for (const recorder::WsMessage& m : sink_.Of<recorder::WsMessage>()) {
    if (m.direction == recorder::WsDirection::kClientToServer &&
        m.payload.find("response.create") != std::string::npos) {
      ++up_creates;
    }
    if (m.direction == recorder::WsDirection::kServerToClient &&
        m.payload.find("relaytap_session_cap") != std::string::npos) {
      ++down_cap_errors;
    }
  }
  EXPECT_EQ(up_creates, 2);
  EXPECT_EQ(down_cap_errors, 2);
}

TEST_F(GuardSessionCapTest, ObserveForwardsEverythingAndRecordsWouldBeDecisions) {
  auto h = Start(guard::GuardMode::kObserve, true, /*max=*/0);
  Realtime rt(*h, {});
  for (const char* id : {"c1", "c2", "c3"}) {
    rt.Send(Create(id));
    EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done") << id;
  }
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes(rt.sent()));
  ASSERT_TRUE(WaitForSink(2, 1));
  std::vector<recorder::GuardDecision> rows = CapDecisions();
  ASSERT_EQ(rows.size(), 2u);  // c2 and c3 exceed a cap of 0
  for (const auto& r : rows) {
    EXPECT_EQ(r.mode, "observe");
    EXPECT_EQ(r.reason, "session_cap");
  }
}

TEST_F(GuardSessionCapTest, CapOffRelaysEverythingWithoutDecisions) {
  auto h = Start(guard::GuardMode::kEnforce, false);
  Realtime rt(*h, {});
  for (const char* id : {"c1", "c2", "c3"}) {
    rt.Send(Create(id));
    EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done") << id;
  }
  const std::string item = R"({"type":"conversation.item.create","n":1})";
  rt.Send(item);
  EXPECT_EQ(rt.Read(), item);
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes(rt.sent()));
  ASSERT_TRUE(WaitForSink(0, 1));
  EXPECT_TRUE(CapDecisions().empty());
}

TEST_F(GuardSessionCapTest, DeflateWithContextTakeoverIsForwardedAsUnenforceable) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/0);
  Realtime rt(*h, {.deflate = true, .client_no_context_takeover = false});
  for (const char* id : {"c1", "c2"}) {
    rt.Send(Create(id));
    EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done") << id;
  }
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes(rt.sent()));
  ASSERT_TRUE(WaitForSink(1, 1));
  std::vector<recorder::GuardDecision> rows = CapDecisions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].reason, "session_cap_unenforceable");
  EXPECT_EQ(rows[0].decision, "forward");
}

TEST_F(GuardSessionCapTest, DeflateWithClientNoContextTakeoverIsEnforced) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/0);
  Realtime rt(*h, {.deflate = true, .client_no_context_takeover = true});
  rt.Send(Create("c1"));
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");
  rt.Send(Create("c2"));
  Json e = Json::parse(rt.ReadUntilDoneOrError(), nullptr, false);
  EXPECT_EQ(e["error"]["code"], "relaytap_session_cap");
  EXPECT_EQ(e["error"]["event_id"], "c2");
  const std::string item = R"({"type":"conversation.item.create","n":2})";
  rt.Send(item);
  EXPECT_EQ(rt.Read(), item);  // the server's inflate context was not disturbed
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes({Create("c1"), item}));
  ASSERT_TRUE(WaitForSink(1, 1));
  EXPECT_EQ(CapDecisions().at(0).reason, "session_cap");
}

TEST_F(GuardSessionCapTest, TheErrorEventWaitsForTheEndOfAServerMessageInFlight) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/0);
  Realtime rt(*h, {});
  rt.Send(Create("c1"));
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");
  // An 8 MiB echo: far more than the socket buffers hold, so while the client has read only its
  // start the proxy is still relaying the rest of that message to the app.
  const std::string big = R"({"type":"echo.request","pad":")" + std::string(8u << 20, 'p') + "\"}";
  rt.Send(big);
  bool done = false;
  std::string echo = rt.ReadSome(16 * 1024, &done);
  ASSERT_FALSE(done);
  rt.Send(Create("c2"));  // withheld while the echo is in flight
  for (int i = 0; i < 100'000 && !done; ++i) echo += rt.ReadSome(256 * 1024, &done);
  ASSERT_TRUE(done);
  EXPECT_EQ(echo.size(), big.size());
  EXPECT_TRUE(echo == big);  // not interrupted by the injected frame
  Json e = Json::parse(rt.Read(), nullptr, false);
  EXPECT_EQ(e["error"]["code"], "relaytap_session_cap");
  EXPECT_EQ(e["error"]["event_id"], "c2");
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes({Create("c1"), big}));
}

// A text event of exactly `n` bytes (n >= 64) the fake upstream echoes unchanged.
std::string ItemOfSize(size_t n, char fill) {
  std::string head = R"({"type":"conversation.item.create","pad":")";
  std::string msg = head + std::string(n - head.size() - 2, fill) + "\"}";
  return msg;
}

// The capped pump takes its 16 KiB buffers only while bytes flow, like the plain pump: messages
// around the buffer and record sizes and a 3 MiB one come back unchanged both ways, and records
// already inside the TLS engine (several corked into one segment) are relayed without waiting for
// socket bytes that never come.
TEST_F(GuardSessionCapTest, CappedSessionRelaysAllSizesAndBufferedRecordsUnchanged) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/1);
  auto c = h->InterceptedClient();
  TlsWebSocket ws(c->tls());
  beast::get_lowest_layer(c->tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(10), false});
  ws.read_message_max(64u << 20);
  ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime&echo=1");
  beast::flat_buffer b;
  ws.read(b);  // session.created: the session is idle
  std::vector<std::string> sent;
  for (size_t n : {64u, 16383u, 16384u, 16385u, 32768u, 32769u, 65537u, 3u << 20}) {
    sent.push_back(ItemOfSize(n, static_cast<char>('a' + sent.size())));
    ws.text(true);
    ws.write(net::buffer(sent.back()));
    b.clear();
    ws.read(b);
    ASSERT_EQ(beast::buffers_to_string(b.data()), sent.back()) << "size " << n;
  }
  auto& sock = beast::get_lowest_layer(c->tls()).socket();
  const int on = 1, off = 0;
  ASSERT_EQ(::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
  std::vector<std::string> corked;
  for (size_t i = 0; i < 4; ++i) {
    corked.push_back(ItemOfSize(300 + i, 'q'));
    ws.write(net::buffer(corked.back()));
  }
  ASSERT_EQ(::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &off, sizeof(off)), 0);
  for (const std::string& want : corked) {
    b.clear();
    boost::system::error_code ec;
    ws.read(b, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(beast::buffers_to_string(b.data()), want);
  }
  ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
  sent.insert(sent.end(), corked.begin(), corked.end());
  EXPECT_EQ(UpstreamReceived(*h), Hashes(sent));
  ASSERT_TRUE(WaitForSink(0, /*closed_sessions=*/1));
  EXPECT_EQ(sink_.Of<recorder::WsSessionClosed>()[0].end.up, recorder::PumpEnd::kEof);
}

}  // namespace
}  // namespace relaytap::testing::guard_session
