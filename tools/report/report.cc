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

struct Tally {
  int64_t attempts = 0, failures = 0;
  double pct() const { return attempts == 0 ? 0 : 100.0 * failures / attempts; }
};

// Attempts and failures per value of `key`.
template <typename Key>
std::map<std::string, Tally> TallyBy(const std::vector<Attempt>& attempts, Key key) {
  std::map<std::string, Tally> t;
  for (const Attempt& a : attempts) {
    Tally& x = t[key(a)];
    ++x.attempts;
    if (a.outcome != "ok") ++x.failures;
  }
  return t;
}

// All failures on one value of a field that other attempts had without failing.
void Confined(const std::vector<Attempt>& attempts, const char* id, const char* what,
              std::string (*key)(const Attempt&), std::vector<Finding>& out) {
  std::map<std::string, Tally> t = TallyBy(attempts, key);
  if (t.size() < 2) return;
  const std::string* failing = nullptr;
  int64_t failures = 0;
  for (const auto& [value, x] : t) {
    if (x.failures == 0) continue;
    if (failing != nullptr) return;  // failures on two values: not confined
    failing = &value;
    failures = x.failures;
  }
  if (failing == nullptr || failures < 3) return;
  std::string others;
  for (const auto& [value, x] : t) {
    if (&value == failing) continue;
    if (!others.empty()) others += ", ";
    others += StrCat(value.empty() ? "(none)" : value, " ", x.attempts, " attempts");
  }
  out.push_back({id,
                 StrCat("All failures are on ", what, " ", failing->empty() ? "(none)" : *failing,
                        "; the other ", what, "s did not fail."),
                 StrCat(*failing, ": ", failures, " of ", t[*failing].attempts,
                        " attempts failed; without failures: ", others)});
}

}  // namespace

