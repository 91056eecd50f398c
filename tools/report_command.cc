// `relaytap report`: the escalation package (Markdown for a support ticket, JSON, or one
// self-contained HTML page with charts) from the store.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "base/str_cat.h"
#include "recorder/query/store_reader.h"
#include "tools/commands.h"
#include "tools/report/html.h"
#include "tools/report/report.h"
#include "tools/stats/time_flags.h"
#include "tools/store_flags.h"

namespace relaytap::tools {
namespace {

struct ReportFlags {
  StoreFlags store;
  std::string tz, session;
  std::string format = "md";
  std::string out;
};

int RunReport(const ReportFlags& f) {
  auto fail = [](const absl::Status& st, int code) { return Fail("report", st, code); };
  if (f.format != "md" && f.format != "json" && f.format != "html") {
    return fail(
        absl::InvalidArgumentError(StrCat("--format ", f.format, ": expected md, json or html")),
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
  absl::StatusOr<report::Report> r = report::BuildReport(**reader, *window, *zone, f.session);
  if (!r.ok()) return fail(r.status(), 1);
  if (!f.session.empty() && r->failures.empty()) {
    std::cerr << "relaytap report: no failure recorded for session " << f.session << "\n";
  }
  const std::string text = f.format == "json"   ? report::FormatJson(*r, *zone)
                           : f.format == "html" ? report::FormatHtml(*r, *zone)
                                                : report::FormatMarkdown(*r, *zone);
  if (absl::Status st = WriteOutput(f.out, text); !st.ok()) return fail(st, 1);
  if (f.out.empty() || f.out == "-") return 0;
  std::cerr << "relaytap report: " << r->failures.size() << " failures written to " << f.out
            << "\n";
  return 0;
}

}  // namespace

void AddReportCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "The escalation package from a relaytap store: every failure with its request ids and the "
      "events before it, a summary and findings; read-only, safe while the proxy is writing it");
  AddStoreFlags(cmd, flags->store, "attempts", Stores::kSeveral);
  cmd->add_option("--format", flags->format,
                  "md (for a support ticket), json, or html (one self-contained page with charts)")
      ->capture_default_str();
  cmd->add_option("--out", flags->out, "write to this file instead of stdout");
  cmd->add_option("--session", flags->session, "only this realtime session's failures (sess_...)");
  cmd->add_option("--tz", flags->tz,
                  "time zone for local times (IANA name, UTC or +HH:MM); default: the zone the "
                  "store recorded");
  cmd->callback([flags, exit_code] { *exit_code = RunReport(*flags); });
}

}  // namespace relaytap::tools
