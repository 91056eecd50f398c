// The fake upstream's WebSocket side: realtime conversations and failed responses, exact echo of
// bytes and opcodes, permessage-deflate negotiation, close and reset switches, and Stop().
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/tools/fake_upstream_client.h"
#include "tests/tools/fake_upstream_fixture.h"
#include "tests/tools/fake_upstream_test_support.h"
#include "tools/fake_upstream/fake_upstream.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream {
namespace {

namespace websocket = beast::websocket;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Deterministic;
using testing::ExpectAzureHeaders;
using ::testing::HasSubstr;
using testing::RunClient;
using testing::TypeOf;
using testing::WsClient;
using testing::WsLog;
using testing::WsMessage;
using testing::WsOpen;
using testing::WsRead;
using testing::WsSend;

using FakeUpstreamWsTest = testing::FakeUpstreamFixture;

TEST_F(FakeUpstreamWsTest, RealtimeConversation) {
  WsLog log;
  RunClient([&]() -> net::awaitable<void> {
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(
        !co_await WsOpen(ws, server_->port(), "/openai/v1/realtime?model=gpt-realtime", res));
    EXPECT_EQ(res[http::field::sec_websocket_protocol], "realtime");
    ExpectAzureHeaders(res);
    WsMessage created = co_await WsRead(ws, log);
    CO_ASSERT_TRUE(!created.ec);
    json session = json::parse(created.payload);
    EXPECT_EQ(session["type"], "session.created");
    EXPECT_TRUE(session["event_id"].get<std::string>().starts_with("event_"));
    EXPECT_TRUE(session["session"]["id"].get<std::string>().starts_with("sess_"));
    EXPECT_EQ(session["session"]["object"], "realtime.session");

    CO_ASSERT_TRUE(!co_await WsSend(ws, log, R"({"type":"response.create","response":{}})", true));
    std::vector<std::string> types;
    json done;
    for (int i = 0; i < 9; ++i) {
      WsMessage m = co_await WsRead(ws, log);
      CO_ASSERT_TRUE(!m.ec && m.text);
      json j = json::parse(m.payload);
      types.push_back(j["type"]);
      if (j["type"] == "response.output_audio.delta") {
        EXPECT_GE(j["delta"].get<std::string>().size(), 6000u);
      }
      if (j["type"] == "response.done") done = j;
    }
    std::vector<std::string> expected = {"response.created"};
    for (int i = 0; i < 5; ++i) expected.push_back("response.output_audio.delta");
    expected.push_back("response.output_audio_transcript.delta");
    expected.push_back("response.output_audio_transcript.delta");
    expected.push_back("response.done");
    EXPECT_EQ(types, expected);
    EXPECT_EQ(done["response"]["status"], "completed");
    EXPECT_TRUE(done["response"]["id"].get<std::string>().starts_with("resp_"));
    EXPECT_GT(done["response"]["usage"]["total_tokens"].get<int>(), 0);
    auto [cec] = co_await ws.async_close(websocket::close_code::normal);
    EXPECT_FALSE(cec) << cec.message();
  });
  ASSERT_TRUE(server_->WaitForClosedWsSessions(1, seconds(5)));
  auto sessions = server_->ws_sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].target, "/openai/v1/realtime?model=gpt-realtime");
  EXPECT_TRUE(sessions[0].closed);
  EXPECT_FALSE(sessions[0].deflate_negotiated);
  EXPECT_EQ(sessions[0].received, log.sent);
  EXPECT_EQ(sessions[0].sent, log.received);
  EXPECT_EQ(log.received.size(), 10u);
}

TEST_F(FakeUpstreamWsTest, RealtimeFailedResponse) {
  RunClient([&]() -> net::awaitable<void> {
    WsLog log;
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(),
                                    "/openai/v1/realtime?model=gpt-realtime&fail=response", res));
    WsMessage created = co_await WsRead(ws, log);
    CO_ASSERT_TRUE(!created.ec);
    std::string session_id = json::parse(created.payload)["session"]["id"];
    CO_ASSERT_TRUE(!co_await WsSend(ws, log, R"({"type":"response.create"})", true));
    WsMessage first = co_await WsRead(ws, log);
    EXPECT_EQ(TypeOf(first.payload), "response.created");
    WsMessage done = co_await WsRead(ws, log);
    CO_ASSERT_TRUE(!done.ec);
    json j = json::parse(done.payload);
    EXPECT_EQ(j["type"], "response.done");
    EXPECT_EQ(j["response"]["status"], "failed");
    EXPECT_EQ(j["response"]["status_details"]["type"], "failed");
    EXPECT_EQ(j["response"]["status_details"]["error"]["type"], "server_error");
    EXPECT_TRUE(j["response"]["status_details"]["error"]["code"].is_null());
    EXPECT_THAT(j["response"]["status_details"]["error"]["message"].get<std::string>(),
                HasSubstr("(Please include the session ID " + session_id + " in your message.)"));
    auto [cec] = co_await ws.async_close(websocket::close_code::normal);
    EXPECT_FALSE(cec);
  });
  EXPECT_TRUE(server_->WaitForClosedWsSessions(1, seconds(5)));
}

