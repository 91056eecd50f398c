#pragma once
// The time flags the store's answer commands share: --since/--until (RFC 3339 or relative to
// now) and --tz (the zone local times are shown in; default: the zone the store recorded).

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recorder/query/store_reader.h"

namespace relaytap::tools::stats {

// RFC 3339 (2025-07-15T08:00:00Z, 2025-07-15T10:00:00+02:00), or relative to `now`: -2h, -90m,
// -1h30m, -1d, +10m, now.
absl::StatusOr<absl::Time> ParseWhen(const std::string& text, absl::Time now);

// --since / --until (either may be empty: open) as a window; errors name the flag.
absl::StatusOr<recorder::query::TimeWindow> ParseWindow(const std::string& since,
                                                        const std::string& until, absl::Time now);

// `flag` (an IANA name, UTC, or +HH:MM) if given, else the zone of the store's latest run: its
// name if this machine knows it, else its recorded UTC offset.
absl::StatusOr<absl::TimeZone> ResolveZone(const std::string& flag,
                                           recorder::query::StoreReader& reader);

}  // namespace relaytap::tools::stats
