#pragma once
// Keeps the store from filling the disk: before each batch the writer asks whether the store has
// reached its size cap (the database and its WAL, --max-db-size) or the filesystem it lives on is
// below the free-space floor (--min-free). While either holds, recording pauses: observations are
// counted into one gap row with the pause's reason, the relay never waits. A low-disk pause ends
// once free space is back above the floor with a margin (so that it does not flap); a size-cap
// pause lasts until the store is replaced.
// Thread rule: writer thread only.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace relaytap::recorder {

enum class DiskPause : uint8_t { kNone, kDbSizeCap, kLowDisk };
// "db_size_cap" / "low_disk": the gap's reason in the store.
std::string_view DiskPauseName(DiskPause pause);

struct DiskLimits {
  static constexpr uint64_t kDefaultMaxDbBytes = uint64_t{4} << 30;
  static constexpr uint64_t kDefaultMinFreeBytes = uint64_t{1} << 30;
  uint64_t max_db_bytes = kDefaultMaxDbBytes;      // 0: no cap
  uint64_t min_free_bytes = kDefaultMinFreeBytes;  // 0: no floor
  // Tests only: the free bytes of the store's filesystem instead of statvfs.
  std::function<std::optional<uint64_t>()> free_bytes_for_test;
};

class DiskWatch {
 public:
  // A low-disk pause ends at min_free_bytes plus this much (or a sixteenth more, if smaller).
  static constexpr uint64_t kResumeMarginBytes = uint64_t{64} << 20;

  DiskWatch(std::string db_path, DiskLimits limits);
  // The store is now `db_path` (a roll): a size-cap pause ends with the old file.
  void Reset(std::string db_path);

  // Why recording must pause now (kNone: write). Two stat() calls and one statvfs().
  DiskPause Check();

  uint64_t db_bytes() const { return db_bytes_; }      // as of the last Check()
  uint64_t free_bytes() const { return free_bytes_; }  // as of the last Check()
  const DiskLimits& limits() const { return limits_; }

 private:
  std::optional<uint64_t> FreeBytes() const;

  std::string db_path_;
  const DiskLimits limits_;
  DiskPause pause_ = DiskPause::kNone;
  uint64_t db_bytes_ = 0;
  uint64_t free_bytes_ = 0;
};

}  // namespace relaytap::recorder