TEST_F(FakeUpstreamWsTest, WebSocketEchoesExactBytesAndOpcodes) {
  WsLog log;
  std::string binary = Deterministic(100000);
  const std::vector<std::pair<std::string, bool>> messages = {
      {R"({"type":"echo.request","n":1})", true},
      {"not json at all", true},
      {binary, false},
      {R"({"type":"input_audio_buffer.append","audio":"AAAA"})", true},
  };
  RunClient([&]() -> net::awaitable<void> {
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(), "/ws/echo", res));
    CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);  // session.created
    for (const auto& [payload, text] : messages) {
      CO_ASSERT_TRUE(!co_await WsSend(ws, log, payload, text));
      WsMessage echo = co_await WsRead(ws, log);
      CO_ASSERT_TRUE(!echo.ec);
      EXPECT_EQ(echo.payload, payload);
      EXPECT_EQ(echo.text, text);
    }
    auto [cec] = co_await ws.async_close(websocket::close_code::normal);
    EXPECT_FALSE(cec);
  });
  ASSERT_TRUE(server_->WaitForClosedWsSessions(1, seconds(5)));
  auto sessions = server_->ws_sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].received, log.sent);
  EXPECT_EQ(sessions[0].sent, log.received);
  EXPECT_EQ(sessions[0].received.size(), messages.size());
}

TEST_F(FakeUpstreamWsTest, DeflateNegotiatedOnlyWhenOfferedAndEnabled) {
  auto run = [&](bool offer) {
    RunClient([&]() -> net::awaitable<void> {
      WsLog log;
      WsClient client(co_await net::this_coro::executor);
      auto& ws = client.ws;
      websocket::response_type res;
      CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(), "/v1/realtime?echo=1", res, offer));
      CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);
      std::string big(200000, 'a');
      CO_ASSERT_TRUE(!co_await WsSend(ws, log, big, true));
      WsMessage echo = co_await WsRead(ws, log);
      EXPECT_EQ(echo.payload, big);
      auto [cec] = co_await ws.async_close(websocket::close_code::normal);
      EXPECT_FALSE(cec);
    });
  };
  run(true);
  run(false);
  ASSERT_TRUE(server_->WaitForClosedWsSessions(2, seconds(5)));
  auto sessions = server_->ws_sessions();
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_TRUE(sessions[0].deflate_negotiated);
  EXPECT_FALSE(sessions[1].deflate_negotiated);

  Options no_deflate;
  no_deflate.permessage_deflate = false;
  StartServer(no_deflate);
  run(true);
  ASSERT_TRUE(server_->WaitForClosedWsSessions(1, seconds(5)));
  EXPECT_FALSE(server_->ws_sessions()[0].deflate_negotiated);
}

TEST_F(FakeUpstreamWsTest, CloseRequestAndResetAfter) {
  RunClient([&]() -> net::awaitable<void> {
    WsLog log;
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(), "/openai/realtime", res));
    CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);
    CO_ASSERT_TRUE(!co_await WsSend(ws, log, R"({"type":"close.request"})", true));
    WsMessage m = co_await WsRead(ws, log);
    EXPECT_EQ(m.ec, websocket::error::closed);
    EXPECT_EQ(ws.reason().code, websocket::close_code::normal);
    EXPECT_EQ(ws.reason().reason, "bye");
  });
  RunClient([&]() -> net::awaitable<void> {
    WsLog log;
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(
        !co_await WsOpen(ws, server_->port(), "/openai/realtime?echo=1&reset_after=2", res));
    CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);
    CO_ASSERT_TRUE(!co_await WsSend(ws, log, "one", true));
    CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);
    CO_ASSERT_TRUE(!co_await WsSend(ws, log, "two", true));
    WsMessage m = co_await WsRead(ws, log);
    EXPECT_TRUE(m.ec && m.ec != websocket::error::closed) << m.ec.message();
  });
  ASSERT_TRUE(server_->WaitForClosedWsSessions(2, seconds(5)));
  auto sessions = server_->ws_sessions();
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[1].received.size(), 2u);
  EXPECT_EQ(sessions[1].sent.size(), 2u);  // session.created + the first echo
}

