// The fake upstream's conversation state: how each client event is answered, in the GA and
// preview dialects, including server VAD and errors carrying the client's event_id.
#include "tools/fake_upstream/conversation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/fake_upstream/dialect.h"
#include "tools/fake_upstream/realtime_events.h"
#include "tools/fake_upstream/speech_detector.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Types(const ClientAnswer& a) {
  std::vector<std::string> out;
  for (const std::string& e : a.events) out.push_back(json::parse(e)["type"]);
  return out;
}

json Only(const ClientAnswer& a) {
  EXPECT_EQ(a.events.size(), 1u);
  return a.events.empty() ? json() : json::parse(a.events[0]);
}

// `ms` of 24 kHz PCM16: the fake's 440 Hz tone, or silence.
std::string Audio(uint64_t ms, bool tone) {
  std::string pcm = tone ? Pcm16Tone(0, ms * 48) : std::string(ms * 48, '\0');
  return json{{"type", "input_audio_buffer.append"}, {"audio", Base64(pcm)}}.dump();
}

TEST(ConversationTest, SessionCreatedCarriesTheDialectsSessionObject) {
  json ga = json::parse(Conversation(Dialect::kGa, "sess_1", "gpt-realtime").SessionCreated());
  EXPECT_EQ(ga["type"], "session.created");
  EXPECT_EQ(ga["session"]["id"], "sess_1");
  EXPECT_EQ(ga["session"]["type"], "realtime");
  EXPECT_EQ(ga["session"]["output_modalities"], json({"audio"}));
  EXPECT_EQ(ga["session"]["audio"]["input"]["turn_detection"]["type"], "server_vad");
  json pv = json::parse(Conversation(Dialect::kPreview, "sess_2", "gpt-4o").SessionCreated());
  EXPECT_EQ(pv["session"]["modalities"], json({"text", "audio"}));
  EXPECT_EQ(pv["session"]["model"], "gpt-4o");
  EXPECT_EQ(pv["session"]["turn_detection"]["type"], "server_vad");
  EXPECT_FALSE(pv["session"].contains("output_modalities"));
}

TEST(ConversationTest, SessionUpdateIsAnsweredWithTheMergedSession) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  json update = {{"type", "session.update"},
                 {"event_id", "evt_1"},
                 {"session",
                  {{"type", "realtime"},
                   {"output_modalities", {"text"}},
                   {"instructions", "Be brief."},
                   {"tools", {{{"type", "mcp"}, {"authorization", "SECRET"}, {"headers", {}}}}}}}};
  json j = Only(c.Answer(update.dump(), true));
  EXPECT_EQ(j["type"], "session.updated");
  EXPECT_TRUE(j["event_id"].get<std::string>().starts_with("event_"));
  EXPECT_EQ(j["session"]["id"], "sess_1");
  EXPECT_EQ(j["session"]["output_modalities"], json({"text"}));
  EXPECT_EQ(j["session"]["instructions"], "Be brief.");
  EXPECT_EQ(j["session"]["audio"]["output"]["voice"], "alloy");  // untouched parts kept
  EXPECT_THAT(j.dump(), ::testing::Not(HasSubstr("SECRET")));
  // The session's modality now decides the response's.
  ClientAnswer r = c.Answer(R"({"type":"response.create"})", true);
  EXPECT_TRUE(r.respond);
  EXPECT_TRUE(r.text_only);
  EXPECT_TRUE(r.events.empty());
}

TEST(ConversationTest, GaSessionUpdateWithoutTypeIsAnErrorNamingTheClientEvent) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  json j = Only(c.Answer(R"({"type":"session.update","event_id":"evt_7","session":{}})", true));
  EXPECT_EQ(j["type"], "error");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["code"], "missing_required_parameter");
  EXPECT_EQ(j["error"]["param"], "session.type");
  EXPECT_EQ(j["error"]["event_id"], "evt_7");
  // The preview dialect has no session.type.
  Conversation p(Dialect::kPreview, "sess_2", "gpt-4o");
  EXPECT_EQ(Only(p.Answer(R"({"type":"session.update","session":{"modalities":["text"]}})",
                          true))["type"],
            "session.updated");
}

TEST(ConversationTest, BadModalitiesAreAnInvalidValue) {
  Conversation c(Dialect::kPreview, "sess_1", "gpt-4o");
  json j = Only(c.Answer(
      R"({"type":"session.update","event_id":"e","session":{"modalities":["video"]}})", true));
  EXPECT_EQ(j["error"]["code"], "invalid_value");
  EXPECT_EQ(j["error"]["param"], "session.modalities");
}

