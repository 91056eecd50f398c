#pragma once
// A fresh, empty directory for one test under ::testing::TempDir(), unique per process and call,
// so tests that ctest runs in parallel never share one.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>

namespace relaytap::testing {

// TempDir()/<prefix><name>_<pid>_<n>, emptied and created.
inline std::filesystem::path FreshTempDir(std::string_view name,
                                          std::string_view prefix = "relaytap_") {
  static std::atomic<int> counter{0};
  std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      (std::string(prefix) + std::string(name) + "_" + std::to_string(::getpid()) + "_" +
       std::to_string(counter.fetch_add(1)));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The permission bits of `path` (a failed stat fails the test and gives 0).
inline mode_t ModeOf(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

}  // namespace relaytap::testing
