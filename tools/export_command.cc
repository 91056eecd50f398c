// `relaytap export --har FILE`: the store as HAR 1.2 for Chrome DevTools and other HAR viewers.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "base/str_cat.h"
#include "recorder/query/store_reader.h"
#include "tools/commands.h"
#include "tools/har/har.h"
#include "tools/stats/time_flags.h"
#include "tools/store_flags.h"

namespace relaytap::tools {
namespace {

constexpr int kUsageError = 2;

struct ExportFlags {
  StoreFlags store;
  std::string har;
};

int RunExport(const ExportFlags& f) {
  auto fail = [](const absl::Status& st, int code) { return Fail("export", st, code); };
  absl::StatusOr<recorder::query::TimeWindow> window =
      stats::ParseWindow(f.store.since, f.store.until, absl::Now());
  if (!window.ok()) return fail(window.status(), kUsageError);
  absl::StatusOr<std::unique_ptr<recorder::query::StoreReader>> reader =
      recorder::query::StoreReader::Open(f.store.db);
  if (!reader.ok()) return fail(reader.status(), ExitCodeFor(reader.status()));
  absl::StatusOr<std::string> har =
      har::ExportHar(**reader, *window, std::string(RELAYTAP_VERSION));
  if (!har.ok()) return fail(har.status(), 1);
  if (absl::Status st = WriteOutput(f.har, *har); !st.ok()) return fail(st, 1);
  if (f.har == "-") return 0;
  std::cerr << "relaytap export: wrote " << f.har << "\n";
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write a relaytap store as HAR 1.2 (Chrome DevTools' format, WebSocket messages included); "
      "read-only, redacted as stored");
  cmd->add_option("--har", flags->har, "the HAR file to write (- for stdout)")->required();
  AddStoreFlags(cmd, flags->store, "exchanges");
  cmd->callback([flags, exit_code] { *exit_code = RunExport(*flags); });
}

}  // namespace relaytap::tools
