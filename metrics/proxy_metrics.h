#pragma once
// `relaytap proxy --metrics`: the listener serving the recorder's tally plus what is read live at
// scrape time (open connections, the recorder's queue and its gap counters).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "metrics/exposition.h"
#include "metrics/metrics_server.h"
#include "metrics/tally.h"
#include "recorder/recorder.h"

namespace relaytap::metrics {

// The live values from the recorder's existing counters.
Gauges RecorderGauges(const recorder::Recorder& rec, uint64_t open_connections);

// Serves `tally`, `rec` and `open_connections()` (called on the metrics thread; must be
// thread-safe). All three must outlive the returned server.
absl::StatusOr<std::unique_ptr<MetricsServer>> ServeProxyMetrics(
    const std::string& host, uint16_t port, const Tally& tally, const recorder::Recorder& rec,
    std::function<uint64_t()> open_connections);

}  // namespace relaytap::metrics
