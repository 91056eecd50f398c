#pragma once
// Text for `relaytap replay --list` and `--print`: one line per entry / event, columns separated
// by two spaces, values already redacted. Pure.

#include <string>
#include <vector>

#include "tools/replay/recording.h"

namespace relaytap::tools::replay {

// "2026-12-01T23:04:05.123Z" for microseconds since the epoch (UTC).
std::string FormatUtc(int64_t unix_us);

// A header line, then per entry: kind, id, time, deployment, status, outcome, session id or
// method and path.
std::string FormatList(const std::vector<ListEntry>& entries);

// The upgrade, then per event: relative ms, direction (-> client to server, <- server to client),
// event type (or close/ping/pong), ids, size, audio, failures; then how the session ended.
std::string FormatTimeline(const RecordedSession& session);

}  // namespace relaytap::tools::replay
