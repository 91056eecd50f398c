// `relaytap stats`: attempts, failures, retries, latencies and tokens per hour (or minute,
// deployment, region, host, API version, user agent, outcome) straight from the store.
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/str_cat.h"
#include "recorder/query/store_reader.h"
#include "tools/commands.h"
#include "tools/stats/stats.h"
#include "tools/stats/time_flags.h"
#include "tools/store_flags.h"

namespace relaytap::tools {
namespace {

struct StatsFlags {
  StoreFlags store;
  std::string by = "hour";
  std::string format = "table";
  std::string tz;
};

int RunStats(const StatsFlags& f) {
  auto fail = [](const absl::Status& st, int code) { return Fail("stats", st, code); };
  absl::StatusOr<stats::GroupBy> by = stats::ParseGroupBy(f.by);
  if (!by.ok()) return fail(by.status(), kUsageError);
  if (f.format != "table" && f.format != "json" && f.format != "csv") {
    return fail(
        absl::InvalidArgumentError(StrCat("--format ", f.format, ": expected table, json or csv")),
        kUsageError);
  }
  absl::StatusOr<recorder::query::TimeWindow> window =
      stats::ParseWindow(f.store.since, f.store.until, absl::Now());
  if (!window.ok()) return fail(window.status(), kUsageError);
  absl::StatusOr<std::unique_ptr<recorder::query::StoreReader>> reader =
      recorder::query::StoreReader::Open(f.store.dbs);
  if (!reader.ok()) return fail(reader.status(), ExitCodeFor(reader.status()));
  absl::StatusOr<absl::TimeZone> zone = stats::ResolveZone(f.tz, **reader);
  if (!zone.ok()) return fail(zone.status(), kUsageError);
  absl::StatusOr<std::vector<recorder::query::Attempt>> attempts = (*reader)->Attempts(*window);
  if (!attempts.ok()) return fail(attempts.status(), 1);
  stats::Stats s = stats::Compute(*attempts, *by, *zone);
  absl::StatusOr<std::vector<recorder::query::Call>> calls = (*reader)->Calls(*window);
  if (!calls.ok()) return fail(calls.status(), 1);
  s.calls = stats::CountCalls(*calls);
  if (f.format == "json") {
    std::cout << stats::FormatJson(s);
  } else if (f.format == "csv") {
    std::cout << stats::FormatCsv(s);
  } else {
    if (attempts->empty()) std::cerr << "relaytap stats: no attempts recorded in the window\n";
    std::cout << stats::FormatTable(s);
  }
  return 0;
}

}  // namespace

void AddStatsCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "stats",
      "Count attempts, failures, retries, latencies and tokens per hour (or other bucket) from "
      "a relaytap store; read-only, safe while the proxy is writing it");
  AddStoreFlags(cmd, flags->store, "attempts", Stores::kSeveral);
  cmd->add_option("--by", flags->by,
                  "bucket: hour, minute, deployment, region, host, api-version, user-agent, "
                  "outcome, machine (the host that recorded it)")
      ->capture_default_str();
  cmd->add_option("--format", flags->format, "table, json or csv")->capture_default_str();
  cmd->add_option("--tz", flags->tz,
                  "time zone for hour/minute buckets (IANA name, UTC or +HH:MM); default: the "
                  "zone the store recorded");
  cmd->footer(
      "Definitions (the same in every format): sessions = realtime WebSocket attempts (every "
      "upgrade request, answered 101 or not, including guard rejections); exchanges = the other "
      "HTTP exchanges; failures = sessions and exchanges whose outcome is not ok; retries = "
      "attempts the retry guard judged a retry or that carried x-stainless-retry-count > 0; "
      "calls = WebRTC call set-ups (POST .../realtime/calls, .../v1/realtimertc) by outcome, also "
      "counted among the exchanges.");
  cmd->callback([flags, exit_code] { *exit_code = RunStats(*flags); });
}

}  // namespace relaytap::tools
