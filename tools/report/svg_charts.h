#pragma once
// The HTML report's charts as inline SVG, drawn here so the page needs no script: attempts and
// failures per hour, a histogram of the upgrade latency, and the events before a realtime
// session's failure on a time axis. Each chart is one <svg> with an id, a <title> and one element
// of class "mark" per data point. Every string from the store is escaped. Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recorder/query/store_reader.h"
#include "tools/stats/stats.h"

namespace relaytap::tools::report {

// `s` made safe for HTML text and for quoted attribute values: & < > " ' become references and
// control characters other than tab and line breaks become U+FFFD.
std::string EscapeHtml(std::string_view s);

// id="chart-attempts": one pair of bars (attempts, failures) per row of `per_hour`.
std::string AttemptsPerHourSvg(const stats::Stats& per_hour);

// The upper bounds (ms) of the latency histogram's buckets; one more bucket holds the rest.
inline constexpr double kLatencyBucketsMs[] = {10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};

// How many of `values` fall in each bucket of kLatencyBucketsMs (the last: at or above the last
// bound).
std::vector<int64_t> LatencyHistogram(const std::vector<double>& values);

// id="chart-latency": the histogram of `upgrade_ms`; says "no data" when it is empty.
std::string LatencyHistogramSvg(const std::vector<double>& upgrade_ms);

// id="timeline-<n>": `f`'s events before the failure on a time axis (ms since the session
// opened), the app's events on one lane and Azure's on another; the last event, the one at the
// failure, is marked.
std::string FailureTimelineSvg(const recorder::query::Failure& f, int n);

}  // namespace relaytap::tools::report
