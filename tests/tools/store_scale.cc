#include "tests/tools/store_scale.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"
#include "tests/tools/recorded_mix.h"

namespace relaytap::testing {
namespace {

using recorder::ConnectionClosed;
using recorder::ConnectionOpened;
using recorder::EndFacts;
using recorder::EndReason;
using recorder::WsDirection;
using recorder::testing::Text;

constexpr auto kUp = WsDirection::kClientToServer;
constexpr auto kDown = WsDirection::kServerToClient;
constexpr int kTurns = 6;
constexpr int kAudioDeltas = 70;
constexpr int kTranscriptDeltas = 5;
constexpr int kEventsPerTurn = 1 + 3 + kAudioDeltas + kTranscriptDeltas + 5;
constexpr int kEventsPerSession = 2 + kTurns * kEventsPerTurn;
constexpr int64_t kSessionSpacingUs = 18'000'000;  // 2,000 sessions over ten hours
constexpr int64_t kDeltaUs = 20'000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "store_scale: %s\n", what.c_str());
  std::abort();
}

class Submitter {
 public:
  explicit Submitter(recorder::Recorder& rec) : rec_(rec) {}
  template <typename Observation>
  void operator()(Observation&& obs) {
    if (!rec_.TrySubmit(std::forward<Observation>(obs))) Die("the recorder dropped an observation");
  }

 private:
  recorder::Recorder& rec_;
};

std::string Ids(const std::string& resp, const std::string& item) {
  return R"("response_id":")" + resp + R"(","item_id":")" + item + R"(","output_index":0)";
}

// One turn from `at`: 84 events; returns the time after it.
int64_t Turn(Submitter& submit, uint64_t conn, uint64_t& seq, int64_t at, int turn, bool fail,
             const std::string& audio, int64_t& events) {
  const std::string resp = "resp_" + std::to_string(conn) + "_" + std::to_string(turn);
  const std::string item = "item_" + std::to_string(conn) + "_" + std::to_string(turn);
  auto down = [&](int64_t t, const std::string& body) {
    submit(Text(conn, ++seq, kDown, t, body));
    ++events;
  };
  submit(Text(conn, ++seq, kUp, at,
              R"({"type":"response.create","event_id":"evt_c)" + std::to_string(turn) +
                  R"(","response":{"modalities":["audio","text"]}})"));
  ++events;
  at += 40'000;
  down(at, R"({"type":"response.created","event_id":"event_r","response":{"id":")" + resp +
               R"(","status":"in_progress"}})");
  down(at + 1'000,
       R"({"type":"response.output_item.added","event_id":"event_i",)" + Ids(resp, item) + "}");
  down(at + 2'000, R"({"type":"response.content_part.added","event_id":"event_p",)" +
                       Ids(resp, item) + R"(,"content_index":0})");
  at += 300'000;
  for (int i = 0; i < kAudioDeltas; ++i, at += kDeltaUs) {
    down(at, R"({"type":"response.output_audio.delta","event_id":"event_a",)" + Ids(resp, item) +
                 R"(,"content_index":0,"delta":")" + audio + "\"}");
    if (i % (kAudioDeltas / kTranscriptDeltas) == 0) {
      down(at + 500, R"({"type":"response.output_audio_transcript.delta","event_id":"event_t",)" +
                         Ids(resp, item) + R"(,"content_index":0,"delta":"hello there "})");
    }
  }
  down(at, R"({"type":"response.output_audio.done","event_id":"event_ad",)" + Ids(resp, item) +
               R"(,"content_index":0})");
  down(at + 100, R"({"type":"response.output_audio_transcript.done","event_id":"event_td",)" +
                     Ids(resp, item) + R"(,"content_index":0,"transcript":"hello there"})");
  down(at + 200, R"({"type":"response.content_part.done","event_id":"event_pd",)" +
                     Ids(resp, item) + R"(,"content_index":0})");
  down(at + 300,
       R"({"type":"response.output_item.done","event_id":"event_id",)" + Ids(resp, item) + "}");
  const std::string status =
      fail ? R"("failed","status_details":{"type":"failed","error":{"type":"server_error",)"
             R"("message":"The server had an error while processing your request."}})"
           : R"("completed")";
  down(at + 1'000, R"({"type":"response.done","event_id":"event_d","response":{"id":")" + resp +
                       R"(","status":)" + status + R"(,"usage":{"total_tokens":120}}})");
  return at + 500'000;
}

}  // namespace

int64_t SessionsFor(int64_t events) { return (events + kEventsPerSession - 1) / kEventsPerSession; }

ScaleMix RecordScaleMix(const std::string& db_path, const std::string& key_dir, int64_t sessions) {
  recorder::RecorderOptions o;
  o.db_path = db_path;
  o.key_dir = key_dir;
  o.queue_max_bytes = 4ull << 30;  // a full store, not a measure of drops
  auto rec = recorder::Recorder::Open(o);
  if (!rec.ok()) Die(std::string(rec.status().message()));
  Submitter submit(**rec);
  ScaleMix mix;
  const std::string audio = recorder::testing::Base64(480, 'a');  // 20 ms of 24 kHz pcm16 / 2
  uint64_t conn = 0;
  for (int64_t s = 0; s < sessions; ++s) {
    const int64_t t0 = kT0 + s * kSessionSpacingUs;
    if (s % 50 == 49) {
      SubmitThrottledUpgrade(**rec, ++conn, t0 - 2'000'000);
      ++mix.throttled_upgrades;
    }
    ++conn;
    submit(ConnectionOpened{conn, t0, "127.0.0.1:" + std::to_string(5000 + s % 2000),
                            "contoso-eus2.openai.azure.com", 443, true, false});
    submit(recorder::testing::RealtimeUpgrade(conn, t0, "k", "q", "s"));
    const int64_t open = t0 + 80'000;
    uint64_t seq = 0;
    submit(Text(conn, ++seq, kDown, open + 50'000,
                R"({"type":"session.created","event_id":"event_1","session":{"id":"sess_)" +
                    std::to_string(conn) + R"(","voice":"alloy"}})"));
    submit(Text(conn, ++seq, kUp, open + 60'000,
                R"({"type":"session.update","event_id":"evt_u","session":{"voice":"alloy",)"
                R"("instructions":"Be brief.","modalities":["audio","text"]}})"));
    mix.events += 2;
    const bool fail = s % 33 == 32;
    int64_t at = open + 100'000;
    for (int turn = 0; turn < kTurns; ++turn) {
      at = Turn(submit, conn, seq, at, turn, fail && turn == kTurns - 1, audio, mix.events);
    }
    submit(recorder::testing::Closed(conn, at));
    ConnectionClosed cc;
    cc.connection_id = conn;
    cc.close_us = at + 10'000;
    cc.end = EndFacts{.reason = EndReason::kRelayEnded, .up_ended_first = true, .websocket = true};
    submit(std::move(cc));
    ++mix.sessions;
    mix.failed_sessions += fail ? 1 : 0;
    SubmitHttpExchange(**rec, ++conn, t0 + kSessionSpacingUs / 2);
    ++mix.chats;
  }
  if (absl::Status st = (*rec)->Close(); !st.ok()) Die(std::string(st.message()));
  if ((*rec)->stats().dropped != 0) Die("the recorder dropped observations");
  return mix;
}

}  // namespace relaytap::testing