// The smallest text-only flow (what `relaytap probe --realtime` sends), answered like the
// service: each client event gets its answer, then the response in the session's dialect.
std::vector<std::string> TextFlowTypes(uint16_t port, const std::string& target,
                                       const std::string& protocols, const char* modalities_key,
                                       std::string* text) {
  std::vector<std::string> types;
  RunClient([&]() -> net::awaitable<void> {
    WsLog log;
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(!co_await WsOpen(ws, port, target, res, false, protocols));
    json update = {{"type", "session.update"},
                   {"event_id", "evt_1"},
                   {"session", {{"type", "realtime"}, {modalities_key, {"text"}}}}};
    json item = {{"type", "conversation.item.create"},
                 {"item",
                  {{"type", "message"},
                   {"role", "user"},
                   {"content", {{{"type", "input_text"}, {"text", "Say OK"}}}}}}};
    for (const std::string& m :
         {update.dump(), item.dump(), std::string(R"({"type":"response.create"})")}) {
      CO_ASSERT_TRUE(!co_await WsSend(ws, log, m, true));
    }
    for (int i = 0; i < 50; ++i) {
      WsMessage m = co_await WsRead(ws, log);
      CO_ASSERT_TRUE(!m.ec);
      json j = json::parse(m.payload);
      types.push_back(j["type"]);
      if (j["type"] == "response.text.delta" || j["type"] == "response.output_text.delta") {
        *text += j["delta"].get<std::string>();
      }
      if (j["type"] == "response.done") break;
    }
    auto [cec] = co_await ws.async_close(websocket::close_code::normal);
    EXPECT_FALSE(cec);
  });
  return types;
}

TEST_F(FakeUpstreamWsTest, GaSessionAnswersClientEventsLikeTheService) {
  std::string text;
  std::vector<std::string> types =
      TextFlowTypes(server_->port(), "/openai/v1/realtime?model=gpt-realtime&say=OK", "realtime",
                    "output_modalities", &text);
  EXPECT_EQ(types, (std::vector<std::string>{"session.created", "session.updated",
                                             "conversation.item.created", "response.created",
                                             "response.output_text.delta", "response.done"}));
  EXPECT_EQ(text, "OK");
}

TEST_F(FakeUpstreamWsTest, PreviewSessionAnswersInThePreviewDialect) {
  std::string text;
  std::vector<std::string> types = TextFlowTypes(
      server_->port(), "/openai/realtime?api-version=2025-04-01-preview&deployment=d&say=OK",
      "realtime, openai-beta.realtime-v1", "modalities", &text);
  EXPECT_EQ(types, (std::vector<std::string>{"session.created", "session.updated",
                                             "conversation.item.created", "response.created",
                                             "response.text.delta", "response.done"}));
  EXPECT_EQ(text, "OK");
}

TEST_F(FakeUpstreamWsTest, UnknownEventIsAnErrorOnTheServiceEndpointAndEchoedOnTheEchoOne) {
  const std::string unknown = R"({"type":"echo.request","event_id":"evt_9"})";
  for (const char* target : {"/openai/v1/realtime?model=m", "/openai/v1/realtime?model=m&echo=1"}) {
    RunClient([&]() -> net::awaitable<void> {
      WsLog log;
      WsClient client(co_await net::this_coro::executor);
      auto& ws = client.ws;
      websocket::response_type res;
      CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(), target, res));
      CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);
      CO_ASSERT_TRUE(!co_await WsSend(ws, log, unknown, true));
      WsMessage m = co_await WsRead(ws, log);
      CO_ASSERT_TRUE(!m.ec);
      if (std::string(target).ends_with("echo=1")) {
        EXPECT_EQ(m.payload, unknown);
      } else {
        json j = json::parse(m.payload);
        EXPECT_EQ(j["type"], "error");
        EXPECT_EQ(j["error"]["event_id"], "evt_9");
      }
      auto [cec] = co_await ws.async_close(websocket::close_code::normal);
      EXPECT_FALSE(cec);
    });
  }
}

TEST_F(FakeUpstreamWsTest, StopClosesLiveConnections) {
  RunClient([&]() -> net::awaitable<void> {
    WsLog log;
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(), "/ws", res));
    CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);
    auto start = std::chrono::steady_clock::now();
    server_->Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1500));
    WsMessage m = co_await WsRead(ws, log);
    EXPECT_TRUE(m.ec);
  });
  EXPECT_TRUE(server_->WaitForClosedWsSessions(1, milliseconds(100)));
  server_->Stop();  // idempotent
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream
