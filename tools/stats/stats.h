#pragma once
// `relaytap stats`: the store's attempts counted per bucket (an hour, a minute, a deployment, a
// region, ...) and in total, with the same definitions in every output format:
//   sessions   realtime WebSocket attempts: every upgrade request, answered 101 or not,
//              including guard rejections;
//   exchanges  the other HTTP exchanges;
//   failures   sessions and exchanges whose outcome is not `ok`;
//   retries    attempts the retry guard judged a retry, or that carried a non-zero
//              x-stainless-retry-count;
//   latency    p50/p90/p99 in milliseconds of the upgrade (request -> response head), time to
//              session.created, response.create -> first audio/text delta, and duration;
//   tokens     the sum of response.done usage.total_tokens.
// Pure: rows in, text out; the command (tools/stats_command.cc) reads the rows from the store.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recorder/query/store_reader.h"

namespace relaytap::tools::stats {

enum class GroupBy {
  kHour,
  kMinute,
  kDeployment,
  kRegion,
  kHost,
  kApiVersion,
  kUserAgent,
  kOutcome,
  kMachine  // the machine that recorded the attempt (several --db, one store per host)
};
absl::StatusOr<GroupBy> ParseGroupBy(std::string_view name);
std::string_view GroupByName(GroupBy g);

// How a machine is named in every answer: its hostname, "(unknown)" when the run recorded none.
std::string MachineLabel(const std::string& machine);

// Percentiles of one latency (nearest rank); absent when no attempt had the measure.
struct Percentiles {
  int64_t count = 0;
  std::optional<double> p50, p90, p99;
};

// Nearest-rank p50/p90/p99 of `values` (sorted in place); also what `relaytap diff` compares.
Percentiles Summarize(std::vector<double>& values);

struct Bucket {
  std::string key;  // the bucket's label ("total" for the totals)
  // With attempts from more than one machine, every row is one machine's part of its bucket
  // (except under --by machine, where the machine is the key); "" otherwise and in the totals.
  std::string machine;
  int64_t sessions = 0;
  int64_t exchanges = 0;
  int64_t failures = 0;
  std::map<std::string, int64_t> by_outcome;  // outcome class -> attempts
  int64_t retries = 0;
  int64_t status_429 = 0;
  Percentiles upgrade_ms, session_created_ms, first_delta_ms, duration_ms;
  int64_t bytes = 0;
  int64_t tokens = 0;

  int64_t attempts() const { return sessions + exchanges; }
  double failure_pct() const;
};

// WebRTC call set-ups (recorder/call_facts.h), counted beside the attempts (each set-up is also
// one of the exchanges above): by outcome, with the answer latency, how many used a token that had
// expired before the call, and how many a sideband WebSocket joined.
struct CallCounts {
  int64_t calls = 0;
  int64_t failed = 0;  // outcome not `answered`
  int64_t token_expired_before_call = 0;
  int64_t with_sideband = 0;
  std::map<std::string, int64_t> by_outcome;
  Percentiles answer_ms;
};
CallCounts CountCalls(const std::vector<recorder::query::Call>& calls);
// "calls: 3 (answered 1, server_error 1, token_expired 1), answer p50/p99 12.0 / 20.0 ms, ..."
std::string CallsLine(const CallCounts& c);

struct Stats {
  GroupBy by = GroupBy::kHour;
  std::string zone;  // the zone time buckets are labelled in
  Bucket totals;
  std::vector<Bucket> rows;  // in time order for hour/minute, else by attempts (most first)
  std::vector<std::string> machines;  // the machines the attempts came from, sorted
  bool split_machines = true;
  bool per_machine() const {
    return split_machines && machines.size() > 1 && by != GroupBy::kMachine;
  }
  CallCounts calls;  // filled by the caller (Compute sees attempts only)
};

// Buckets `attempts`. Time buckets are labelled in `zone` (e.g. "2025-07-15T10:00+02:00").
// With `split_machines`, rows are split per machine when the attempts come from several.
Stats Compute(const std::vector<recorder::query::Attempt>& attempts, GroupBy by,
              const absl::TimeZone& zone, bool split_machines = true);

std::string FormatJson(const Stats& s);
std::string FormatCsv(const Stats& s);
std::string FormatTable(const Stats& s);

}  // namespace relaytap::tools::stats
