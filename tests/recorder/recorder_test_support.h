#pragma once
// Shared by the Recorder tests (recorder_test.cc, recorder_resilience_test.cc): options for a
// recorder in a temp dir with 10 ms batches, and opening one.

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder::testing {

inline constexpr auto kUp = WsDirection::kClientToServer;
inline constexpr auto kDown = WsDirection::kServerToClient;
inline constexpr int64_t kT0 = 1'752'566'400'000'000;  // 2025-07-15T08:00:00Z

inline RecorderOptions Options(const std::string& dir) {
  RecorderOptions o;
  o.db_path = dir + "/relaytap.db";
  o.key_dir = dir + "/ca";
  o.relaytap_version = "test";
  o.batch_interval = absl::Milliseconds(10);
  return o;
}

inline std::unique_ptr<Recorder> OpenOrDie(const RecorderOptions& o) {
  auto r = Recorder::Open(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

}  // namespace relaytap::recorder::testing
