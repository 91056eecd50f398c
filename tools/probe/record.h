#pragma once
// `relaytap probe --db FILE`: each run's results as a row of the store's `probes` table, so that
// `relaytap report` can show which local checks were done and when. Only what the probe prints
// goes there: the URL with secret query values redacted, stage facts and ids, never the key.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "recorder/local_checks.h"
#include "tools/probe/probe.h"

namespace relaytap::tools::probe {

// One row per run (pure).
std::vector<recorder::LocalCheckRow> LocalCheckRowsOf(const ProbeUrl& url,
                                                      const std::vector<RunResult>& runs);

// Appends the runs to the store at `db_path` (created 0600 and migrated when needed).
absl::Status RecordRuns(const std::string& db_path, const ProbeUrl& url,
                        const std::vector<RunResult>& runs);

}  // namespace relaytap::tools::probe
