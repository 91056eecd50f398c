#include "tools/stats/time_flags.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "base/str_cat.h"

namespace relaytap::tools::stats {

absl::StatusOr<absl::Time> ParseWhen(const std::string& text, absl::Time now) {
  if (text == "now") return now;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    // Relative to now: -2h, -90m, -1d, -1h30m (Go-style durations, plus whole days).
    const int sign = text[0] == '-' ? -1 : 1;
    std::string rest = text.substr(1);
    if (!rest.empty() && rest.back() == 'd') {
      int64_t days = 0;
      if (absl::SimpleAtoi(rest.substr(0, rest.size() - 1), &days) && days >= 0) {
        return now + sign * absl::Hours(24 * days);
      }
    } else if (absl::Duration d; absl::ParseDuration(rest, &d) && d >= absl::ZeroDuration()) {
      return now + sign * d;
    }
  } else {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  }
  return absl::InvalidArgumentError(
      StrCat(text,
             ": expected RFC 3339 (2025-07-15T08:00:00Z, 2025-07-15T10:00:00+02:00) or a "
             "time relative to now (-2h, -90m, -1d, now)"));
}

absl::StatusOr<recorder::query::TimeWindow> ParseWindow(const std::string& since,
                                                        const std::string& until, absl::Time now) {
  recorder::query::TimeWindow window;
  for (auto [flag, text, out] : {std::tuple{"--since", &since, &window.since_us},
                                 std::tuple{"--until", &until, &window.until_us}}) {
    if (text->empty()) continue;
    absl::StatusOr<absl::Time> t = ParseWhen(*text, now);
    if (!t.ok()) {
      return absl::InvalidArgumentError(StrCat(flag, " ", std::string(t.status().message())));
    }
    *out = absl::ToUnixMicros(*t);
  }
  if (window.since_us && window.until_us && *window.until_us <= *window.since_us) {
    return absl::InvalidArgumentError("--until must be later than --since");
  }
  return window;
}

absl::StatusOr<absl::TimeZone> ResolveZone(const std::string& flag,
                                           recorder::query::StoreReader& reader) {
  absl::TimeZone zone;
  if (!flag.empty()) {
    if (flag == "UTC" || flag == "utc" || flag == "Z") return absl::UTCTimeZone();
    if ((flag[0] == '+' || flag[0] == '-') && flag.size() == 6 && flag[3] == ':') {
      int h = 0, m = 0;
      if (absl::SimpleAtoi(flag.substr(1, 2), &h) && absl::SimpleAtoi(flag.substr(4, 2), &m)) {
        return absl::FixedTimeZone((flag[0] == '-' ? -1 : 1) * (h * 3600 + m * 60));
      }
    }
    if (absl::LoadTimeZone(flag, &zone)) return zone;
    return absl::InvalidArgumentError(StrCat(
        "--tz ", flag, ": unknown time zone (an IANA name such as Europe/Berlin, UTC, or +02:00)"));
  }
  absl::StatusOr<recorder::query::StoreReader::RecordedZone> recorded = reader.LatestZone();
  if (!recorded.ok()) return recorded.status();
  if (!recorded->name.empty() && absl::LoadTimeZone(recorded->name, &zone)) return zone;
  return absl::FixedTimeZone(static_cast<int>(recorded->utc_offset_s));
}

}  // namespace relaytap::tools::stats
