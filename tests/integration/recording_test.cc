// The whole pipeline: real clients -> proxy -> fake upstream failure modes, recorded by the real
// Recorder into SQLite; each failure is classified by outcome and carries its correlation ids.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "recorder/recorder.h"
#include "tests/testing/ports.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

void OpenRealtime(ProxyClient& c, TlsWebSocket& ws, const std::string& target) {
  beast::get_lowest_layer(c.tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
  ws.handshake(kAzureHost, target);
  beast::flat_buffer b;
  ws.read(b);  // session.created
}

class RecordingTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(64u << 20); }
  void Open(uint64_t queue_max_bytes) {
    dir_ = FreshDir("recording");
    recorder::RecorderOptions ro;
    ro.db_path = (dir_ / "relaytap.db").string();
    ro.key_dir = dir_.string();
    ro.batch_interval = absl::Milliseconds(20);
    ro.queue_max_bytes = queue_max_bytes;
    auto rec = recorder::Recorder::Open(ro);
    ASSERT_TRUE(rec.ok()) << rec.status();
    recorder_ = std::move(*rec);
  }
  // Stops the proxy (every session has ended) and drains the recorder.
  void Finish(std::unique_ptr<ProxyHarness> h) {
    h.reset();
    ASSERT_TRUE(recorder_->Close().ok());
  }
  std::string Db() const { return (dir_ / "relaytap.db").string(); }

  std::filesystem::path dir_;
  std::unique_ptr<recorder::Recorder> recorder_;
};

TEST_F(RecordingTest, EachFailureModeIsClassifiedWithItsCorrelationIds) {
  const uint16_t dead = FreeLoopbackPort();  // nothing listens there
  ProxyHarness::Options o;
  o.sink = recorder_.get();
  // An empty DNS label fails inside getaddrinfo itself: a DNS failure without any DNS traffic.
  o.extra_connect_to = {"dead.openai.azure.com:443:127.0.0.1:" + std::to_string(dead),
                        "nodns.openai.azure.com:443:bad..relaytap.test:443"};
  o.extra_upstream_names = {"wrongcert.openai.azure.com"};
  auto h = std::make_unique<ProxyHarness>(std::move(o));

  {  // 5xx on the upgrade
    auto c = h->InterceptedClient();
    c->Write(
        "GET /status/503 HTTP/1.1\r\nHost: contoso.openai.azure.com\r\nConnection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    EXPECT_EQ(c->ReadResponse().result_int(), 503);
  }
  {  // 429 with retry-after-ms
    auto c = h->InterceptedClient();
    c->Write("GET /status/429 HTTP/1.1\r\nHost: contoso.openai.azure.com\r\n\r\n");
    EXPECT_EQ(c->ReadResponse().result_int(), 429);
  }
  {  // response.done failed with server_error
    auto c = h->InterceptedClient();
    TlsWebSocket ws(c->tls());
    OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime&fail=response");
    ws.write(net::buffer(std::string(R"({"type":"response.create"})")));
    beast::flat_buffer b;
    bool done = false;
    for (int i = 0; i < 50 && !done; ++i) {
      b.clear();
      ws.read(b);
      done = beast::buffers_to_string(b.data()).find("response.done") != std::string::npos;
    }
    ws.close(websocket::close_code::normal);
  }
  {  // an error event
    auto c = h->InterceptedClient();
    TlsWebSocket ws(c->tls());
    OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime");
    ws.write(net::buffer(std::string(R"({"type":"invalid.event","event_id":"evt_client_1"})")));
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_THAT(beast::buffers_to_string(b.data()), ::testing::HasSubstr("invalid_request_error"));
    ws.close(websocket::close_code::normal);
  }
  {  // upstream reset mid-session
    auto c = h->InterceptedClient();
    TlsWebSocket ws(c->tls());
    OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime&reset_after=1");
    ws.write(net::buffer(std::string(R"({"type":"input_audio_buffer.commit"})")));
    beast::flat_buffer b;
    boost::system::error_code ec;
    for (int i = 0; i < 10 && !ec; ++i) ws.read(b, ec);
  }
  {  // the app aborts
    auto c = h->InterceptedClient();
    TlsWebSocket ws(c->tls());
    OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime");
    auto& sock = beast::get_lowest_layer(c->tls()).socket();
    boost::system::error_code ignored;
    sock.set_option(net::socket_base::linger(true, 0), ignored);
    sock.close(ignored);
  }
  {  // connection refused upstream
    auto c = h->InterceptedClient("dead.openai.azure.com");
    c->Write("GET /openai/v1/models HTTP/1.1\r\nHost: dead.openai.azure.com\r\n\r\n");
    EXPECT_EQ(c->ReadResponse().result_int(), 502);
  }
  {  // name resolution fails
    auto c = h->InterceptedClient("nodns.openai.azure.com");
    c->Write("GET /openai/v1/models HTTP/1.1\r\nHost: nodns.openai.azure.com\r\n\r\n");
    auto res = c->ReadResponse();
    EXPECT_EQ(res.result_int(), 502);
    EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_dns");
  }
  {  // the upstream certificate does not name the host
    auto c = h->InterceptedClient("wrongcert.openai.azure.com");
    c->Write("GET /openai/v1/models HTTP/1.1\r\nHost: wrongcert.openai.azure.com\r\n\r\n");
    EXPECT_EQ(c->ReadResponse().result_int(), 502);
  }
  {  // the app does not trust relaytap's CA
    ProxyClient c(h->proxy_port());
    ASSERT_EQ(c.Connect(kAzureHost, 443), 200);
    EXPECT_FALSE(c.StartTls(kAzureHost, h->upstream_ca_pem()));
  }
  ASSERT_TRUE(h->upstream().WaitForClosedWsSessions(4, std::chrono::seconds(20)));
  Finish(std::move(h));

  const std::string db = Db();
  EXPECT_EQ(Query(db, "SELECT outcome FROM exchanges WHERE path LIKE '/status/503%'"),
            "server_error_5xx");
  EXPECT_EQ(Query(db, "SELECT outcome FROM exchanges WHERE path LIKE '/status/429%'"),
            "throttled_429");
  EXPECT_EQ(Query(db, "SELECT retry_after_ms FROM exchanges WHERE path LIKE '/status/429%'"),
            "1500");
  EXPECT_THAT(Query(db, "SELECT apim_request_id FROM exchanges WHERE path LIKE '/status/429%'"),
              ::testing::SizeIs(36));
  EXPECT_EQ(Query(db,
                  "SELECT outcome FROM ws_sessions WHERE session_id IN (SELECT session_id "
                  "FROM ws_sessions) AND failed_responses > 0"),
            "response_failed");
  EXPECT_EQ(Query(db, "SELECT first_error_type FROM ws_sessions WHERE failed_responses > 0"),
            "server_error");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM ws_sessions WHERE outcome = 'upstream_reset'"), "1");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM ws_sessions WHERE outcome = 'client_abort'"), "1");
  EXPECT_EQ(
      Query(db, "SELECT outcome FROM connections WHERE target_host = 'dead.openai.azure.com'"),
      "connect_failure");
  EXPECT_EQ(
      Query(db, "SELECT outcome FROM connections WHERE target_host = 'nodns.openai.azure.com'"),
      "dns_failure");
  EXPECT_EQ(Query(db, "SELECT outcome FROM exchanges WHERE host = 'nodns.openai.azure.com'"),
            "dns_failure");
  EXPECT_EQ(Query(db, "SELECT outcome FROM exchanges WHERE host = 'dead.openai.azure.com'"),
            "connect_failure");
  EXPECT_EQ(Query(db, "SELECT outcome FROM exchanges WHERE host = 'wrongcert.openai.azure.com'"),
            "upstream_tls_failure");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM connections WHERE outcome = 'client_rejected_ca'"),
            "1");
  EXPECT_EQ(Query(db, "SELECT outcome FROM ws_sessions WHERE error_events > 0"), "error_event");
  EXPECT_EQ(Query(db, "SELECT first_error_code FROM ws_sessions WHERE error_events > 0"),
            "invalid_value");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM ws_sessions WHERE session_id LIKE 'sess_%'"), "4");
  // Failures are listed with their ids; response ids of the failed response are in the events.
  EXPECT_NE(Query(db, "SELECT count(*) FROM v_failures"), "0");
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM events WHERE type = 'response.done' AND "
                  "response_id LIKE 'resp_%'"),
            "1");
  EXPECT_EQ(Query(db, "SELECT integrity_check FROM pragma_integrity_check"), "ok");
}

