#pragma once
// How probe results are shown: JSON ({"url", "verdict", "failed_stage", "stages": [...]}, and
// with --repeat {"runs": [...], "summary": {"ok", "failed", "latency_ms": {...}}}), or a text
// checklist to paste into a ticket. Pure.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/probe/probe.h"

namespace relaytap::tools::probe {

// Keys in the documented order (url, verdict, failed_stage, ms, stages).
nlohmann::ordered_json RunJson(const RunResult& run);
// Runs passed / failed and the total time of the passing runs (min, p50, p95, max, mean).
nlohmann::ordered_json SummaryJson(const std::vector<RunResult>& runs);
// One run: the RunJson object. More: {"runs": [...], "summary": {...}}.
std::string FormatJson(const std::vector<RunResult>& runs);
// `stamp`: when the probe started (ISO 8601 UTC), printed in the header line.
std::string FormatText(const std::vector<RunResult>& runs, const std::string& stamp);

}  // namespace relaytap::tools::probe
