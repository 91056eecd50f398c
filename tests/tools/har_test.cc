// `relaytap export --har` on the known mix (tests/tools/recorded_mix.h): one entry per exchange
// with headers, query, timings and, for the realtime sessions, Chrome's _webSocketMessages. The
// schema itself is checked by an npm HAR validator on real client traffic
// (tests/clients/node/har_validate.mjs, run by tests/clients/run_clients.sh).
#include "tools/har/har.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/recorder/test_util.h"
#include "tests/tools/recorded_mix.h"

namespace relaytap::tools::har {
namespace {

using ::testing::HasSubstr;

// The known mix in a fresh store; returns its path.
std::string RecordMix() {
  recorder::RecorderOptions o;
  const std::string dir = recorder::testing::MakeTempDir("har");
  o.db_path = dir + "/relaytap.db";
  o.key_dir = dir + "/ca";
  o.relaytap_version = "test";
  o.batch_interval = absl::Milliseconds(10);
  testing::RecordKnownMix(o);
  return o.db_path;
}

nlohmann::json ExportMix(recorder::query::TimeWindow window = {}) {
  auto reader = recorder::query::StoreReader::Open(RecordMix());
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  absl::StatusOr<std::string> har = ExportHar(**reader, window, "9.9.9");
  EXPECT_TRUE(har.ok()) << har.status();
  return har.ok() ? nlohmann::json::parse(*har) : nlohmann::json();
}

TEST(HarTest, OneEntryPerExchangeWithWebSocketMessages) {
  const nlohmann::json har = ExportMix();
  const nlohmann::json& log = har["log"];
  EXPECT_EQ(log["version"], "1.2");
  EXPECT_EQ(log["creator"]["name"], "relaytap");
  EXPECT_EQ(log["creator"]["version"], "9.9.9");
  ASSERT_EQ(log["entries"].size(), 5u);

  const nlohmann::json& ws = log["entries"][0];
  EXPECT_EQ(ws["startedDateTime"], "2025-07-15T08:01:00.000Z");
  EXPECT_EQ(ws["request"]["method"], "GET");
  EXPECT_THAT(ws["request"]["url"].get<std::string>(),
              ::testing::StartsWith("https://contoso-eus2.openai.azure.com/openai/realtime?"
                                    "api-version=2025-04-01-preview&deployment=gpt-4o-realtime"));
  // The key in the query is stored as its fingerprint, never the value.
  EXPECT_THAT(ws["request"]["url"].get<std::string>(), HasSubstr("api-key=hmac:"));
  EXPECT_EQ(ws["request"]["queryString"][0],
            (nlohmann::json{{"name", "api-version"}, {"value", "2025-04-01-preview"}}));
  EXPECT_EQ(ws["response"]["status"], 101);
  EXPECT_DOUBLE_EQ(ws["timings"]["wait"].get<double>(), 80.0);
  EXPECT_EQ(ws["timings"]["dns"], -1);  // no dial timings recorded for this connection
  EXPECT_EQ(ws["_resourceType"], "websocket");
  const nlohmann::json& messages = ws["_webSocketMessages"];
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0]["type"], "receive");
  EXPECT_EQ(messages[1]["type"], "send");
  EXPECT_EQ(messages[1]["opcode"], 1);
  EXPECT_THAT(messages[1]["data"].get<std::string>(), HasSubstr("response.create"));
  EXPECT_DOUBLE_EQ(messages[0]["time"].get<double>(), 1752566460.13);
  bool apim = false;
  for (const auto& h : ws["response"]["headers"]) apim |= h["name"] == "apim-request-id";
  EXPECT_TRUE(apim);

  const nlohmann::json& chat = log["entries"][4];
  EXPECT_EQ(chat["request"]["method"], "POST");
  EXPECT_EQ(chat["response"]["status"], 200);
  EXPECT_FALSE(chat.contains("_webSocketMessages"));
  EXPECT_DOUBLE_EQ(chat["timings"]["wait"].get<double>(), 200.0);
  EXPECT_DOUBLE_EQ(chat["timings"]["receive"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(chat["time"].get<double>(), 250.0);
}

TEST(HarTest, TheWindowSelectsEntries) {
  EXPECT_EQ(ExportMix({.since_us = testing::kT0 + testing::kHour})["log"]["entries"].size(), 3u);
}

// The export is handed over in pieces; the pieces make the same document, and a writer that
// fails (a full disk) stops the export with an error instead of a silently short file.
TEST(HarTest, WrittenInPiecesAndStopsWhenTheWriterFails) {
  auto reader = recorder::query::StoreReader::Open(RecordMix());
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::string pieces;
  int calls = 0;
  ASSERT_TRUE(WriteHar(**reader, {}, "9.9.9", [&](std::string_view piece) {
                ++calls;
                pieces.append(piece);
                return true;
              }).ok());
  EXPECT_GE(calls, 1);
  absl::StatusOr<std::string> whole = ExportHar(**reader, {}, "9.9.9");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(pieces, *whole);

  calls = 0;
  absl::Status failed = WriteHar(**reader, {}, "9.9.9", [&](std::string_view) {
    ++calls;
    return false;
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace relaytap::tools::har
