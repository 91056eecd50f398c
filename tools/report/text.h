#pragma once
// How every report format writes times and numbers: UTC and local timestamps to the millisecond,
// fixed-point numbers, Markdown cells.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/str_cat.h"

namespace relaytap::tools::report {

inline std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

inline std::string Utc(int64_t us) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

inline std::string Local(int64_t us, const absl::TimeZone& zone) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", absl::FromUnixMicros(us), zone);
}

// "a, b, (none)" for a list of names (an empty name is "(none)"); "-" for no names.
inline std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += StrCat(out.empty() ? "" : ", ", s.empty() ? "(none)" : s);
  return out.empty() ? "-" : out;
}

// A Markdown table cell: one line, pipes escaped, "-" when empty.
inline std::string Cell(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out.empty() ? "-" : out;
}

}  // namespace relaytap::tools::report
