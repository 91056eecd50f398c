// The /metrics body is valid Prometheus text format 0.0.4: checked by its structure here, and by
// `promtool check metrics` when Debian's prometheus package is installed (CI installs it).

#include "metrics/exposition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testing/temp_dir.h"

namespace relaytap::metrics {
namespace {

using ::testing::HasSubstr;

TallySnapshot SomeTraffic() {
  Tally t;
  recorder::ConnectionOpened open;
  open.connection_id = 1;
  open.intercepted = true;
  t.OnConnectionOpened(open);
  recorder::ConnectionClosed closed;
  closed.connection_id = 1;
  closed.dns_us = 1'200;
  closed.upstream_tls_us = 30'000;
  t.OnConnectionClosed(closed, recorder::Outcome::kOk);
  recorder::GuardDecision g;
  g.decision = "reject";
  g.reason = "attempt_cap";
  t.OnGuardDecision(g);
  t.OnCommit();
  return t.Snapshot();
}

TEST(ExpositionTest, EveryFamilyHasHelpAndTypeAndHistogramsAreCumulative) {
  Gauges g;
  g.open_connections = 3;
  g.gap_queue_full = 5;
  const std::string text = RenderMetrics(SomeTraffic(), g);
  for (const char* family :
       {"relaytap_connections_total", "relaytap_exchanges_total", "relaytap_ws_sessions_total",
        "relaytap_ws_messages_total", "relaytap_bytes_total", "relaytap_upstream_stage_seconds",
        "relaytap_response_first_delta_seconds", "relaytap_guard_decisions_total",
        "relaytap_recorder_queue_bytes", "relaytap_recorder_gaps_total",
        "relaytap_open_connections"}) {
    EXPECT_THAT(text, HasSubstr(std::string("# HELP ") + family + " ")) << family;
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE ") + family + " ")) << family;
  }
  EXPECT_THAT(text, HasSubstr("relaytap_connections_total{mode=\"intercept\",outcome=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("relaytap_upstream_stage_seconds_bucket{stage=\"dns\",le=\"0.001\"} "
                              "0\n"));
  EXPECT_THAT(text, HasSubstr("relaytap_upstream_stage_seconds_bucket{stage=\"dns\",le=\"0.0025\"} "
                              "1\n"));
  EXPECT_THAT(text,
              HasSubstr("relaytap_upstream_stage_seconds_bucket{stage=\"dns\",le=\"10\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("relaytap_upstream_stage_seconds_bucket{stage=\"dns\",le=\"+Inf\"} "
                              "1\n"));
  EXPECT_THAT(text, HasSubstr("relaytap_upstream_stage_seconds_sum{stage=\"tls\"} 0.03\n"));
  EXPECT_THAT(text, HasSubstr("relaytap_upstream_stage_seconds_count{stage=\"tls\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("relaytap_response_first_delta_seconds_count 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("relaytap_guard_decisions_total{decision=\"reject\",reason=\"attempt_cap\"} 1"));
  EXPECT_THAT(text, HasSubstr("relaytap_recorder_gaps_total{reason=\"queue_full\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("relaytap_open_connections 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("mode=\"unknown\"")));  // only when some close had no open
}

TEST(ExpositionTest, PromtoolAcceptsTheOutput) {
  constexpr char kPromtool[] = "/usr/bin/promtool";
  if (!std::filesystem::exists(kPromtool)) {
    GTEST_SKIP() << "promtool missing (apt-get install prometheus; CI has it)";
  }
  const std::filesystem::path file = relaytap::testing::FreshTempDir("exposition") / "metrics.txt";
  std::ofstream(file) << RenderMetrics(SomeTraffic(), Gauges{});
  const std::string command =
      std::string(kPromtool) + " check metrics < " + file.string() + " 2>&1";
  FILE* p = ::popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "") << "promtool's lint findings";
}

}  // namespace
}  // namespace relaytap::metrics