TEST_F(RecordingTest, AFullQueueNeverSlowsTheRelayAndTheLossIsRecordedAsAGap) {
  ASSERT_TRUE(recorder_->Close().ok());
  Open(4096);  // smaller than one audio message: most observations cannot be kept
  ProxyHarness::Options o;
  o.sink = recorder_.get();
  auto h = std::make_unique<ProxyHarness>(std::move(o));
  auto c = h->InterceptedClient();
  TlsWebSocket ws(c->tls());
  OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime&echo=1");
  std::string audio(64 * 1024, 'A');
  std::vector<std::string> sent, echoed;
  for (int i = 0; i < 50; ++i) {
    std::string msg =
        R"({"type":"echo.request","i":)" + std::to_string(i) + R"(,"audio":")" + audio + "\"}";
    ws.write(net::buffer(msg));
    sent.push_back(Sha256Hex(msg));
    beast::flat_buffer b;
    ws.read(b);
    echoed.push_back(Sha256Hex(beast::buffers_to_string(b.data())));
  }
  EXPECT_EQ(echoed, sent);  // every message relayed, unchanged, in order
  ws.close(websocket::close_code::normal);
  ASSERT_TRUE(h->upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
  Finish(std::move(h));
  EXPECT_GT(recorder_->stats().dropped, 0u);
  const std::string db = Db();
  EXPECT_NE(Query(db, "SELECT coalesce(sum(dropped_observations), 0) FROM gaps"), "0");
  EXPECT_EQ(Query(db, "SELECT integrity_check FROM pragma_integrity_check"), "ok");
}

}  // namespace
}  // namespace relaytap::testing
