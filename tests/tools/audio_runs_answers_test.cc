// The same traffic recorded with runs of audio events and with one row per message gives the same
// answers: `relaytap stats` totals, and the HAR export's WebSocket messages (each member of a run
// is its own message, with its own time, in order).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "recorder/query/store_reader.h"
#include "recorder/recorder.h"
#include "tests/recorder/audio_cadence.h"
#include "tests/recorder/test_util.h"
#include "tools/har/har.h"
#include "tools/stats/stats.h"

namespace relaytap::tools {
namespace {

constexpr int64_t kAudioT0 = 1'752'566'400'000'000;  // 2025-07-15T08:00:00Z

// Two 20 s sessions at audio cadence, recorded with runs `on` or off; returns the store's path.
std::string Record(bool runs) {
  recorder::RecorderOptions o;
  const std::string dir = recorder::testing::MakeTempDir(runs ? "runs_on" : "runs_off");
  o.db_path = dir + "/relaytap.db";
  o.key_dir = dir + "/ca";
  o.relaytap_version = "test";
  o.audio_runs = runs;
  o.queue_max_bytes = 1ull << 30;
  auto rec = recorder::Recorder::Open(o);
  EXPECT_TRUE(rec.ok()) << rec.status();
  if (!rec.ok()) return "";
  for (uint64_t conn = 1; conn <= 2; ++conn) {
    auto session = recorder::testing::AudioCadenceSession(
        conn, kAudioT0 + static_cast<int64_t>(conn) * 30'000'000, 20);
    for (auto& obs : session.observations) EXPECT_TRUE((*rec)->TrySubmit(std::move(obs)));
  }
  EXPECT_TRUE((*rec)->Close().ok());
  return o.db_path;
}

std::unique_ptr<recorder::query::StoreReader> Open(const std::string& db) {
  auto reader = recorder::query::StoreReader::Open(db);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return reader.ok() ? std::move(*reader) : nullptr;
}

std::string StatsJson(recorder::query::StoreReader& reader) {
  auto attempts = reader.Attempts({});
  EXPECT_TRUE(attempts.ok()) << attempts.status();
  if (!attempts.ok()) return "";
  return stats::FormatJson(stats::Compute(*attempts, stats::GroupBy::kHour, absl::UTCTimeZone()));
}

// Per session: each message's direction, time and opcode (its data is the run's first payload).
std::vector<std::string> HarMessages(recorder::query::StoreReader& reader) {
  auto har = har::ExportHar(reader, {}, "test");
  EXPECT_TRUE(har.ok()) << har.status();
  std::vector<std::string> out;
  if (!har.ok()) return out;
  const nlohmann::json doc = nlohmann::json::parse(*har);
  for (const auto& entry : doc["log"]["entries"]) {
    if (!entry.contains("_webSocketMessages")) continue;
    for (const auto& m : entry["_webSocketMessages"]) {
      out.push_back(m["type"].get<std::string>() + " " + m["time"].dump() + " " +
                    m["opcode"].dump());
    }
  }
  return out;
}

TEST(AudioRunsAnswersTest, StatsAndHarMessagesAreTheSameWithAndWithoutRuns) {
  const std::string with_runs = Record(true);
  const std::string per_message = Record(false);
  auto a = Open(with_runs);
  auto b = Open(per_message);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(StatsJson(*a), StatsJson(*b));
  const std::vector<std::string> har_a = HarMessages(*a);
  EXPECT_GT(har_a.size(), 2000u);
  EXPECT_EQ(har_a, HarMessages(*b));
  const auto rows = [](const std::string& db) {
    return std::stoll(recorder::testing::Query(db, "SELECT COUNT(*) FROM events")[0]);
  };
  EXPECT_LT(rows(with_runs) * 10, rows(per_message));
}

}  // namespace
}  // namespace relaytap::tools
