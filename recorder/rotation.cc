#include "recorder/rotation.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <tuple>

#include "base/byte_size.h"
#include "base/str_cat.h"

namespace relaytap::recorder {
namespace {

namespace fs = std::filesystem;

// "-20261204T1000Z" and an optional "-N": what RotatedPath appends to the stem.
bool IsRotatedSuffix(std::string_view s) {
  if (s.size() < 15 || s[0] != '-' || s[9] != 'T' || s[14] != 'Z') return false;
  for (size_t i : {1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  std::string_view rest = s.substr(15);
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest[0] != '-') return false;
  return std::all_of(rest.begin() + 1, rest.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// The rotated files beside `first_path` as (stamp, N, path), sorted: the stamp sorts by time, and
// names of one minute by N (1 for none).
std::vector<std::tuple<std::string, int, std::string>> ListRotated(const std::string& first_path) {
  const fs::path first(first_path);
  const std::string stem = first.stem().string();
  const std::string ext = first.extension().string();
  fs::path dir = first.parent_path();
  if (dir.empty()) dir = ".";
  std::vector<std::tuple<std::string, int, std::string>> rotated;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= stem.size() + ext.size() || !name.starts_with(stem) ||
        !name.ends_with(ext)) {
      continue;
    }
    const std::string_view middle =
        std::string_view(name).substr(stem.size(), name.size() - stem.size() - ext.size());
    if (!IsRotatedSuffix(middle)) continue;
    const int n = middle.size() > 15 ? std::atoi(std::string(middle.substr(16)).c_str()) : 1;
    rotated.emplace_back(std::string(middle.substr(1, 14)), n,
                         (first.parent_path() / name).string());
  }
  std::sort(rotated.begin(), rotated.end());
  return rotated;
}

}  // namespace

absl::StatusOr<Rotation> ParseRotation(std::string_view text) {
  Rotation r;
  if (text == "hourly") {
    r.every = Rotation::Every::kHour;
    return r;
  }
  absl::StatusOr<uint64_t> bytes = ParseByteSize(text);
  if (!bytes.ok() || *bytes == 0) {
    return absl::InvalidArgumentError(
        StrCat("'", text, "': expected hourly or a size such as 1GiB or 500MiB"));
  }
  r.every = Rotation::Every::kSize;
  r.bytes = *bytes;
  return r;
}

int64_t NextRollUs(int64_t start_us, int64_t period_us) {
  return (start_us / period_us + 1) * period_us;
}

std::vector<std::string> RotatedSet(const std::string& first_path) {
  std::vector<std::string> set;
  std::error_code ec;
  if (fs::exists(first_path, ec)) set.push_back(first_path);
  for (const auto& r : ListRotated(first_path)) set.push_back(std::get<2>(r));
  return set;
}

std::string RotatedPath(const std::string& first_path, int64_t start_us) {
  const fs::path first(first_path);
  const time_t secs = static_cast<time_t>(start_us / 1'000'000);
  struct tm utc {};
  gmtime_r(&secs, &utc);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y%m%dT%H%MZ", &utc);
  // Within one minute: after every file of that minute there is, so that names keep their order
  // even when older ones of the minute were deleted.
  int last_n = 0;
  for (const auto& [other, n, path] : ListRotated(first_path)) {
    if (other == stamp) last_n = std::max(last_n, n);
  }
  const std::string base = StrCat(first.stem().string(), "-", stamp);
  const std::string ext = first.extension().string();
  fs::path candidate =
      first.parent_path() / (last_n == 0 ? base + ext : StrCat(base, "-", last_n + 1, ext));
  for (int n = last_n + 2; fs::exists(candidate) && n < 100'000; ++n) {
    candidate = first.parent_path() / StrCat(base, "-", n, ext);
  }
  return candidate.string();
}

std::vector<std::string> PruneRotatedSet(const std::string& first_path, const std::string& current,
                                         int keep) {
  std::vector<std::string> set = RotatedSet(first_path);
  std::vector<std::string> deleted;
  const size_t keep_n = static_cast<size_t>(std::max(keep, 1));
  for (size_t i = 0; i + keep_n < set.size(); ++i) {
    if (set[i] == current) continue;
    std::error_code ec;
    if (!fs::remove(set[i], ec) || ec) continue;
    fs::remove(set[i] + "-wal", ec);
    fs::remove(set[i] + "-shm", ec);
    deleted.push_back(set[i]);
  }
  return deleted;
}

}  // namespace relaytap::recorder
