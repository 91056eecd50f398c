#pragma once
// The WebRTC calls part of `relaytap report` (recorder/call_facts.h): a summary line, a table of
// every call set-up with what Support asks for (time, deployment, outcome, status, error, call id,
// request ids) and whether its token had expired before the call, and the findings calls support.
// relaytap sees only the HTTPS set-up of a call: the report says so beside the table.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tools/report/report.h"

namespace relaytap::tools::report {

// Findings about calls, appended to r.findings (pure: reads r.calls).
void AddCallFindings(Report& r);

// The "calls" member of the JSON report.
nlohmann::ordered_json CallsJson(const Report& r, const absl::TimeZone& zone);

// The "## WebRTC calls" section ("" when the window has none).
std::string CallsMarkdown(const Report& r, const absl::TimeZone& zone);

// The same section in the HTML page: every value escaped ("" when the window has none).
std::string CallsHtml(const Report& r, const absl::TimeZone& zone);

}  // namespace relaytap::tools::report
