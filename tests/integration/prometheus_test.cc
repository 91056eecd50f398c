// A real Prometheus (Debian's) scrapes a running proxy's --metrics listener while realtime
// sessions and failures go through the proxy to the fake upstream; its query API must show
// exactly the sessions and failures the test sent.

#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "metrics/proxy_metrics.h"
#include "recorder/recorder.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/real_prometheus.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

constexpr char kUpgradeHead[] =
    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

// A realtime session that closes normally; with `respond`, after one whole response.
void GoodSession(ProxyHarness& h, bool respond) {
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  beast::get_lowest_layer(c->tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
  ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime");
  beast::flat_buffer b;
  ws.read(b);  // session.created
  if (respond) {
    ws.write(net::buffer(std::string(R"({"type":"response.create"})")));
    bool done = false;
    for (int i = 0; i < 200 && !done; ++i) {
      b.clear();
      ws.read(b);
      done = beast::buffers_to_string(b.data()).find("\"response.done\"") != std::string::npos;
    }
    EXPECT_TRUE(done);
  }
  ws.close(websocket::close_code::normal);
}

// An upgrade request that gets `status` back instead of 101.
void FailedUpgrade(ProxyHarness& h, const std::string& host, const std::string& path, int status) {
  auto c = h.InterceptedClient(host);
  c->Write("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + kUpgradeHead);
  EXPECT_EQ(c->ReadResponse().result_int(), status);
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("prometheus_metrics");
    recorder::RecorderOptions ro;
    ro.db_path = (dir_ / "relaytap.db").string();
    ro.key_dir = dir_.string();
    ro.batch_interval = absl::Milliseconds(20);
    ro.tap = &tally_;
    auto rec = recorder::Recorder::Open(ro);
    ASSERT_TRUE(rec.ok()) << rec.status();
    recorder_ = std::move(*rec);
  }
  void TearDown() override {
    prometheus_.reset();
    metrics_.reset();
    harness_.reset();
    if (recorder_) {
      EXPECT_TRUE(recorder_->Close().ok());
    }
  }

  std::filesystem::path dir_;
  metrics::Tally tally_;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<ProxyHarness> harness_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  std::unique_ptr<RealPrometheus> prometheus_;
};

TEST_F(PrometheusTest, ItsQueriesCountTheSessionsAndFailuresSent) {
  const uint16_t dead = FreeLoopbackPort();  // nothing listens: connection refused
  ProxyHarness::Options o;
  o.sink = recorder_.get();
  o.extra_connect_to = {"dead.openai.azure.com:443:127.0.0.1:" + std::to_string(dead)};
  harness_ = std::make_unique<ProxyHarness>(std::move(o));
  ProxyHarness* h = harness_.get();
  auto served = metrics::ServeProxyMetrics("127.0.0.1", 0, tally_, *recorder_,
                                           [h] { return h->server().active_sessions(); });
  ASSERT_TRUE(served.ok()) << served.status();
  metrics_ = std::move(*served);
  prometheus_ = RealPrometheus::Start(metrics_->port());
  ASSERT_NE(prometheus_, nullptr);
  ASSERT_TRUE(prometheus_->WaitForValue("up{job=\"relaytap\"}", 1)) << prometheus_->Log();
  ASSERT_TRUE(prometheus_->WaitForValue("sum(relaytap_ws_sessions_total)", 0));

  constexpr int kGood = 3, kRefused500 = 2, kDeadPort = 1;
  for (int i = 0; i < kGood; ++i) GoodSession(*h, /*respond=*/i == 0);
  for (int i = 0; i < kRefused500; ++i) FailedUpgrade(*h, kAzureHost, "/status/500", 500);
  for (int i = 0; i < kDeadPort; ++i) {
    FailedUpgrade(*h, "dead.openai.azure.com", "/openai/v1/realtime?model=gpt-realtime", 502);
  }

  EXPECT_TRUE(prometheus_->WaitForValue("sum(relaytap_ws_sessions_total)",
                                        kGood + kRefused500 + kDeadPort));
  EXPECT_TRUE(prometheus_->WaitForValue("relaytap_ws_sessions_total{outcome=\"ok\"}", kGood));
  EXPECT_TRUE(prometheus_->WaitForValue("relaytap_ws_sessions_total{outcome=\"server_error_5xx\"}",
                                        kRefused500));
  EXPECT_TRUE(prometheus_->WaitForValue("relaytap_ws_sessions_total{outcome=\"connect_failure\"}",
                                        kDeadPort));
  EXPECT_TRUE(prometheus_->WaitForValue("sum(relaytap_ws_sessions_total{outcome!=\"ok\"})",
                                        kRefused500 + kDeadPort));
  EXPECT_TRUE(prometheus_->WaitForValue("sum(relaytap_exchanges_total)", 0));
  // One session asked for a response: one first-delta observation.
  EXPECT_TRUE(prometheus_->WaitForValue("relaytap_response_first_delta_seconds_count", 1));
  // Every connection closed: each was one attempt on its own connection.
  EXPECT_TRUE(prometheus_->WaitForValue("relaytap_open_connections", 0));
  EXPECT_TRUE(prometheus_->WaitForValue("sum(relaytap_connections_total{mode=\"intercept\"})",
                                        kGood + kRefused500 + kDeadPort));
}

}  // namespace
}  // namespace relaytap::testing
