#pragma once
// The per-install redaction key: 32 random bytes in `<dir>/relaytap-redaction.key`, beside the CA.
// Created once with O_CREAT|O_EXCL and mode 0600; never logged, never written anywhere else.

#include <string>

#include "absl/status/statusor.h"

namespace relaytap::recorder {

inline constexpr char kRedactionKeyFileName[] = "relaytap-redaction.key";
inline constexpr size_t kRedactionKeyBytes = 32;

// Reads the key, creating `dir` (0700) and the key file (0600) if missing. Errors:
// PermissionDenied if the file is readable by group/others, DataLoss if it has the wrong size,
// Internal/Unavailable for I/O failures (with the path and errno text).
absl::StatusOr<std::string> LoadOrCreateRedactionKey(const std::string& dir);

}  // namespace relaytap::recorder
