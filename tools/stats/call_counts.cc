// CountCalls and CallsLine (stats.h): WebRTC call set-ups beside the attempts.
#include <cstdio>

#include "base/str_cat.h"
#include "tools/stats/stats.h"

namespace relaytap::tools::stats {
namespace {

std::string OneDecimal(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", *v);
  return buf;
}

}  // namespace

CallCounts CountCalls(const std::vector<recorder::query::Call>& calls) {
  CallCounts c;
  std::vector<double> answer_ms;
  for (const recorder::query::Call& call : calls) {
    ++c.calls;
    ++c.by_outcome[call.outcome];
    if (call.outcome != "answered") ++c.failed;
    if (call.token_expired_before_call.value_or(false)) ++c.token_expired_before_call;
    if (call.sideband_sessions > 0) ++c.with_sideband;
    if (call.answer_ms) answer_ms.push_back(*call.answer_ms);
  }
  c.answer_ms = Summarize(answer_ms);
  return c;
}

std::string CallsLine(const CallCounts& c) {
  std::string outcomes;
  for (const auto& [outcome, n] : c.by_outcome) {
    outcomes += StrCat(outcomes.empty() ? "" : ", ", outcome, " ", n);
  }
  return StrCat("calls (WebRTC set-ups): ", c.calls, " (", outcomes, "); answer p50/p99 ",
                OneDecimal(c.answer_ms.p50), " / ", OneDecimal(c.answer_ms.p99), " ms; ",
                c.token_expired_before_call, " with a token expired before the call; ",
                c.with_sideband, " joined by a sideband WebSocket");
}

}  // namespace relaytap::tools::stats