std::vector<Finding> FindingsOf(const std::vector<Attempt>& attempts,
                                const std::vector<Failure>& failures) {
  std::vector<Finding> out;
  if (std::optional<Finding> f = TokenExpiredFinding(attempts)) out.push_back(std::move(*f));
  if (std::optional<Finding> f = TlsRootChangedFinding(TlsRootsOf(attempts))) {
    out.push_back(std::move(*f));
  }
  int64_t retries = 0, failed = 0;
  for (const Attempt& a : attempts) {
    if (a.guard_saw_retry || (a.retry_count && *a.retry_count > 0)) ++retries;
    if (a.outcome != "ok") ++failed;
  }
  if (retries >= 5 && retries >= failed) {
    out.push_back({"retry_storm",
                   "Clients are retrying hard: there are at least as many retries as failures, so "
                   "the retries add load without getting through.",
                   StrCat(retries, " retries and ", failed, " failures in ", attempts.size(),
                          " attempts (", Fixed(failed ? double(attempts.size()) / failed : 0, 1),
                          " attempts per failure)")});
  }

  std::map<std::string, Tally> hosts = TallyBy(attempts, [](const Attempt& a) { return a.host; });
  if (hosts.size() >= 2) {
    auto worst = std::max_element(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) {
      return a.second.pct() < b.second.pct();
    });
    bool others_work = true;
    for (const auto& [host, t] : hosts) {
      if (host != worst->first && t.pct() > 5.0) others_work = false;
    }
    if (others_work && worst->second.failures >= 3 && worst->second.pct() >= 20.0) {
      out.push_back({"one_host_failing",
                     StrCat("One host fails while the others work: ", worst->first, "."),
                     StrCat(worst->first, ": ", worst->second.failures, " of ",
                            worst->second.attempts, " attempts failed (",
                            Fixed(worst->second.pct(), 1), "%); every other host 5% or less")});
    }
  }
  Confined(
      attempts, "confined_to_deployment", "deployment",
      [](const Attempt& a) { return a.deployment; }, out);
  Confined(
      attempts, "confined_to_region", "region", [](const Attempt& a) { return a.region; }, out);

  std::map<std::string, int64_t> client_codes;
  int64_t client_side = 0;
  for (const Failure& f : failures) {
    if (f.outcome == "client_error_4xx" || f.error_type == "invalid_request_error") {
      ++client_side;
      ++client_codes[f.error_code.empty() ? StrCat("status ", f.status) : f.error_code];
    }
  }
  if (client_side > 0) {
    std::string codes;
    for (const auto& [code, n] : client_codes) {
      codes += StrCat(codes.empty() ? "" : ", ", code, " x", n);
    }
    out.push_back(
        {"client_side_errors",
         "Some failures point at the client's requests, not at Azure: check the "
         "request (parameters, session config, auth) before escalating these.",
         StrCat(client_side, " failures with a 4xx status or invalid_request_error: ", codes)});
  }

  int64_t ga_versioned = 0, preview_unversioned = 0;
  for (const Attempt& a : attempts) {
    if (a.path_kind == "ga_v1" && !a.api_version.empty()) ++ga_versioned;
    if (a.path_kind == "preview" && a.api_version.empty()) ++preview_unversioned;
  }
  if (ga_versioned > 0) {
    out.push_back({"ga_path_with_api_version",
                   "Requests on the GA path (/openai/v1/...) carry an api-version; the GA path "
                   "is versionless, so the client mixes the two dialects.",
                   StrCat(ga_versioned, " attempts")});
  }
  if (preview_unversioned > 0) {
    out.push_back({"preview_path_without_api_version",
                   "Requests on the preview path (/openai/realtime) carry no api-version, which "
                   "that path requires.",
                   StrCat(preview_unversioned, " attempts")});
  }

  int64_t no_id = 0;
  for (const Failure& f : failures) {
    if (!f.local && f.apim_request_id.empty() && f.x_request_id.empty()) ++no_id;
  }
  if (no_id > 0) {
    out.push_back({"failures_without_request_id",
                   "Some failures carry no request id (apim-request-id, x-request-id), so Azure "
                   "cannot look them up by id: give Support their time, region and deployment.",
                   StrCat(no_id, " of ", failures.size(), " failures")});
  }

  int64_t max_skew = 0;
  for (const Attempt& a : attempts) {
    if (a.clock_skew_ms && std::llabs(*a.clock_skew_ms) > std::llabs(max_skew)) {
      max_skew = *a.clock_skew_ms;
    }
  }
  if (std::llabs(max_skew) >= 5000) {
    out.push_back({"clock_skew",
                   "This machine's clock differs from Azure's (the Date header): token times "
                   "(nbf/exp) and the times in this report are off by about that much.",
                   StrCat("up to ", Fixed(std::fabs(max_skew / 1000.0), 1), " s; this clock is ",
                          max_skew > 0 ? "ahead of" : "behind", " Azure's Date")});
  }
  return out;
}

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

std::string FormatJson(const Report& r, const absl::TimeZone& zone) {
  json j;
  json& summary = j["summary"];
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
  j["failures"] = json::array();
  for (const Failure& f : r.failures) {
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
    j["failures"].push_back(std::move(x));
  }
  j["calls"] = CallsJson(r, zone);
  if (!r.local_checks.empty()) j["local_checks"] = LocalChecksJson(r.local_checks);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {}  // namespace

std::string MachinesLine(const Report& r) {
  std::string out;
  for (const stats::Bucket& b : r.per_machine.rows) {
    out += StrCat(out.empty() ? "" : ", ", b.key, " (", b.attempts(), " attempts, ", b.failures,
                  " failed, ", Fixed(b.failure_pct(), 2), "%)");
  }
  return out;
}

namespace {

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += StrCat(out.empty() ? "" : ", ", s.empty() ? "(none)" : s);
  return out.empty() ? "-" : out;
}

}  // namespace

std::string FormatMarkdown(const Report& r, const absl::TimeZone& zone) {
  const stats::Bucket& t = r.per_hour.totals;
  std::string md = "# relaytap incident report\n\n";
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
  md += "\n";

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
  md += CallsMarkdown(r, zone);
  return md + LocalChecksMarkdown(r.local_checks);
}

}  // namespace relaytap::tools::report