TEST(ConversationTest, ItemCreateIsAnsweredWithItemCreatedChainedToThePreviousItem) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  const char* msg = R"({"type":"conversation.item.create","item":{"type":"message","role":"user",)"
                    R"("content":[{"type":"input_text","text":"Say OK"}]}})";
  json first = Only(c.Answer(msg, true));
  EXPECT_EQ(first["type"], "conversation.item.created");
  EXPECT_TRUE(first["previous_item_id"].is_null());
  EXPECT_TRUE(first["item"]["id"].get<std::string>().starts_with("item_"));
  EXPECT_EQ(first["item"]["object"], "realtime.item");
  EXPECT_EQ(first["item"]["status"], "completed");
  EXPECT_EQ(first["item"]["content"][0]["text"], "Say OK");
  json second = Only(c.Answer(msg, true));
  EXPECT_EQ(second["previous_item_id"], first["item"]["id"]);
  json bad =
      Only(c.Answer(R"({"type":"conversation.item.create","event_id":"e9","item":{}})", true));
  EXPECT_EQ(bad["error"]["param"], "item.type");
  EXPECT_EQ(bad["error"]["event_id"], "e9");
}

TEST(ConversationTest, CommitIsAnsweredWithCommittedAndTheUserItem) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  EXPECT_TRUE(c.Answer(Audio(200, false), true).events.empty());  // appends are not acked
  ClientAnswer a = c.Answer(R"({"type":"input_audio_buffer.commit"})", true);
  EXPECT_THAT(Types(a), ElementsAre("input_audio_buffer.committed", "conversation.item.created"));
  json committed = json::parse(a.events[0]);
  json created = json::parse(a.events[1]);
  EXPECT_EQ(committed["item_id"], created["item"]["id"]);
  EXPECT_EQ(created["item"]["role"], "user");
  EXPECT_EQ(created["item"]["content"][0]["type"], "input_audio");
  EXPECT_FALSE(a.respond);
}

TEST(ConversationTest, CommitOfTooLittleAudioIsAnError) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  c.Answer(Audio(50, false), true);
  json j = Only(c.Answer(R"({"type":"input_audio_buffer.commit","event_id":"evt_c"})", true));
  EXPECT_EQ(j["error"]["code"], "input_audio_buffer_commit_empty");
  EXPECT_THAT(j["error"]["message"].get<std::string>(), HasSubstr("50.00ms"));
  EXPECT_EQ(j["error"]["event_id"], "evt_c");
  EXPECT_THAT(Types(c.Answer(R"({"type":"input_audio_buffer.clear"})", true)),
              ElementsAre("input_audio_buffer.cleared"));
}

TEST(ConversationTest, ServerVadFindsSpeechThenCommitsAndResponds) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  EXPECT_TRUE(c.Answer(Audio(400, false), true).events.empty());
  ClientAnswer speech = c.Answer(Audio(300, true), true);
  ASSERT_THAT(Types(speech), ElementsAre("input_audio_buffer.speech_started"));
  json started = json::parse(speech.events[0]);
  EXPECT_EQ(started["audio_start_ms"], 100);  // 400 ms in, minus 300 ms prefix padding
  ClientAnswer end = c.Answer(Audio(600, false), true);
  EXPECT_THAT(Types(end), ElementsAre("input_audio_buffer.speech_stopped",
                                      "input_audio_buffer.committed", "conversation.item.created"));
  json stopped = json::parse(end.events[0]);
  EXPECT_EQ(stopped["audio_end_ms"], 700);
  EXPECT_EQ(stopped["item_id"], started["item_id"]);
  EXPECT_EQ(json::parse(end.events[1])["item_id"], started["item_id"]);
  EXPECT_TRUE(end.respond);
  EXPECT_FALSE(end.text_only);
}

TEST(ConversationTest, WithoutTurnDetectionAudioIsOnlyBuffered) {
  Conversation c(Dialect::kPreview, "sess_1", "gpt-4o");
  EXPECT_EQ(Only(c.Answer(R"({"type":"session.update","session":{"turn_detection":null}})",
                          true))["session"]["turn_detection"],
            nullptr);
  EXPECT_TRUE(c.Answer(Audio(300, true), true).events.empty());
  EXPECT_TRUE(c.Answer(Audio(600, false), true).events.empty());
  EXPECT_THAT(Types(c.Answer(R"({"type":"input_audio_buffer.commit"})", true)),
              ElementsAre("input_audio_buffer.committed", "conversation.item.created"));
}

