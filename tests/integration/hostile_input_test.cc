// What a hostile or broken peer sends must not take the proxy down: each test drives the real
// proxy (guard and recorder on) with the message that once did, then proves the proxy still
// serves and the store still records.
#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "proxy/guard/retry_guard.h"
#include "recorder/recorder.h"
#include "tests/integration/relay_test_support.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/test_recorder.h"

namespace relaytap::testing {
namespace {

namespace guard = proxy::guard;
namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("hostile_input");
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
    guard::GuardPolicy p;
    p.session_cap.enabled = true;
    guard_ = std::make_unique<guard::RetryGuard>(p, guard::GuardMode::kObserve);
    ProxyHarness::Options o;
    o.sink = recorder_.get();
    o.guard = guard_.get();
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

  // Sends `message` on a realtime session; the fake upstream's echo endpoint (echo=1) returns it,
  // so the same text comes back as a server message. Returns the echo.
  std::string EchoThroughSession(const std::string& message) {
    auto c = harness_->InterceptedClient();
    TlsWebSocket ws(c->tls());
    beast::get_lowest_layer(c->tls()).expires_never();
    ws.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(20), std::chrono::seconds(20), false});
    ws.read_message_max(64u << 20);
    ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime&echo=1");
    beast::flat_buffer created;
    ws.read(created);
    ws.text(true);
    ws.write(net::buffer(message));
    beast::flat_buffer echo;
    ws.read(echo);
    ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
    return beast::buffers_to_string(echo.data());
  }

  void Finish() {
    harness_.reset();
    ASSERT_TRUE(recorder_->Close().ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<guard::RetryGuard> guard_;
  std::unique_ptr<ProxyHarness> harness_;
};

// #14 item 3: a response.done nested 100,000 deep, from the app and back from upstream, under
// --guard observe with the session cap on: relayed unchanged, recorded, and the proxy serves on.
TEST_F(HostileInputTest, DeeplyNestedResponseDoneIsRelayedAndRecorded) {
  constexpr int kDepth = 100'000;
  const std::string deep = R"({"type":"response.done","response":{"status":"failed","output":)" +
                           std::string(kDepth, '[') + std::string(kDepth, ']') + "}}";
  EXPECT_EQ(EchoThroughSession(deep), deep);
  // The proxy still answers.
  auto c = harness_->InterceptedClient();
  EXPECT_EQ(c->Request(Get("/echo", kAzureHost)).result_int(), 200);
  Finish();
  EXPECT_EQ(Query(TestDbPath(dir_),
                  "SELECT COUNT(*) FROM events WHERE type = 'response.done' AND "
                  "direction = 'server'"),
            "1");
  EXPECT_EQ(Query(TestDbPath(dir_), "SELECT COUNT(*) FROM ws_sessions"), "1");
}

// #14 item 4: a message longer than the observation cap (which was as large as the recorder's
// whole queue) is relayed unchanged and recorded as metadata: its type and full size, the limit
// it passed, no content, and no gap.
TEST_F(HostileInputTest, MessagePastTheObservationCapIsRecordedAsMetadata) {
  const std::string big = R"({"type":"conversation.item.create","item":{"content":")" +
                          std::string(30u << 20, 'a') + R"("}})";
  EXPECT_EQ(EchoThroughSession(big), big);
  Finish();
  const std::string shape = R"({"redacted":"over_limit","limit":"observation_cap","len":)" +
                            std::to_string(big.size()) + "}";
  EXPECT_EQ(Query(TestDbPath(dir_),
                  "SELECT group_concat(row, ' | ') FROM (SELECT direction || ' ' || "
                  "payload_bytes || ' ' || truncated || ' ' || payload AS row FROM events "
                  "WHERE type = 'conversation.item.create' ORDER BY seq)"),
            "client " + std::to_string(big.size()) + " 1 " + shape + " | server " +
                std::to_string(big.size()) + " 1 " + shape);
  EXPECT_EQ(Query(TestDbPath(dir_), "SELECT COUNT(*) FROM gaps"), "0");
}

// #14 item 4: millions of values within the cap cost the writer a bounded parse; the message is
// stored as its over-limit shape, not as a row of many megabytes.
TEST_F(HostileInputTest, MessageWithMillionsOfValuesIsStoredAsItsShape) {
  std::string many = R"({"type":"conversation.item.create","item":{"content":[)";
  for (int i = 0; i < 4'000'000; ++i) many += "[],";
  many += "[]]}}";
  EXPECT_EQ(EchoThroughSession(many), many);
  Finish();
  EXPECT_EQ(Query(TestDbPath(dir_),
                  "SELECT COUNT(*) FROM events WHERE type = 'conversation.item.create' AND "
                  "truncated = 0 AND payload_bytes = " +
                      std::to_string(many.size()) +
                      " AND payload LIKE '{\"redacted\":\"over_limit\",\"limit\":"
                      "\"element_budget\",\"len\":%' AND length(payload) < 200"),
            "2");
}

}  // namespace
}  // namespace relaytap::testing
