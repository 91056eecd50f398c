#include "tools/report/calls_section.h"

#include <string>
#include <vector>

#include "base/str_cat.h"
#include "tools/report/svg_charts.h"
#include "tools/report/text.h"

namespace relaytap::tools::report {
namespace {

using json = nlohmann::ordered_json;
using recorder::query::Call;

constexpr const char* kCannotSee =
    "relaytap sees a call's HTTPS set-up only (the SDP offer and answer, the token); media, ICE "
    "connectivity and DTLS go over UDP past it: see the browser's chrome://webrtc-internals "
    "dump for those.";

constexpr const char* kColumns[] = {"time (UTC)",
                                    "local",
                                    "endpoint",
                                    "deployment",
                                    "outcome",
                                    "status",
                                    "error",
                                    "message",
                                    "call id",
                                    "apim-request-id",
                                    "x-request-id",
                                    "answer ms",
                                    "token expired before",
                                    "sideband"};

std::string Expired(const Call& c) {
  if (!c.token_expired_before_call) return "-";
  return *c.token_expired_before_call ? "yes" : "no";
}

// A call's cells in kColumns order, unescaped.
std::vector<std::string> Cells(const Call& c, const absl::TimeZone& zone) {
  return {Utc(c.start_us), Local(c.start_us, zone),
          c.endpoint,      c.deployment,
          c.outcome,       c.status ? std::to_string(c.status) : "",
          c.error_code,    c.error_message,
          c.call_id,       c.apim_request_id,
          c.x_request_id,  c.answer_ms ? Fixed(*c.answer_ms, 1) : "",
          Expired(c),      std::to_string(c.sideband_sessions)};
}

}  // namespace

void AddCallFindings(Report& r) {
  int64_t expired = 0, expired_before = 0;
  for (const Call& c : r.calls) {
    if (c.outcome == "token_expired") ++expired;
    if (c.token_expired_before_call.value_or(false)) ++expired_before;
  }
  if (expired == 0) return;
  r.findings.push_back(
      {"webrtc_token_expired",
       "WebRTC calls were refused because their ephemeral token had expired: mint the token "
       "(client_secrets) just before the call, or ask for a longer expires_after.",
       StrCat(expired, " of ", r.calls.size(), " call set-ups ended token_expired; ",
              expired_before, " used a token whose recorded expires_at had already passed")});
}

json CallsJson(const Report& r, const absl::TimeZone& zone) {
  const stats::CallCounts& n = r.call_counts;
  json j;
  j["calls"] = n.calls;
  j["failed"] = n.failed;
  j["by_outcome"] = n.by_outcome;
  j["token_expired_before_call"] = n.token_expired_before_call;
  j["with_sideband"] = n.with_sideband;
  j["set_ups"] = json::array();
  for (const Call& c : r.calls) {
    j["set_ups"].push_back(
        {{"time_utc", Utc(c.start_us)},
         {"time_local", Local(c.start_us, zone)},
         {"endpoint", c.endpoint},
         {"host", c.host},
         {"deployment", c.deployment},
         {"outcome", c.outcome},
         {"status", c.status ? json(c.status) : json()},
         {"error_code", c.error_code},
         {"message", c.error_message},
         {"call_id", c.call_id},
         {"apim_request_id", c.apim_request_id},
         {"x_request_id", c.x_request_id},
         {"region", c.region},
         {"answer_ms", c.answer_ms ? json(*c.answer_ms) : json()},
         {"token_expired_before_call",
          c.token_expired_before_call ? json(*c.token_expired_before_call) : json()},
         {"sideband_sessions", c.sideband_sessions}});
  }
  return j;
}

std::string CallsMarkdown(const Report& r, const absl::TimeZone& zone) {
  if (r.calls.empty()) return "";
  std::string md = StrCat("\n## WebRTC calls (", r.calls.size(), ")\n\n", kCannotSee, "\n\n|");
  std::string rule = "|";
  for (const char* c : kColumns) {
    md += StrCat(" ", c, " |");
    rule += "---|";
  }
  md += StrCat("\n", rule, "\n");
  for (const Call& c : r.calls) {
    md += "|";
    for (const std::string& cell : Cells(c, zone)) md += StrCat(" ", Cell(cell), " |");
    md += "\n";
  }
  return md;
}

std::string CallsHtml(const Report& r, const absl::TimeZone& zone) {
  if (r.calls.empty()) return "";
  std::string h =
      StrCat("<section id=\"calls\">\n<h2>WebRTC calls (", r.calls.size(), ")</h2>\n<p>",
             EscapeHtml(kCannotSee), "</p>\n<div class=\"scroll\"><table>\n<tr>");
  for (const char* c : kColumns) h += StrCat("<th>", EscapeHtml(c), "</th>");
  h += "</tr>\n";
  for (const Call& c : r.calls) {
    h += "<tr>";
    for (const std::string& cell : Cells(c, zone)) {
      h += StrCat("<td>", cell.empty() ? "-" : EscapeHtml(cell), "</td>");
    }
    h += "</tr>\n";
  }
  return h + "</table></div>\n</section>\n";
}

}  // namespace relaytap::tools::report
