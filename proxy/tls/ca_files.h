#pragma once
// File handling for the CA directory: reads, exclusive creation with a mode, the key's
// permission check, and setting a CA's files aside as *.previous before a re-issue.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace relaytap::proxy::tls {

inline constexpr std::string_view kPreviousSuffix = ".previous";

absl::StatusOr<std::string> ReadWholeFile(const std::filesystem::path& path);

// Creates `path` exclusively with `mode` (no window with looser permissions) and writes `data`.
absl::Status WriteNewFile(const std::filesystem::path& path, std::string_view data, mode_t mode);

// FailedPrecondition (naming the fix) when group or others can access the key.
absl::Status CheckKeyFilePermissions(const std::filesystem::path& key_path);

// Renames `cert` and `key` to `<name>.previous`, replacing older ones.
absl::Status SetAsidePrevious(const std::filesystem::path& cert, const std::filesystem::path& key);

// Undoes SetAsidePrevious (after a failed re-issue).
void RestorePrevious(const std::filesystem::path& cert, const std::filesystem::path& key);

std::filesystem::path PreviousPath(const std::filesystem::path& path);

}  // namespace relaytap::proxy::tls
