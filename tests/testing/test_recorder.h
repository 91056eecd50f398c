#pragma once
// A recorder for loopback tests: writes `dir`/relaytap.db (keys in `dir`) in 20 ms batches.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "recorder/recorder.h"

namespace relaytap::testing {

// The database OpenTestRecorder(dir) writes.
inline std::string TestDbPath(const std::filesystem::path& dir) {
  return (dir / "relaytap.db").string();
}

// Null (and a test failure) when the store cannot be opened.
inline std::unique_ptr<recorder::Recorder> OpenTestRecorder(const std::filesystem::path& dir) {
  recorder::RecorderOptions ro;
  ro.db_path = TestDbPath(dir);
  ro.key_dir = dir.string();
  ro.batch_interval = absl::Milliseconds(20);
  auto rec = recorder::Recorder::Open(ro);
  EXPECT_TRUE(rec.ok()) << rec.status();
  return rec.ok() ? std::move(*rec) : nullptr;
}

}  // namespace relaytap::testing
