#pragma once
// `relaytap report --format html`: the report as one self-contained page to attach to a ticket
// or open offline. It carries what the Markdown format carries (summary, findings, every failure
// with its ids, the events before each realtime failure) plus inline SVG charts
// (tools/report/svg_charts.h). It needs nothing from outside: no script at all, no external
// style, font or image, and its Content-Security-Policy forbids any fetch. Every string from the
// store is HTML-escaped.

#include <string>

#include "absl/time/time.h"
#include "tools/report/report.h"

namespace relaytap::tools::report {

std::string FormatHtml(const Report& r, const absl::TimeZone& zone);

}  // namespace relaytap::tools::report
