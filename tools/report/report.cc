#include "tools/report/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "base/status_macros.h"
#include "base/str_cat.h"
#include "nlohmann/json.hpp"
#include "tools/report/calls_section.h"
#include "tools/report/local_checks.h"
#include "tools/report/text.h"
#include "tools/report/tls_roots.h"
#include "tools/report/token_finding.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::Attempt;
using recorder::query::Failure;
using json = nlohmann::ordered_json;

// The app's address without its port ("10.0.0.5:51234" -> "10.0.0.5", "[::1]:5000" -> "[::1]"):
// one client, however many connections it opened.
std::string ClientHost(const std::string& address) {
  if (!address.empty() && address[0] == '[') return address.substr(0, address.find(']') + 1);
  return address.substr(0, address.rfind(':'));
}

}  // namespace

absl::StatusOr<Report> BuildReport(recorder::query::StoreReader& reader,
                                   const recorder::query::TimeWindow& window,
                                   const absl::TimeZone& zone, const std::string& session_id) {
  Report r;
  r.db = reader.path();
  r.zone = zone.name();
  r.window = window;
  RELAYTAP_ASSIGN_OR_RETURN(std::vector<Attempt> attempts, reader.Attempts(window));
  RELAYTAP_ASSIGN_OR_RETURN(r.failures, reader.Failures(window, session_id));
  if (!session_id.empty()) attempts.clear();  // one session: its failures are the report
  if (!attempts.empty()) {
    r.first_us = attempts.front().start_us;
    r.last_us = attempts.back().start_us;
  }
  r.per_hour = stats::Compute(attempts, stats::GroupBy::kHour, zone, /*split_machines=*/false);
  r.per_machine = stats::Compute(attempts, stats::GroupBy::kMachine, zone);
  for (const Attempt& a : attempts) {
    if (a.upgrade_ms) r.upgrade_ms.push_back(*a.upgrade_ms);
  }
  std::set<std::string> hosts, clients, deployments, machines;
  for (const Attempt& a : attempts) {
    if (a.outcome == "ok") continue;
    hosts.insert(a.host);
    machines.insert(stats::MachineLabel(a.machine));
    if (!a.client.empty()) clients.insert(ClientHost(a.client));
    deployments.insert(a.deployment);
  }
  r.hosts_affected.assign(hosts.begin(), hosts.end());
  r.clients_affected.assign(clients.begin(), clients.end());
  r.deployments_affected.assign(deployments.begin(), deployments.end());
  r.machines_affected.assign(machines.begin(), machines.end());
  r.tls_roots = TlsRootsOf(attempts);
  for (Failure& f : r.failures) {
    if (!f.session_ref) continue;
    RELAYTAP_ASSIGN_OR_RETURN(f.events_before_failure,
                              reader.EventsBefore(*f.session_ref, f.at_us, kEventsBeforeFailure));
  }
  r.findings = FindingsOf(attempts, r.failures);
  if (session_id.empty()) {
    RELAYTAP_ASSIGN_OR_RETURN(r.calls, reader.Calls(window));
    r.call_counts = stats::CountCalls(r.calls);
    AddCallFindings(r);
  }
  RELAYTAP_ASSIGN_OR_RETURN(r.local_checks, reader.LocalChecks(window));
  RELAYTAP_ASSIGN_OR_RETURN(const auto kinds, reader.AudioFingerprints());
  if (std::optional<Finding> f = AudioFingerprintsFinding(kinds)) r.findings.push_back(*f);
  return r;
}

std::optional<Finding> AudioFingerprintsFinding(
    const recorder::query::StoreReader::AudioFingerprintKinds& kinds) {
  if (kinds.hmac_runs == 0 || kinds.siphash_runs == 0) return std::nullopt;
  return Finding{"audio_fingerprints_mixed",
                 "This store holds audio fingerprinted two ways (relaytap changed its audio "
                 "fingerprint from HMAC-SHA-256 to SipHash-2-4): compare audio fingerprints only "
                 "between runs of one kind; an hmac: and a siphash: fingerprint never match, "
                 "even for the same audio",
                 StrCat(kinds.hmac_runs, " audio runs with hmac: fingerprints, ",
                        kinds.siphash_runs, " with siphash: ones")};
}

