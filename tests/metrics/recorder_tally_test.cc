// The counters mean what the store and `relaytap stats` mean: a Recorder with the tally as its
// tap records a mix of attempts, and the tally's sessions and exchanges by outcome equal the
// store's attempts by outcome, as the query layer that `stats` reads returns them.

#include <gtest/gtest.h>

#include "metrics/tally.h"
#include "recorder/query/store_reader.h"
#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"

namespace relaytap::metrics {
namespace {

using recorder::Outcome;
using recorder::WsDirection;
using namespace recorder::testing;  // NOLINT: the recorder tests' builders

constexpr int64_t kT0 = 1'752'566'400'000'000;  // 2025-07-15T08:00:00Z

void SubmitMix(recorder::Recorder& rec) {
  // A session whose response failed.
  rec.TrySubmit(RealtimeUpgrade(1, kT0, "k", "q", "s"));
  rec.TrySubmit(
      Text(1, 1, WsDirection::kClientToServer, kT0 + 100'000, R"({"type":"response.create"})"));
  rec.TrySubmit(Text(1, 2, WsDirection::kServerToClient, kT0 + 400'000,
                     R"({"type":"response.output_audio.delta","delta":""})"));
  rec.TrySubmit(Text(1, 3, WsDirection::kServerToClient, kT0 + 500'000,
                     R"({"type":"response.done","response":{"id":"r","status":"failed",)"
                     R"("status_details":{"error":{"type":"server_error"}}}})"));
  rec.TrySubmit(Closed(1, kT0 + 600'000));
  // A session that went well.
  rec.TrySubmit(RealtimeUpgrade(2, kT0 + 1'000, "k", "q", "s"));
  rec.TrySubmit(Closed(2, kT0 + 700'000));
  // An upgrade answered 500.
  recorder::Exchange refused = RealtimeUpgrade(3, kT0 + 2'000, "k", "q", "s");
  refused.status = 500;
  refused.switched = false;
  refused.end.reason = recorder::EndReason::kComplete;
  rec.TrySubmit(std::move(refused));
  // Two plain exchanges: a 429 and an ok.
  for (int status : {429, 200}) {
    recorder::Exchange ex;
    ex.connection_id = static_cast<uint64_t>(status);
    ex.sequence = 1;
    ex.method = "POST";
    ex.host = "contoso-eus2.openai.azure.com";
    ex.target = "/openai/v1/responses";
    ex.status = status;
    ex.request_start_us = kT0 + 3'000;
    ex.response_headers_us = kT0 + 4'000;
    ex.end_us = kT0 + 5'000;
    ex.end.reason = recorder::EndReason::kComplete;
    rec.TrySubmit(std::move(ex));
  }
}

TEST(RecorderTallyTest, SessionsAndExchangesByOutcomeEqualTheStoresAttempts) {
  const std::string dir = MakeTempDir("recorder_tally");
  Tally tally;
  recorder::RecorderOptions ro;
  ro.db_path = dir + "/relaytap.db";
  ro.key_dir = dir;
  ro.tap = &tally;
  auto rec = recorder::Recorder::Open(ro);
  ASSERT_TRUE(rec.ok()) << rec.status();
  SubmitMix(**rec);
  ASSERT_TRUE((*rec)->Close().ok());

  auto reader = recorder::query::StoreReader::Open(ro.db_path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto attempts = (*reader)->Attempts({});
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  uint64_t sessions[recorder::kOutcomeCount] = {};
  uint64_t exchanges[recorder::kOutcomeCount] = {};
  for (const recorder::query::Attempt& a : *attempts) {
    std::optional<Outcome> o = recorder::ParseOutcome(a.outcome);
    ASSERT_TRUE(o.has_value()) << a.outcome;
    (a.session ? sessions : exchanges)[static_cast<size_t>(*o)]++;
  }
  const TallySnapshot s = tally.Snapshot();
  for (int o = 0; o < recorder::kOutcomeCount; ++o) {
    const std::string_view name = recorder::OutcomeName(static_cast<Outcome>(o));
    EXPECT_EQ(s.sessions[o], sessions[o]) << "sessions " << name;
    EXPECT_EQ(s.exchanges[o], exchanges[o]) << "exchanges " << name;
  }
  // The mix is what it says: not everything ok.
  EXPECT_EQ(s.sessions[static_cast<size_t>(Outcome::kResponseFailed)], 1u);
  EXPECT_EQ(s.sessions[static_cast<size_t>(Outcome::kServerError5xx)], 1u);
  EXPECT_EQ(s.sessions[static_cast<size_t>(Outcome::kOk)], 1u);
  EXPECT_EQ(s.exchanges[static_cast<size_t>(Outcome::kThrottled429)], 1u);
  EXPECT_EQ(s.first_delta.count, 1u);
  EXPECT_EQ(s.first_delta.sum_us, 300'000u);
  EXPECT_EQ(s.messages[0] + s.messages[1], 3u);
}

}  // namespace
}  // namespace relaytap::metrics
