// CorrelateFlatMessage reads the same facts as CorrelateMessage from every text that
// ParseFlatObject accepts (realtime events and random edits of them).
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "recorder/correlator.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder {
namespace {

std::string Describe(const MessageFacts& f) {
  std::string s = f.json ? "json" : "text";
  for (const std::string* v :
       {&f.type, &f.event_id, &f.response_id, &f.item_id, &f.previous_item_id, &f.session_id,
        &f.model, &f.error_type, &f.error_code, &f.error_event_id, &f.response_status,
        &f.status_error_type, &f.status_error_code}) {
    s += "|" + *v;
  }
  s += "|" + (f.audio_bytes ? std::to_string(*f.audio_bytes) : "-");
  s += "|" + (f.audio_ms ? std::to_string(*f.audio_ms) : "-");
  s += "|" + (f.failure ? std::to_string(static_cast<int>(*f.failure)) : "-");
  return s;
}

std::vector<std::string> Seeds() {
  const std::string audio = testing::Base64(300, 'q');
  const std::string small = testing::Base64(30, 'q');
  return {
      R"({"type":"input_audio_buffer.append","event_id":"evt_1","audio":")" + audio + "\"}",
      R"({"type":"input_audio_buffer.append","event_id":7,"audio":")" + small + "\"}",
      R"({"type":"response.output_audio.delta","event_id":"event_a","response_id":"resp_1",)"
      R"("item_id":"item_1","output_index":0,"content_index":0,"delta":")" +
          audio + "\"}",
      R"({"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"QUJD"})",
      R"({"type":"response.failed","event_id":"e","response_id":"resp_2"})",
      R"({"type":"response.done","response_id":"resp_3","previous_item_id":"p"})",
      R"({"type":"error","event_id":"evt_9","code":"x"})",
      R"({"type":"session.created","session":null,"item_id":true})",
  };
}

TEST(MessageFactsTest, FlatAndDomReadTheSameFacts) {
  static constexpr std::string_view kBytes = "{}[]\",:0123456789-.eEtrufalsn \\ab=";
  std::mt19937 rng(15);
  int compared = 0;
  for (const std::string& seed : Seeds()) {
    for (int round = 0; round < 400; ++round) {
      std::string t = seed;
      for (int edits = round == 0 ? 0 : 1 + static_cast<int>(rng() % 2); edits > 0; --edits) {
        const size_t at = rng() % t.size();
        if (rng() % 2) {
          t.erase(at, 1);
        } else {
          t.insert(at, 1, kBytes[rng() % kBytes.size()]);
        }
      }
      std::optional<redact::FlatObject> flat = redact::ParseFlatObject(t);
      if (round == 0) {
        ASSERT_TRUE(flat.has_value()) << t;
      }
      if (!flat) continue;
      const WsMessage msg = testing::Text(1, 1, WsDirection::kServerToClient, 1, t);
      EXPECT_EQ(Describe(CorrelateFlatMessage(msg, *flat)), Describe(CorrelateMessage(msg))) << t;
      ++compared;
    }
  }
  EXPECT_GT(compared, 300);
}

TEST(MessageFactsTest, AFlatAudioAppendHasItsSizeAndDuration) {
  const WsMessage msg =
      testing::Text(1, 1, WsDirection::kClientToServer, 1,
                    R"({"type":"input_audio_buffer.append","event_id":"evt_1","audio":")" +
                        testing::Base64(4800, 'k') + "\"}");
  std::optional<redact::FlatObject> flat = redact::ParseFlatObject(msg.payload);
  ASSERT_TRUE(flat.has_value());
  const MessageFacts f = CorrelateFlatMessage(msg, *flat);
  EXPECT_EQ(f.type, "input_audio_buffer.append");
  EXPECT_EQ(f.event_id, "evt_1");
  EXPECT_EQ(f.audio_bytes, 4800);
  EXPECT_EQ(f.audio_ms, 100.0);
}

}  // namespace
}  // namespace relaytap::recorder
