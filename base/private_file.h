#pragma once
// Files that hold what relaytap recorded (the store and its -wal/-shm, reports and exports made
// from it) are the operator's alone: created 0600, whatever the umask, and an existing one left
// readable by others is tightened to it. The store holds client addresses, fingerprints and
// correlation ids; a report or an export holds the same.

#include <string>

#include "absl/status/status.h"

namespace relaytap {

// Creates `path` with mode 0600 if it does not exist (emptied when `truncate`), else removes
// the group and other bits of its mode. Errors name the path and the system's reason.
absl::Status MakePrivateFile(const std::string& path, bool truncate);

// Removes the group and other bits of `path`'s mode if it exists; nothing if it does not.
absl::Status TightenIfExists(const std::string& path);

}  // namespace relaytap
