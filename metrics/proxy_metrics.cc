#include "metrics/proxy_metrics.h"

namespace relaytap::metrics {

Gauges RecorderGauges(const recorder::Recorder& rec, uint64_t open_connections) {
  const recorder::RecorderStats st = rec.stats();
  Gauges g;
  g.open_connections = open_connections;
  g.queue_bytes = rec.queue_bytes();
  g.gap_queue_full = st.dropped;
  g.gap_paused = st.lost_while_paused;
  g.gap_write_failed =
      st.lost_in_failed_writes - std::min(st.lost_in_failed_writes, st.lost_while_paused);
  return g;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> ServeProxyMetrics(
    const std::string& host, uint16_t port, const Tally& tally, const recorder::Recorder& rec,
    std::function<uint64_t()> open_connections) {
  return MetricsServer::Start(host, port, [&tally, &rec, open = std::move(open_connections)] {
    return RenderMetrics(tally.Snapshot(), RecorderGauges(rec, open()));
  });
}

}  // namespace relaytap::metrics
