// --metrics is checked at startup: loopback unless allowed, never the proxy's port, and only with
// recording on; the config file takes the same settings.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "proxy/config/config.h"
#include "tests/testing/temp_dir.h"

namespace relaytap::proxy {
namespace {

using ::testing::HasSubstr;

ProxyConfig WithMetrics(std::string host, uint16_t port) {
  ProxyConfig c;
  c.metrics = HostPort{std::move(host), port};
  return c;
}

TEST(MetricsConfigTest, LoopbackOnAnotherPortIsAccepted) {
  EXPECT_TRUE(ValidateMetrics(WithMetrics("127.0.0.1", 9464)).ok());
  EXPECT_TRUE(ValidateMetrics(WithMetrics("::1", 0)).ok());
  EXPECT_TRUE(ValidateMetrics(ProxyConfig{}).ok());  // no --metrics
}

TEST(MetricsConfigTest, ANonLoopbackAddressNeedsTheExplicitFlag) {
  ProxyConfig c = WithMetrics("0.0.0.0", 9464);
  absl::Status st = ValidateMetrics(c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("--metrics-allow-remote"));
  c.metrics_allow_remote = true;
  EXPECT_TRUE(ValidateMetrics(c).ok());
}

TEST(MetricsConfigTest, TheProxysOwnPortIsRefused) {
  ProxyConfig c = WithMetrics("127.0.0.1", 8080);
  c.listen = HostPort{"127.0.0.1", 8080};
  absl::Status st = ValidateMetrics(c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("proxy's own port"));
  c.metrics->host = "::1";  // another loopback address, the same port: still refused
  EXPECT_FALSE(ValidateMetrics(c).ok());
}

TEST(MetricsConfigTest, MetricsNeedRecording) {
  ProxyConfig c = WithMetrics("127.0.0.1", 9464);
  c.record = false;
  EXPECT_THAT(std::string(ValidateMetrics(c).message()), HasSubstr("--no-record"));
}

TEST(MetricsConfigTest, TheConfigFileSetsBothKeys) {
  const auto file = relaytap::testing::FreshTempDir("metrics_config") / "c.json";
  std::ofstream(file) << R"({"metrics": "127.0.0.1:9464", "metrics_allow_remote": true})";
  ProxyConfig c;
  ASSERT_TRUE(MergeConfigFile(file, c).ok());
  ASSERT_TRUE(c.metrics.has_value());
  EXPECT_EQ(*c.metrics, (HostPort{"127.0.0.1", 9464}));
  EXPECT_TRUE(c.metrics_allow_remote);
  std::ofstream(file) << R"({"metrics": 9464})";
  absl::Status st = MergeConfigFile(file, c);
  EXPECT_THAT(std::string(st.message()), HasSubstr("'metrics'"));
}

}  // namespace
}  // namespace relaytap::proxy
