#include "tests/recorder/audio_cadence.h"

#include <algorithm>
#include <string>

#include "tests/recorder/test_util.h"

namespace relaytap::recorder::testing {
namespace {

constexpr int64_t kCadenceUs = 20'000;
constexpr int64_t kTurnEveryUs = 8'000'000;
constexpr int kDeltasPerTurn = 200;

// A deterministic offset in [-jitter, +jitter] (a linear congruential sequence).
class Jitter {
 public:
  explicit Jitter(int64_t jitter_us) : jitter_us_(jitter_us) {}
  int64_t Next() {
    if (jitter_us_ <= 0) return 0;
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((state_ >> 33) % static_cast<uint64_t>(2 * jitter_us_ + 1)) -
           jitter_us_;
  }

 private:
  int64_t jitter_us_;
  uint64_t state_ = 1;
};

struct Timed {
  int64_t at_us;
  WsDirection dir;
  std::string payload;
};

std::string Ids(const std::string& resp, const std::string& item) {
  return R"("response_id":")" + resp + R"(","item_id":")" + item + R"(","output_index":0)";
}

// The server's messages of one turn starting at `at`.
void Turn(std::vector<Timed>& out, int64_t at, int turn, Jitter& jitter) {
  const std::string n = std::to_string(turn);
  const std::string resp = "resp_" + n, item = "item_" + n;
  auto down = [&](int64_t t, const std::string& type, const std::string& rest) {
    out.push_back({t, WsDirection::kServerToClient,
                   R"({"type":")" + type + R"(","event_id":"event_)" + std::to_string(t % 99991) +
                       R"(")" + rest + "}"});
  };
  down(at, "input_audio_buffer.speech_started", R"(,"item_id":"item_u)" + n + R"(")");
  at += 1'000'000;
  down(at, "input_audio_buffer.speech_stopped", R"(,"item_id":"item_u)" + n + R"(")");
  down(at + 100, "input_audio_buffer.committed", R"(,"item_id":"item_u)" + n + R"(")");
  down(at + 200, "response.created",
       R"(,"response":{"id":")" + resp + R"(","status":"in_progress"})");
  down(at + 300, "response.output_item.added", "," + Ids(resp, item));
  at += 200'000;
  for (int i = 0; i < kDeltasPerTurn; ++i, at += kCadenceUs) {
    down(at + jitter.Next(), "response.output_audio.delta",
         "," + Ids(resp, item) + R"(,"content_index":0,"delta":")" +
             Base64(960, static_cast<char>('a' + i % 26)) + R"(")");
    if (i % 10 == 0) {
      down(at + 500, "response.output_audio_transcript.delta",
           "," + Ids(resp, item) + R"(,"content_index":0,"delta":"some words ")");
    }
  }
  down(at, "response.output_audio.done", "," + Ids(resp, item));
  down(at + 100, "response.output_item.done", "," + Ids(resp, item));
  down(at + 1'000, "response.done",
       R"(,"response":{"id":")" + resp + R"(","status":"completed","usage":{"total_tokens":90}})");
}

}  // namespace

CadenceSession AudioCadenceSession(uint64_t conn, int64_t t0, int seconds, int64_t jitter_us) {
  Jitter jitter(jitter_us);
  CadenceSession s;
  s.observations.push_back(ConnectionOpened{conn, t0, "127.0.0.1:5000",
                                            "contoso-eus2.openai.azure.com", 443, true, false});
  s.observations.push_back(RealtimeUpgrade(conn, t0, "k", "q", "s"));
  const int64_t end = t0 + int64_t{seconds} * 1'000'000;
  std::vector<Timed> msgs;
  msgs.push_back({t0 + 50'000, WsDirection::kServerToClient,
                  R"({"type":"session.created","event_id":"event_1","session":{"id":"sess_)" +
                      std::to_string(conn) + R"("}})"});
  msgs.push_back({t0 + 60'000, WsDirection::kClientToServer,
                  R"({"type":"session.update","session":{"voice":"alloy"}})"});
  for (int64_t at = t0 + 100'000, i = 0; at < end; at += kCadenceUs, ++i) {
    msgs.push_back({at + 7 + jitter.Next(), WsDirection::kClientToServer,
                    R"({"type":"input_audio_buffer.append","audio":")" +
                        Base64(960, static_cast<char>('A' + i % 26)) + R"("})"});
  }
  for (int turn = 0; t0 + 1'000'000 + turn * kTurnEveryUs + 6'000'000 < end; ++turn) {
    Turn(msgs, t0 + 1'000'000 + turn * kTurnEveryUs, turn, jitter);
  }
  std::stable_sort(msgs.begin(), msgs.end(),
                   [](const Timed& a, const Timed& b) { return a.at_us < b.at_us; });
  uint64_t seq = 0;
  for (Timed& m : msgs) {
    s.observations.push_back(Text(conn, ++seq, m.dir, m.at_us, std::move(m.payload)));
  }
  s.messages = static_cast<int64_t>(msgs.size());
  s.observations.push_back(Closed(conn, end));
  ConnectionClosed cc;
  cc.connection_id = conn;
  cc.close_us = end + 1'000;
  cc.end = EndFacts{.reason = EndReason::kRelayEnded, .up_ended_first = true, .websocket = true};
  s.observations.push_back(std::move(cc));
  return s;
}

}  // namespace relaytap::recorder::testing
