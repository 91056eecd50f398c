// `relaytap export --har FILE`: the store as HAR 1.2 for Chrome DevTools and other HAR viewers.
// `relaytap export --sqlite OUT`: a smaller store holding a time window, to share.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "base/private_file.h"
#include "base/str_cat.h"
#include "recorder/query/store_reader.h"
#include "recorder/store_edit.h"
#include "tools/commands.h"
#include "tools/har/har.h"
#include "tools/stats/time_flags.h"
#include "tools/store_flags.h"

namespace relaytap::tools {
namespace {

struct ExportFlags {
  StoreFlags store;
  std::string har;
  std::string sqlite;
  bool force = false;
};

int ExportSqlite(const ExportFlags& f, const recorder::query::TimeWindow& window) {
  absl::Status st = recorder::ExportWindow(f.store.dbs.front(), f.sqlite, window.since_us,
                                           window.until_us, f.force);
  if (!st.ok()) return Fail("export", st, ExitCodeFor(st));
  std::error_code ec;
  std::cerr << "relaytap export: wrote " << f.sqlite << " ("
            << std::filesystem::file_size(f.sqlite, ec) << " bytes)\n";
  return 0;
}

int RunExport(const ExportFlags& f) {
  auto fail = [](const absl::Status& st, int code) { return Fail("export", st, code); };
  absl::StatusOr<recorder::query::TimeWindow> window =
      stats::ParseWindow(f.store.since, f.store.until, absl::Now());
  if (!window.ok()) return fail(window.status(), kUsageError);
  if (f.har.empty() == f.sqlite.empty()) {
    return fail(absl::InvalidArgumentError("give --har FILE (or -) or --sqlite OUT"), kUsageError);
  }
  if (!f.sqlite.empty()) return ExportSqlite(f, *window);
  absl::StatusOr<std::unique_ptr<recorder::query::StoreReader>> reader =
      recorder::query::StoreReader::Open(f.store.dbs.front());
  if (!reader.ok()) return fail(reader.status(), ExitCodeFor(reader.status()));
  if (f.har == "-") {
    absl::Status st =
        har::WriteHar(**reader, *window, std::string(RELAYTAP_VERSION), [](std::string_view piece) {
          std::cout.write(piece.data(), std::ssize(piece));
          return static_cast<bool>(std::cout);
        });
    return st.ok() ? 0 : fail(st, 1);
  }
  // Streamed into FILE.partial and renamed when complete: an export that fails half-way (a full
  // disk) never leaves a truncated HAR under the name asked for, nor destroys an earlier one.
  const std::string partial = f.har + ".partial";
  if (absl::Status st = MakePrivateFile(partial, /*truncate=*/true); !st.ok()) return fail(st, 1);
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return fail(absl::UnavailableError(StrCat("cannot create ", partial)), 1);
  absl::Status st = har::WriteHar(**reader, *window, std::string(RELAYTAP_VERSION),
                                  [&out](std::string_view piece) {
                                    out.write(piece.data(), std::ssize(piece));
                                    return static_cast<bool>(out);
                                  });
  out.close();
  std::error_code ec;
  if (st.ok() && !out) st = absl::UnavailableError(StrCat("cannot write ", partial));
  if (st.ok()) std::filesystem::rename(partial, f.har, ec);
  if (st.ok() && ec) st = absl::UnavailableError(StrCat("cannot rename ", partial, " to ", f.har));
  if (!st.ok()) {
    std::filesystem::remove(partial, ec);
    return fail(st, 1);
  }
  std::cerr << "relaytap export: wrote " << f.har << "\n";
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write a relaytap store as HAR 1.2 (Chrome DevTools' format, WebSocket messages included), "
      "or a time window of it as a smaller store to share; reads the store only, redacted as "
      "stored");
  CLI::Option* har = cmd->add_option("--har", flags->har, "the HAR file to write (- for stdout)");
  CLI::Option* sqlite = cmd->add_option(
      "--sqlite", flags->sqlite,
      "write a relaytap store holding only --since..--until (runs, sessions with their events, "
      "exchanges, connections, guard decisions, gaps) to this file (0600)");
  har->excludes(sqlite);
  cmd->add_flag("--force", flags->force, "replace an existing --sqlite file");
  AddStoreFlags(cmd, flags->store, "exchanges", Stores::kOne);
  cmd->callback([flags, exit_code] { *exit_code = RunExport(*flags); });
}

}  // namespace relaytap::tools