TEST(ConversationTest, MalformedAndUnknownEventsAreErrorsWithTheClientsEventId) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  json not_json = Only(c.Answer("not json {", true));
  EXPECT_EQ(not_json["error"]["code"], "invalid_json");
  EXPECT_TRUE(not_json["error"]["event_id"].is_null());
  json no_type = Only(c.Answer(R"({"event_id":"evt_n"})", true));
  EXPECT_EQ(no_type["error"]["message"], "The 'type' field is missing.");
  EXPECT_EQ(no_type["error"]["event_id"], "evt_n");
  json unknown = Only(c.Answer(R"({"type":"session.upgrade","event_id":"evt_u"})", true));
  EXPECT_EQ(unknown["error"]["code"], "invalid_value");
  EXPECT_EQ(unknown["error"]["param"], "type");
  EXPECT_EQ(unknown["error"]["event_id"], "evt_u");
  EXPECT_EQ(Only(c.Answer("\x01\x02", false))["error"]["code"], "invalid_event");
  json bad_audio =
      Only(c.Answer(R"({"type":"input_audio_buffer.append","event_id":"a","audio":"%%%"})", true));
  EXPECT_EQ(bad_audio["error"]["param"], "audio");
  json cancel = Only(c.Answer(R"({"type":"response.cancel","event_id":"x"})", true));
  EXPECT_EQ(cancel["error"]["code"], "response_cancel_not_active");
  EXPECT_TRUE(c.Answer(R"({"type":"close.request"})", true).close);
}

TEST(ConversationTest, ItemOperationsOnKnownAndUnknownItems) {
  Conversation c(Dialect::kGa, "sess_1", "gpt-realtime");
  c.Answer(R"({"type":"conversation.item.create","item":{"id":"item_a","type":"message"}})", true);
  EXPECT_EQ(Only(c.Answer(R"({"type":"conversation.item.retrieve","item_id":"item_a"})",
                          true))["item"]["id"],
            "item_a");
  EXPECT_EQ(
      Only(c.Answer(R"({"type":"conversation.item.delete","item_id":"item_a"})", true))["type"],
      "conversation.item.deleted");
  json gone = Only(
      c.Answer(R"({"type":"conversation.item.retrieve","item_id":"item_a","event_id":"r"})", true));
  EXPECT_EQ(gone["error"]["code"], "item_not_found");
  EXPECT_EQ(gone["error"]["event_id"], "r");
}

TEST(DialectTest, DetectedFromPathHeaderOrSubprotocol) {
  EXPECT_EQ(DialectOf("/openai/v1/realtime", "", false), Dialect::kGa);
  EXPECT_EQ(DialectOf("/v1/realtime", "", false), Dialect::kGa);
  EXPECT_EQ(DialectOf("/openai/realtime", "", false), Dialect::kPreview);
  EXPECT_EQ(DialectOf("/v1/realtime", "realtime=v1", false), Dialect::kPreview);
  EXPECT_EQ(DialectOf("/openai/v1/realtime", "", true), Dialect::kPreview);
}

TEST(DialectTest, PreviewNamesForGaEvents) {
  RealtimeResponseIds ids{"sess_1", "resp_1", "item_1", "conv_1"};
  json delta = json::parse(ToPreview(TextDeltaEvent(ids, "OK")));
  EXPECT_EQ(delta["type"], "response.text.delta");
  EXPECT_EQ(delta["delta"], "OK");
  json done = json::parse(ToPreview(OutputItemDoneEvent(ids, "OK", /*text=*/true)));
  EXPECT_EQ(done["item"]["content"][0]["type"], "text");
  EXPECT_EQ(json::parse(ToPreview(AudioDoneEvent(ids)))["type"], "response.audio.done");
  EXPECT_EQ(ToPreview("not json"), "not json");
}

TEST(SpeechDetectorTest, EdgesAcrossSplitAppends) {
  SpeechDetector vad(VadSettings{0.5, 0, 100});
  std::string tone = Pcm16Tone(0, 48 * 50);  // 50 ms
  EXPECT_TRUE(vad.Feed(std::string(48 * 35, '\0')).empty());
  std::vector<SpeechEdge> edges = vad.Feed(tone.substr(0, 1001));
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].kind, SpeechEdge::Kind::kStarted);
  EXPECT_EQ(edges[0].audio_ms, 30u);  // the window that holds the first voiced samples
  EXPECT_TRUE(vad.Feed(tone.substr(1001)).empty());
  EXPECT_TRUE(vad.in_speech());
  edges = vad.Feed(std::string(48 * 120, '\0'));
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].kind, SpeechEdge::Kind::kStopped);
  EXPECT_EQ(edges[0].audio_ms, 90u);
  EXPECT_EQ(vad.position_ms(), 200u);
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream
