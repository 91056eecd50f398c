// `relaytap prune`: deletes the recording runs that ended before a time, with every row that
// belongs to them, and gives the space back (VACUUM).
#include <iostream>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "base/str_cat.h"
#include "recorder/store_edit.h"
#include "tools/commands.h"
#include "tools/stats/time_flags.h"
#include "tools/store_flags.h"

namespace relaytap::tools {
namespace {

struct PruneFlags {
  std::string db = "relaytap.db";
  std::string before;
  bool dry_run = false;
};

int RunPrune(const PruneFlags& f) {
  absl::StatusOr<absl::Time> before = stats::ParseWhen(f.before, absl::Now());
  if (!before.ok()) {
    return Fail(
        "prune",
        absl::InvalidArgumentError(StrCat("--before: ", std::string(before.status().message()))),
        kUsageError);
  }
  absl::StatusOr<recorder::PruneCounts> c =
      recorder::PruneStore(f.db, absl::ToUnixMicros(*before), f.dry_run);
  if (!c.ok()) return Fail("prune", c.status(), ExitCodeFor(c.status()));
  std::cout << (f.dry_run ? "would delete" : "deleted") << " runs=" << c->runs
            << " sessions=" << c->sessions << " events=" << c->events
            << " exchanges=" << c->exchanges << " connections=" << c->connections
            << " guard_decisions=" << c->guard_decisions << " gaps=" << c->gaps << " (ended before "
            << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *before, absl::UTCTimeZone()) << ")\n"
            << "bytes before=" << c->bytes_before << " after=" << c->bytes_after << "\n";
  return 0;
}

}  // namespace

void AddPruneCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* cmd = app.add_subcommand(
      "prune",
      "Delete the recording runs that ended before a time and every row that belongs to them, "
      "then VACUUM; a run still recording, or one that ended at or after the time, is kept "
      "whole");
  cmd->add_option("--db", flags->db, "the relaytap store to prune (one file)")
      ->capture_default_str();
  cmd->add_option("--before", flags->before,
                  "delete runs that ended before this time: RFC 3339 or relative (-2h, -1d)")
      ->required();
  cmd->add_flag("--dry-run", flags->dry_run, "print what would be deleted; change nothing");
  cmd->footer(
      "Safe on a store a running proxy writes: its open run is never pruned, and prune waits at "
      "most 3 s for the write lock; if another writer holds it longer, prune changes nothing and "
      "exits 1.");
  cmd->callback([flags, exit_code] { *exit_code = RunPrune(*flags); });
}

}  // namespace relaytap::tools
