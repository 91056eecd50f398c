#pragma once
// The --metrics listener: its own thread and io_context, apart from the relay's. Serves
// GET /metrics (the body `render` returns, Prometheus text format) and GET /healthz ("ok");
// anything else is 404 (405 for another method on those two paths). It cannot be turned
// against the proxy: request heads are capped at 8 KiB (431), bodies refused, an idle
// connection is closed after 10 s, and at most 8 connections are served at once (more are
// closed at accept).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace relaytap::metrics {

struct ServerLimits {
  size_t max_head_bytes = 8 * 1024;
  int idle_timeout_ms = 10'000;
  int max_connections = 8;
};

class MetricsServer {
 public:
  // Binds host:port (port 0: any) and starts serving. `render` runs on the server's thread, one
  // scrape at a time; it must be thread-safe with respect to everything else it reads.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& host,
                                                              uint16_t port,
                                                              std::function<std::string()> render,
                                                              ServerLimits limits = {});
  ~MetricsServer();  // stops the thread and closes every connection
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const;
  uint64_t refused_connections() const;  // closed at accept, over max_connections

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace relaytap::metrics
