#pragma once
// `relaytap report`: the escalation package for Azure Support, from the store. Every failure
// with the identifiers Support asks for and, for realtime sessions, the events that led up to
// it; a summary (window, outcomes, failure rate per hour, who and what was affected); and
// findings: plain statements a responder can act on, each with its evidence. Everything comes
// from the store, which holds only redacted data.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recorder/query/store_reader.h"
#include "tools/stats/stats.h"

namespace relaytap::tools::report {

struct Finding {
  std::string id;         // stable name, e.g. "retry_storm"
  std::string statement;  // what a responder reads
  std::string evidence;   // the numbers behind it
};

// How many attempts to an upstream host had their chain verified against one root.
struct TlsRoot {
  std::string host, root;
  int64_t attempts = 0;
};

struct Report {
  std::string db;
  std::string zone;  // local times are in this zone
  recorder::query::TimeWindow window;
  int64_t first_us = 0, last_us = 0;  // the first and last attempt in the window (0: none)
  stats::Stats per_hour;              // totals and the failure rate over time
  std::vector<double> upgrade_ms;     // each attempt's request -> response head, in ms
  std::vector<std::string> hosts_affected, clients_affected, deployments_affected;
  // The machines that recorded the attempts (one store per host, several --db): a bucket per
  // machine, only when there is more than one.
  stats::Stats per_machine;
  std::vector<std::string> machines_affected;
  std::vector<TlsRoot>
      tls_roots;  // the upstream chains' roots, per host (tools/report/tls_roots.h)
  bool several_machines() const { return per_machine.machines.size() > 1; }
  std::vector<recorder::query::Failure> failures;
  std::vector<Finding> findings;
  std::vector<recorder::query::Call> calls;  // WebRTC call set-ups (tools/report/calls_section.h)
  stats::CallCounts call_counts;
  std::vector<recorder::query::LocalCheck> local_checks;  // `relaytap probe --db` runs
};

// How many events before a realtime failure the report shows.
inline constexpr int kEventsBeforeFailure = 12;

// Reads the failures and attempts of `window` (only `session_id`'s when not empty).
absl::StatusOr<Report> BuildReport(recorder::query::StoreReader& reader,
                                   const recorder::query::TimeWindow& window,
                                   const absl::TimeZone& zone, const std::string& session_id);

// The findings the attempts and failures support (pure; order: most actionable first).
std::vector<Finding> FindingsOf(const std::vector<recorder::query::Attempt>& attempts,
                                const std::vector<recorder::query::Failure>& failures);

// `audio_fingerprints_mixed` when the store holds runs of audio with both kinds of fingerprint
// ("hmac:" from an older relaytap, "siphash:" since): they are never equal to each other, so
// equal audio shows as equal only within one kind. nullopt otherwise.
std::optional<Finding> AudioFingerprintsFinding(
    const recorder::query::StoreReader::AudioFingerprintKinds& kinds);

// "host-a (120 attempts, 3 failed, 2.50%), host-b (...)": one entry per machine.
std::string MachinesLine(const Report& r);

std::string FormatJson(const Report& r, const absl::TimeZone& zone);
std::string FormatMarkdown(const Report& r, const absl::TimeZone& zone);
// FormatHtml is in tools/report/html.h.

}  // namespace relaytap::tools::report
