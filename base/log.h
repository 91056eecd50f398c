#pragma once
// The one logging facade. Lines go to stderr as `ts level message`, one write per line so lines
// from different threads never interleave. Never log a header value or a payload: log only derived
// or redacted fields (sizes, names, codes, outcomes).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/str_cat.h"

namespace relaytap {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace|debug|info|warn|error|off" (case-insensitive). Returns false on an unknown name.
bool ParseLogLevel(std::string_view name, LogLevel* out);
std::string_view LogLevelName(LogLevel level);

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
inline bool LogEnabled(LogLevel level) { return level >= GetLogLevel(); }

// Writes one line (a newline is appended). Thread-safe.
void LogLine(LogLevel level, std::string_view message);

// Microseconds since the Unix epoch (UTC), from the system clock.
int64_t NowUnixMicros();

}  // namespace relaytap

#define RELAYTAP_LOG(level, ...)                                                         \
  do {                                                                                   \
    if (::relaytap::LogEnabled(::relaytap::LogLevel::level)) {                           \
      ::relaytap::LogLine(::relaytap::LogLevel::level, ::relaytap::StrCat(__VA_ARGS__)); \
    }                                                                                    \
  } while (0)
