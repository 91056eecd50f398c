#include "tools/report/html.h"

#include <vector>

#include "base/str_cat.h"
#include "tools/report/calls_section.h"
#include "tools/report/local_checks.h"
#include "tools/report/svg_charts.h"
#include "tools/report/text.h"
#include "tools/report/tls_roots.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::Failure;

// The page's only style; the CSP allows inline style and nothing else (no script, no fetch).
constexpr const char* kHead = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relaytap incident report</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
td.num { text-align: right; } .id { font-family: ui-monospace, monospace; }
.scroll { overflow-x: auto; max-width: 100%; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 0.5em 0 1em; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .tick-x, svg .caption, svg .no-data { text-anchor: middle; }
svg .tick-y, svg .lane, svg .failure-label { text-anchor: end; } svg .no-data { font-size: 16px; fill: #888; }
.grid { stroke: #e3e3e3; } .axis, .lane-line { stroke: #777; } .lane-line { stroke-dasharray: 2 3; }
.attempts { fill: #7f9cc6; } .failures { fill: #c0392b; } .latency { fill: #5a9a68; }
.client { fill: #2c6fbb; } .server { fill: #8e5bb5; } circle.failing { fill: #c0392b; stroke: #000; }
.failure-line { stroke: #c0392b; stroke-dasharray: 4 3; } svg .failure-label { fill: #c0392b; }
</style>
</head>
<body>
<h1>relaytap incident report</h1>
)";

// One table cell with an escaped value ("-" when empty).
std::string Td(const std::string& v, const char* cls = nullptr) {
  return StrCat(cls ? StrCat("<td class=\"", cls, "\">") : std::string("<td>"),
                v.empty() ? "-" : EscapeHtml(v), "</td>");
}

std::string Summary(const Report& r) {
  const stats::Bucket& t = r.per_hour.totals;
  std::string outcomes;
  for (const auto& [k, v] : t.by_outcome) {
    outcomes += StrCat(outcomes.empty() ? "" : ", ", k, " ", v);
  }
  std::string h = "<section id=\"summary\">\n<h2>Summary</h2>\n<ul>\n";
  h += StrCat("<li>Store: <span class=\"id\">", EscapeHtml(r.db), "</span></li>\n");
  h += StrCat("<li>Window: ", r.first_us ? Utc(r.first_us) : "-", " to ",
              r.last_us ? Utc(r.last_us) : "-", " (UTC; local times in ", EscapeHtml(r.zone),
              ")</li>\n");
  h += StrCat("<li>Attempts: ", t.sessions, " realtime sessions, ", t.exchanges,
              " other HTTP exchanges; ", t.failures, " failed (", Fixed(t.failure_pct(), 2),
              "%)</li>\n");
  h += StrCat("<li>Outcomes: ", EscapeHtml(outcomes.empty() ? "-" : outcomes), "</li>\n");
  h += StrCat("<li>Hosts affected: ", EscapeHtml(Joined(r.hosts_affected)), "</li>\n");
  h += StrCat("<li>Deployments affected: ", EscapeHtml(Joined(r.deployments_affected)), "</li>\n");
  h += StrCat("<li>Clients affected: ", EscapeHtml(Joined(r.clients_affected)), "</li>\n");
  if (!r.tls_roots.empty()) {
    h += StrCat("<li>Upstream TLS roots: ", EscapeHtml(TlsRootsLine(r.tls_roots)), "</li>\n");
  }
  if (r.several_machines()) {
    h += StrCat("<li>Machines: ", EscapeHtml(MachinesLine(r)), "</li>\n");
    h += StrCat("<li>Machines affected: ", EscapeHtml(Joined(r.machines_affected)), "</li>\n");
  }
  return h + "</ul>\n</section>\n";
}

std::string Findings(const Report& r) {
  std::string h = "<section id=\"findings\">\n<h2>Findings</h2>\n";
  if (r.findings.empty()) return h + "<p>None of the known patterns was found.</p>\n</section>\n";
  h += "<ul>\n";
  for (const Finding& f : r.findings) {
    h += StrCat("<li><strong class=\"id\">", EscapeHtml(f.id),
                "</strong>: ", EscapeHtml(f.statement), " Evidence: ", EscapeHtml(f.evidence),
                ".</li>\n");
  }
  return h + "</ul>\n</section>\n";
}

std::string OverTime(const Report& r) {
  std::string h = "<section id=\"over-time\">\n<h2>Attempts and failures per hour</h2>\n";
  h += AttemptsPerHourSvg(r.per_hour);
  h += "<table>\n<tr><th>hour</th><th>attempts</th><th>failures</th><th>failure %</th></tr>\n";
  for (const stats::Bucket& b : r.per_hour.rows) {
    h += StrCat("<tr>", Td(b.key), "<td class=\"num\">", b.attempts(), "</td><td class=\"num\">",
                b.failures, "</td><td class=\"num\">", Fixed(b.failure_pct(), 2), "</td></tr>\n");
  }
  h += "</table>\n<h2>Upgrade latency</h2>\n";
  const stats::Percentiles& p = r.per_hour.totals.upgrade_ms;
  h += LatencyHistogramSvg(r.upgrade_ms);
  if (p.count > 0 && p.p50 && p.p90 && p.p99) {
    h += StrCat("<p>", p.count, " attempts; p50 ", Fixed(*p.p50, 1), " ms, p90 ", Fixed(*p.p90, 1),
                " ms, p99 ", Fixed(*p.p99, 1), " ms.</p>\n");
  }
  return h + "</section>\n";
}

std::string FailureRow(const Failure& f, const absl::TimeZone& zone, bool machine_column) {
  const std::string error = f.error_type + (f.error_code.empty() ? "" : " / " + f.error_code);
  return StrCat("<tr>", machine_column ? Td(f.machine) : "", Td(Utc(f.at_us)),
                Td(Local(f.at_us, zone)), Td(f.kind), Td(f.host), Td(f.deployment),
                Td(f.api_version), Td(f.status ? StrCat(f.status) : ""),
                Td(f.close_code ? StrCat(*f.close_code) : ""), Td(f.outcome), Td(error),
                Td(f.message), Td(f.apim_request_id, "id"), Td(f.x_request_id, "id"), Td(f.region),
                Td(f.session_id, "id"), Td(f.response_id, "id"),
                Td(f.retry_count ? StrCat(*f.retry_count) : ""), Td(f.user_agent), "</tr>\n");
}

std::string Failures(const Report& r, const absl::TimeZone& zone) {
  std::string h = StrCat("<section id=\"failures\">\n<h2>Failures (", r.failures.size(),
                         ")</h2>\n<div class=\"scroll\"><table>\n<tr>");
  if (r.several_machines()) h += "<th>machine</th>";
  for (const char* c : {"time (UTC)", "local", "kind", "host", "deployment", "api-version",
                        "status", "close", "outcome", "error", "message", "apim-request-id",
                        "x-request-id", "region", "session", "response", "retry", "user agent"}) {
    h += StrCat("<th>", c, "</th>");
  }
  h += "</tr>\n";
  for (const Failure& f : r.failures) h += FailureRow(f, zone, r.several_machines());
  return h + "</table></div>\n</section>\n";
}

std::string Timelines(const Report& r) {
  std::string h;
  int n = 0;
  for (const Failure& f : r.failures) {
    if (!f.session_ref && f.events_before_failure.empty()) continue;  // not a realtime session
    if (n == 0) {
      h += "<section id=\"timelines\">\n<h2>Events before each realtime failure</h2>\n";
    }
    ++n;
    h += StrCat("<h3>", EscapeHtml(f.session_id.empty() ? "(no session id)" : f.session_id), " at ",
                Utc(f.at_us), " (", EscapeHtml(f.outcome), ")</h3>\n");
    h += FailureTimelineSvg(f, n);
    if (f.events_before_failure.empty()) continue;
    h += "<table>\n<tr><th>ms since open</th><th>direction</th><th>event</th></tr>\n";
    for (const auto& e : f.events_before_failure) {
      h += StrCat("<tr><td class=\"num\">", Fixed(e.rel_ms, 1), "</td><td>",
                  e.direction == "client" ? "app → Azure" : "Azure → app", "</td>",
                  Td(e.type, "id"), "</tr>\n");
    }
    h += "</table>\n";
  }
  return n == 0 ? h : h + "</section>\n";
}

}  // namespace

std::string FormatHtml(const Report& r, const absl::TimeZone& zone) {
  return StrCat(kHead, Summary(r), Findings(r), OverTime(r), Failures(r, zone), Timelines(r),
                CallsHtml(r, zone), LocalChecksHtml(r.local_checks), "</body>\n</html>\n");
}

}  // namespace relaytap::tools::report
