// `relaytap diff`: what differs between working and failing attempts, in one store or between two.
#include <iostream>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "base/str_cat.h"
#include "recorder/query/store_reader.h"
#include "tools/commands.h"
#include "tools/diff/diff.h"
#include "tools/stats/time_flags.h"
#include "tools/store_flags.h"

namespace relaytap::tools {
namespace {

struct DiffFlags {
  StoreFlags store;
  std::string against;
  std::string good, bad;
  std::string format = "table";
};

using recorder::query::Profile;

absl::StatusOr<std::vector<Profile>> Read(const std::vector<std::string>& paths,
                                          const recorder::query::TimeWindow& window) {
  absl::StatusOr<std::unique_ptr<recorder::query::StoreReader>> reader =
      recorder::query::StoreReader::Open(paths);
  if (!reader.ok()) return reader.status();
  return (*reader)->Profiles(window);
}

std::vector<Profile> Select(const std::vector<Profile>& all, const diff::Selector& s) {
  std::vector<Profile> out;
  for (const Profile& p : all) {
    if (s.Matches(p)) out.push_back(p);
  }
  return out;
}

int RunDiff(const DiffFlags& f) {
  auto fail = [](const absl::Status& st, int code) { return Fail("diff", st, code); };
  if (f.format != "table" && f.format != "json") {
    return fail(
        absl::InvalidArgumentError(StrCat("--format ", f.format, ": expected table or json")),
        kUsageError);
  }
  if (f.against.empty() && (f.good.empty() || f.bad.empty())) {
    return fail(absl::InvalidArgumentError(
                    "give --good and --bad selectors (e.g. --good outcome=ok --bad outcome!=ok), "
                    "or --against OTHER.db"),
                kUsageError);
  }
  absl::StatusOr<diff::Selector> good = diff::Selector::Parse(f.good);
  if (!good.ok()) return fail(good.status(), kUsageError);
  absl::StatusOr<diff::Selector> bad = diff::Selector::Parse(f.bad);
  if (!bad.ok()) return fail(bad.status(), kUsageError);
  absl::StatusOr<recorder::query::TimeWindow> window =
      stats::ParseWindow(f.store.since, f.store.until, absl::Now());
  if (!window.ok()) return fail(window.status(), kUsageError);

  absl::StatusOr<std::vector<Profile>> here = Read(f.store.dbs, *window);
  if (!here.ok()) return fail(here.status(), ExitCodeFor(here.status()));
  std::vector<Profile> good_side, bad_side;
  if (f.against.empty()) {
    good_side = Select(*here, *good);
    bad_side = Select(*here, *bad);
  } else {
    // Two stores (two hosts): --against is the working side, --db the failing one.
    absl::StatusOr<std::vector<Profile>> there = Read({f.against}, *window);
    if (!there.ok()) return fail(there.status(), ExitCodeFor(there.status()));
    good_side = Select(*there, *good);
    bad_side = Select(*here, *bad);
  }
  if (good_side.empty() || bad_side.empty()) {
    std::cerr << "relaytap diff: " << (good_side.empty() ? "the good" : "the bad")
              << " side selects no attempt; nothing to compare\n";
    return 1;
  }
  const diff::DiffResult r = diff::Compare(good_side, bad_side);
  std::cout << (f.format == "json" ? diff::FormatJson(r) : diff::FormatTable(r));
  return 0;
}

}  // namespace

void AddDiffCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* cmd = app.add_subcommand(
      "diff",
      "What differs between working and failing attempts (host, region, deployment, API "
      "version, dialect, auth kind, SDK, subprotocol, TLS, payload shapes, event sequence, "
      "timings), ranked by how well each field separates them; read-only");
  AddStoreFlags(cmd, flags->store, "attempts", Stores::kSeveral);
  cmd->add_option("--good", flags->good,
                  "the working attempts: field=value or field!=value terms joined by commas "
                  "(outcome, deployment, model, host, region, api_version, client, user_agent, "
                  "session), e.g. outcome=ok");
  cmd->add_option("--bad", flags->bad, "the failing attempts, e.g. outcome!=ok");
  cmd->add_option("--against", flags->against,
                  "compare two stores: OTHER.db is the working side, --db the failing one "
                  "(--good/--bad then filter each side)");
  cmd->add_option("--format", flags->format, "table or json")->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunDiff(*flags); });
}

}  // namespace relaytap::tools
