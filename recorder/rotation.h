#pragma once
// Rotation of the store (--rotate hourly|SIZE, --keep N): the recorder rolls to a new file beside
// the first, named by its start time (relaytap.db, then relaytap-20261204T1000Z.db, ...), each a
// complete store with its own `runs` row, and deletes the oldest files past `keep` once the new
// one is open. This file holds the pure parts: the setting, the names, the set, the schedule.
// Thread rule: plain values and functions; the writer thread does the rolling.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace relaytap::recorder {

struct Rotation {
  enum class Every : uint8_t { kNever, kHour, kSize };
  static constexpr int kDefaultKeep = 24;

  Every every = Every::kNever;
  uint64_t bytes = 0;  // kSize: roll once the file (and its WAL) reaches this
  int keep = kDefaultKeep;
  // kHour: the period, aligned to UTC; tests shorten it.
  int64_t period_us = int64_t{3600} * 1'000'000;

  bool enabled() const { return every != Every::kNever; }
};

// "hourly", or a size ("1GiB": base/byte_size.h). Errors name what was expected.
absl::StatusOr<Rotation> ParseRotation(std::string_view text);

// When a file started at `start_us` is due to roll by time: the next multiple of `period_us`
// after it (UTC).
int64_t NextRollUs(int64_t start_us, int64_t period_us);

// The file a roll at `start_us` writes to: beside `first_path`, its stem plus the UTC start
// minute ("dir/relaytap-20261204T1000Z.db"), with "-2", "-3", ... when that name is taken.
std::string RotatedPath(const std::string& first_path, int64_t start_us);

// The files of the set `first_path` begins, oldest first: the first file (if it exists), then
// every stem-YYYYMMDDTHHMMZ[-N].db beside it, by name.
std::vector<std::string> RotatedSet(const std::string& first_path);

// Deletes the oldest files of the set (and their -wal, -shm) so that `keep` remain; never
// `current`. Returns the files deleted.
std::vector<std::string> PruneRotatedSet(const std::string& first_path, const std::string& current,
                                         int keep);

}  // namespace relaytap::recorder
