#pragma once
// The local checks an operator ran (`relaytap probe --db`), appended to a store so that `report`
// can say which checks were done and when. Written by the command itself, not by the recorder's
// writer thread: the file is opened like the proxy opens it (created 0600, migrated), and a
// proxy writing it at the same time is waited for (SQLite's busy timeout).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace relaytap::recorder {

// The User-Agent of every request `relaytap probe` sends. Through relaytap its https stage, a
// `GET /` on the host that only shows the path answers (Azure's answer is a 404), is recorded
// like any exchange; the store classifies it as the probe does (IsProbeTransportCheck).
inline constexpr std::string_view kProbeUserAgent = "relaytap-probe";

struct LocalCheckRow {
  int64_t run_us = 0;  // when the run started, UTC microseconds
  std::string tool;    // "probe"
  std::string url;     // already without secrets (query values "<redacted>", no userinfo)
  std::string host;
  bool ok = false;
  std::string failed_stage;  // empty when ok
  int64_t ms = 0;
  std::string stages;  // compact JSON: [{"name","status","ms","detail","error"}], no secrets
  std::string session_id, response_id, apim_request_id;  // empty: none seen
};

// Opens (creating and migrating) the store at `path` and appends `rows` in one transaction.
absl::Status AppendLocalChecks(const std::string& path, const std::vector<LocalCheckRow>& rows);

}  // namespace relaytap::recorder