namespace {

// The JSON summary: window, totals, hourly rate, who is affected, TLS roots, findings.
json SummaryJson(const Report& r) {
  json summary;
  summary["db"] = r.db;
  summary["zone"] = r.zone;
  summary["window"] = {{"since", r.window.since_us ? json(Utc(*r.window.since_us)) : json()},
                       {"until", r.window.until_us ? json(Utc(*r.window.until_us)) : json()},
                       {"first_attempt", r.first_us ? json(Utc(r.first_us)) : json()},
                       {"last_attempt", r.last_us ? json(Utc(r.last_us)) : json()}};
  const stats::Bucket& t = r.per_hour.totals;
  summary["totals"] = {{"sessions", t.sessions},
                       {"exchanges", t.exchanges},
                       {"failures", t.failures},
                       {"failure_pct", std::round(t.failure_pct() * 100) / 100}};
  summary["by_outcome"] = json::object();
  for (const auto& [k, v] : t.by_outcome) summary["by_outcome"][k] = v;
  summary["failure_rate_over_time"] = json::array();
  for (const stats::Bucket& b : r.per_hour.rows) {
    summary["failure_rate_over_time"].push_back(
        {{"hour", b.key},
         {"attempts", b.attempts()},
         {"failures", b.failures},
         {"failure_pct", std::round(b.failure_pct() * 100) / 100}});
  }
  summary["hosts_affected"] = r.hosts_affected;
  summary["clients_affected"] = r.clients_affected;
  summary["deployments_affected"] = r.deployments_affected;
  summary["machines"] = json::array();
  for (const stats::Bucket& b : r.per_machine.rows) {
    summary["machines"].push_back({{"machine", b.key},
                                   {"attempts", b.attempts()},
                                   {"failures", b.failures},
                                   {"failure_pct", std::round(b.failure_pct() * 100) / 100}});
  }
  summary["machines_affected"] = r.machines_affected;
  summary["upstream_tls_roots"] = json::array();
  for (const TlsRoot& root : r.tls_roots) {
    summary["upstream_tls_roots"].push_back(
        {{"host", root.host}, {"root", root.root}, {"attempts", root.attempts}});
  }
  summary["findings"] = json::array();
  for (const Finding& f : r.findings) {
    summary["findings"].push_back(
        {{"id", f.id}, {"statement", f.statement}, {"evidence", f.evidence}});
  }
  return summary;
}

// One failure with its correlation ids and the events before it.
json FailureJson(const Failure& f, const absl::TimeZone& zone) {
  json x;
  x["kind"] = f.kind;
  x["time_utc"] = Utc(f.at_us);
  x["time_local"] = Local(f.at_us, zone);
  x["host"] = f.host;
  x["resource"] = f.resource;
  x["deployment"] = f.deployment;
  x["model"] = f.model;
  x["api_version"] = f.api_version;
  x["transport"] = f.transport;
  x["status"] = f.status ? json(f.status) : json();
  x["close_code"] = f.close_code ? json(*f.close_code) : json();
  x["outcome"] = f.outcome;
  x["error_type"] = f.error_type;
  x["error_code"] = f.error_code;
  x["message"] = f.message;
  x["apim_request_id"] = f.apim_request_id;
  x["x_request_id"] = f.x_request_id;
  x["region"] = f.region;
  x["session_id"] = f.session_id;
  x["response_id"] = f.response_id;
  x["retry_count"] = f.retry_count ? json(*f.retry_count) : json();
  x["user_agent"] = f.user_agent;
  x["machine"] = f.machine;
  x["answered_by_relaytap"] = f.local;
  x["events_before_failure"] = json::array();
  for (const auto& e : f.events_before_failure) {
    x["events_before_failure"].push_back({{"rel_ms", std::round(e.rel_ms * 1000) / 1000},
                                          {"direction", e.direction},
                                          {"type", e.type}});
  }
  return x;
}

}  // namespace

