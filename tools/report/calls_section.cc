#include "tools/report/calls_section.h"

#include "base/str_cat.h"
#include "tools/report/text.h"

namespace relaytap::tools::report {
namespace {

using json = nlohmann::ordered_json;
using recorder::query::Call;

std::string Expired(const Call& c) {
  if (!c.token_expired_before_call) return "-";
  return *c.token_expired_before_call ? "yes" : "no";
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
  std::string md = StrCat("\n## WebRTC calls (", r.calls.size(), ")\n\n");
  md +=
      "relaytap sees a call's HTTPS set-up only (the SDP offer and answer, the token); media, ICE "
      "connectivity and DTLS go over UDP past it: see the browser's chrome://webrtc-internals "
      "dump for those.\n\n";
  md +=
      "| time (UTC) | local | endpoint | deployment | outcome | status | error | message | call id "
      "| apim-request-id | x-request-id | answer ms | token expired before | sideband |\n";
  md += "|---|---|---|---|---|---:|---|---|---|---|---|---:|---|---:|\n";
  for (const Call& c : r.calls) {
    md += StrCat("| ", Utc(c.start_us), " | ", Local(c.start_us, zone), " | ", c.endpoint, " | ",
                 Cell(c.deployment), " | ", c.outcome, " | ",
                 c.status ? std::to_string(c.status) : "-", " | ", Cell(c.error_code), " | ",
                 Cell(c.error_message), " | ", Cell(c.call_id), " | ", Cell(c.apim_request_id),
                 " | ", Cell(c.x_request_id), " | ", c.answer_ms ? Fixed(*c.answer_ms, 1) : "-",
                 " | ", Expired(c), " | ", c.sideband_sessions, " |\n");
  }
  return md;
}

}  // namespace relaytap::tools::report
