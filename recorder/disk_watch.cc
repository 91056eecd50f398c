#include "recorder/disk_watch.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

namespace relaytap::recorder {
namespace {

uint64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const uintmax_t n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

std::string_view DiskPauseName(DiskPause pause) {
  switch (pause) {
    case DiskPause::kNone:
      return "none";
    case DiskPause::kDbSizeCap:
      return "db_size_cap";
    case DiskPause::kLowDisk:
      return "low_disk";
  }
  return "unknown";
}

DiskWatch::DiskWatch(std::string db_path, DiskLimits limits)
    : db_path_(std::move(db_path)), limits_(std::move(limits)) {}

void DiskWatch::Reset(std::string db_path) {
  db_path_ = std::move(db_path);
  pause_ = DiskPause::kNone;
  db_bytes_ = 0;
}

std::optional<uint64_t> DiskWatch::FreeBytes() const {
  if (limits_.free_bytes_for_test) return limits_.free_bytes_for_test();
  std::filesystem::path dir = std::filesystem::path(db_path_).parent_path();
  if (dir.empty()) dir = ".";
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) return std::nullopt;  // unknown: do not pause for it
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

DiskPause DiskWatch::Check() {
  db_bytes_ = FileBytes(db_path_) + FileBytes(db_path_ + "-wal");
  // Sticky: the store does not shrink by itself, and a checkpoint that truncates the WAL must
  // not make recording flap at the cap.
  if (pause_ == DiskPause::kDbSizeCap ||
      (limits_.max_db_bytes > 0 && db_bytes_ >= limits_.max_db_bytes)) {
    pause_ = DiskPause::kDbSizeCap;
    return pause_;
  }
  if (limits_.min_free_bytes > 0) {
    const std::optional<uint64_t> free = FreeBytes();
    free_bytes_ = free.value_or(0);
    if (free) {
      const uint64_t margin = std::min(kResumeMarginBytes, limits_.min_free_bytes / 16);
      const uint64_t floor =
          pause_ == DiskPause::kLowDisk ? limits_.min_free_bytes + margin : limits_.min_free_bytes;
      if (*free < floor) {
        pause_ = DiskPause::kLowDisk;
        return pause_;
      }
    }
  }
  pause_ = DiskPause::kNone;
  return pause_;
}

}  // namespace relaytap::recorder
