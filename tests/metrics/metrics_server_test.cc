// The --metrics listener answers GET /metrics and /healthz, nothing else, and cannot be used to
// hold resources: big heads are refused, idle connections closed, connections capped.

#include "metrics/metrics_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "metrics/exposition.h"
#include "proxy/stream/net.h"
#include "tests/testing/wait.h"

namespace relaytap::metrics {
namespace {

class MetricsServerTest : public ::testing::Test {
 protected:
  void Start(ServerLimits limits = {}) {
    auto s = MetricsServer::Start(
        "127.0.0.1", 0, [] { return std::string("up 1\n"); }, limits);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  std::unique_ptr<beast::tcp_stream> Connect() {
    auto s = std::make_unique<beast::tcp_stream>(ioc_);
    s->expires_after(std::chrono::seconds(20));
    s->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }
  http::response<http::string_body> Get(beast::tcp_stream& s, std::string target,
                                        http::verb verb = http::verb::get) {
    http::request<http::empty_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(s, req);
    http::response<http::string_body> res;
    beast::flat_buffer b;
    http::read(s, b, res);
    return res;
  }
  // True once the server has closed `s` (a read ends with an error, not data).
  static bool Closed(beast::tcp_stream& s) {
    char c;
    boost::system::error_code ec;
    s.expires_after(std::chrono::seconds(20));
    s.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

  net::io_context ioc_;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, ServesMetricsAndHealthOnOneKeptAliveConnection) {
  Start();
  auto s = Connect();
  auto metrics = Get(*s, "/metrics");
  EXPECT_EQ(metrics.result_int(), 200);
  EXPECT_EQ(metrics[http::field::content_type], kContentType);
  EXPECT_EQ(metrics.body(), "up 1\n");
  auto health = Get(*s, "/healthz");
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_EQ(health.body(), "ok\n");
}

TEST_F(MetricsServerTest, AnythingElseIsNotFound) {
  Start();
  auto s = Connect();
  EXPECT_EQ(Get(*s, "/").result_int(), 404);
  EXPECT_EQ(Get(*s, "/metrics?x=1").result_int(), 404);
  EXPECT_EQ(Get(*s, "/metrics", http::verb::post).result_int(), 405);
}

TEST_F(MetricsServerTest, AnOversizedHeadIsRefusedAndClosed) {
  Start();
  auto s = Connect();
  const std::string head =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n";
  boost::system::error_code ec;
  net::write(*s, net::buffer(head), ec);
  http::response<http::string_body> res;
  beast::flat_buffer b;
  http::read(*s, b, res, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_TRUE(Closed(*s));
}

TEST_F(MetricsServerTest, AnIdleConnectionIsClosed) {
  Start(ServerLimits{.idle_timeout_ms = 100});
  auto s = Connect();
  EXPECT_TRUE(Closed(*s));
}

TEST_F(MetricsServerTest, ConnectionsOverTheCapAreClosedAtAccept) {
  Start(ServerLimits{.max_connections = 2});
  std::vector<std::unique_ptr<beast::tcp_stream>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(Connect());
    EXPECT_EQ(Get(*held.back(), "/healthz").result_int(), 200);  // accepted and being served
  }
  auto extra = Connect();
  EXPECT_TRUE(Closed(*extra));
  EXPECT_EQ(server_->refused_connections(), 1u);
  held.clear();  // the held ones close: the server serves again
  ASSERT_TRUE(relaytap::testing::WaitFor(
      [&] {
        auto s = Connect();
        boost::system::error_code ec;
        http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
        http::write(*s, req, ec);
        http::response<http::string_body> res;
        beast::flat_buffer b;
        if (!ec) http::read(*s, b, res, ec);
        return !ec && res.result_int() == 200;
      },
      "a connection to be served once the others closed"));
}

TEST(MetricsServerStartTest, AHostNameIsRefused) {
  auto s = MetricsServer::Start("metrics.example", 0, [] { return std::string(); });
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace relaytap::metrics