std::string FormatJson(const Report& r, const absl::TimeZone& zone) {
  json j;
  j["summary"] = SummaryJson(r);
  j["failures"] = json::array();
  for (const Failure& f : r.failures) j["failures"].push_back(FailureJson(f, zone));
  j["calls"] = CallsJson(r, zone);
  if (!r.local_checks.empty()) j["local_checks"] = LocalChecksJson(r.local_checks);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string MachinesLine(const Report& r) {
  std::string out;
  for (const stats::Bucket& b : r.per_machine.rows) {
    out += StrCat(out.empty() ? "" : ", ", b.key, " (", b.attempts(), " attempts, ", b.failures,
                  " failed, ", Fixed(b.failure_pct(), 2), "%)");
  }
  return out;
}

namespace {

// The summary lines under the title: store, window, totals, outcomes, who is affected.
std::string SummaryMarkdown(const Report& r) {
  const stats::Bucket& t = r.per_hour.totals;
  std::string md;
  md += StrCat("- Store: `", r.db, "`\n");
  md += StrCat("- Window: ", r.first_us ? Utc(r.first_us) : "-", " to ",
               r.last_us ? Utc(r.last_us) : "-", " (UTC; local times in ", r.zone, ")\n");
  md +=
      StrCat("- Attempts: ", t.sessions, " realtime sessions, ", t.exchanges,
             " other HTTP exchanges; ", t.failures, " failed (", Fixed(t.failure_pct(), 2), "%)\n");
  std::string outcomes;
  for (const auto& [k, v] : t.by_outcome)
    outcomes += StrCat(outcomes.empty() ? "" : ", ", k, " ", v);
  md += StrCat("- Outcomes: ", outcomes.empty() ? "-" : outcomes, "\n");
  if (r.call_counts.calls > 0) md += StrCat("- ", stats::CallsLine(r.call_counts), "\n");
  md += StrCat("- Hosts affected: ", Joined(r.hosts_affected), "\n");
  md += StrCat("- Deployments affected: ", Joined(r.deployments_affected), "\n");
  md += StrCat("- Clients affected: ", Joined(r.clients_affected), "\n");
  if (!r.tls_roots.empty()) md += StrCat("- Upstream TLS roots: ", TlsRootsLine(r.tls_roots), "\n");
  if (r.several_machines()) {
    md += StrCat("- Machines: ", MachinesLine(r), "\n");
    md += StrCat("- Machines affected: ", Joined(r.machines_affected), "\n");
  }
  return md;
}

// The findings, then the hourly failure rate.
std::string FindingsMarkdown(const Report& r) {
  std::string md;
  md += "## Findings\n\n";
  if (r.findings.empty()) md += "None of the known patterns was found.\n";
  for (const Finding& f : r.findings) {
    md += StrCat("- **", f.id, "**: ", f.statement, " Evidence: ", f.evidence, ".\n");
  }
  md +=
      "\n## Failure rate per hour\n\n| hour | attempts | failures | failure % "
      "|\n|---|---:|---:|---:|\n";
  for (const stats::Bucket& b : r.per_hour.rows) {
    md += StrCat("| ", b.key, " | ", b.attempts(), " | ", b.failures, " | ",
                 Fixed(b.failure_pct(), 2), " |\n");
  }
  return md;
}

// The failures table: one row per failure, with every id Support asks for.
std::string FailuresMarkdown(const Report& r, const absl::TimeZone& zone) {
  std::string md;
  md += StrCat("\n## Failures (", r.failures.size(), ")\n\n");
  const bool machine_column = r.several_machines();
  md += machine_column ? "| machine " : "";
  md +=
      "| time (UTC) | local | kind | host | deployment | api-version | status | close | outcome "
      "| error | message | apim-request-id | x-request-id | region | session | response | "
      "retry | user agent |\n";
  md += machine_column ? "|---" : "";
  md += "|---|---|---|---|---|---|---:|---:|---|---|---|---|---|---|---|---|---:|---|\n";
  for (const Failure& f : r.failures) {
    if (machine_column) md += StrCat("| ", Cell(f.machine), " ");
    md += StrCat("| ", Utc(f.at_us), " | ", Local(f.at_us, zone), " | ", f.kind, " | ",
                 Cell(f.host), " | ", Cell(f.deployment), " | ", Cell(f.api_version), " | ",
                 f.status ? std::to_string(f.status) : "-", " | ",
                 f.close_code ? std::to_string(*f.close_code) : "-", " | ", f.outcome, " | ",
                 Cell(f.error_type + (f.error_code.empty() ? "" : " / " + f.error_code)), " | ",
                 Cell(f.message), " | ", Cell(f.apim_request_id), " | ", Cell(f.x_request_id),
                 " | ", Cell(f.region), " | ", Cell(f.session_id), " | ", Cell(f.response_id),
                 " | ", f.retry_count ? std::to_string(*f.retry_count) : "-", " | ",
                 Cell(f.user_agent), " |\n");
  }
  return md;
}

// For each realtime failure, the events that came before it.
std::string EventsMarkdown(const Report& r) {
  std::string md;
  bool any_events = false;
  for (const Failure& f : r.failures) {
    if (f.events_before_failure.empty()) continue;
    if (!any_events) md += "\n## Events before each realtime failure\n";
    any_events = true;
    md += StrCat("\n### ", f.session_id.empty() ? "(no session id)" : f.session_id, " at ",
                 Utc(f.at_us), " (", f.outcome, ")\n\n```\n");
    for (const auto& e : f.events_before_failure) {
      md += StrCat(Fixed(e.rel_ms, 1), " ms  ",
                   e.direction == "client" ? "app -> azure" : "azure -> app", "  ", e.type, "\n");
    }
    md += "```\n";
  }
  return md;
}

}  // namespace

std::string FormatMarkdown(const Report& r, const absl::TimeZone& zone) {
  return StrCat("# relaytap incident report\n\n", SummaryMarkdown(r), "\n", FindingsMarkdown(r),
                FailuresMarkdown(r, zone), EventsMarkdown(r), CallsMarkdown(r, zone),
                LocalChecksMarkdown(r.local_checks));
}

}  // namespace relaytap::tools::report
