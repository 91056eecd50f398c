#pragma once
// `relaytap doctor --db FILE`: each runtime checked becomes a row of the store's probes table
// (tool "doctor RUNTIME"), beside `relaytap probe --db`'s runs, for `relaytap report`'s Local
// checks. Runtimes not found are left out.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "recorder/local_checks.h"
#include "tools/doctor/doctor.h"

namespace relaytap::tools::doctor {

// One row per runtime found (pure); `run_us`: when doctor started.
std::vector<recorder::LocalCheckRow> LocalCheckRowsOf(const DoctorReport& report, int64_t run_us);

absl::Status RecordDoctor(const std::string& db_path, const DoctorReport& report, int64_t run_us);

}  // namespace relaytap::tools::doctor
