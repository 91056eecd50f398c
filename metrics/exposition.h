#pragma once
// The /metrics body: Prometheus text exposition format 0.0.4 (# HELP and # TYPE per family,
// counters with _total, histograms as cumulative _bucket{le=...}, _sum, _count). Pure.

#include <cstdint>
#include <string>

#include "metrics/tally.h"

namespace relaytap::metrics {

inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// What is read live at scrape time, besides the tally.
struct Gauges {
  uint64_t open_connections = 0;  // the proxy's accepted connections not yet closed
  uint64_t queue_bytes = 0;       // the recorder's queue
  // Observations the recorder could not keep, by reason (each is part of a gap row).
  uint64_t gap_queue_full = 0;
  uint64_t gap_write_failed = 0;
  uint64_t gap_paused = 0;
};

std::string RenderMetrics(const TallySnapshot& tally, const Gauges& gauges);

}  // namespace relaytap::metrics
