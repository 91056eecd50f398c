#pragma once
// Debian's Prometheus on a free 127.0.0.1 port, scraping 127.0.0.1:<target>/metrics every second,
// with its config file and storage in a fresh temp dir; started and stopped by its pid through
// the real-server kit (real_proxy.h). Query() asks its HTTP API (/api/v1/query).

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tests/testing/real_proxy.h"

namespace relaytap::testing {

class RealPrometheus {
 public:
  // Null, with a test failure, when the package is missing or it did not start.
  static std::unique_ptr<RealPrometheus> Start(uint16_t scrape_port);

  uint16_t port() const { return process_->port(); }
  // The value of the query's one sample at the latest scrape; nullopt when the result is empty
  // (no such series yet) or the query failed.
  std::optional<double> Query(const std::string& promql);
  // Waits until Query(promql) equals `want`; the failure says what was last seen.
  [[nodiscard]] ::testing::AssertionResult WaitForValue(const std::string& promql, double want);
  std::string Log() const { return process_->Log(); }

 private:
  std::unique_ptr<RealProxy> process_;
};

}  // namespace relaytap::testing
