#include "tools/fake_upstream/response_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/fake_upstream/realtime_events.h"

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

ResponseRequest Request(Pacing pacing, Fault fault = Fault::kNone) {
  ResponseRequest r;
  r.ids = {"sess_abc", "resp_def", "item_ghi", "conv_jkl"};
  r.shape.pacing = pacing;
  r.shape.audio = milliseconds(200);
  r.shape.delta = milliseconds(20);
  r.say = "Hello there, dear friend";
  r.fault = fault;
  return r;
}

std::vector<std::string> Types(const std::vector<PlanStep>& steps) {
  std::vector<std::string> out;
  for (const PlanStep& s : steps) {
    out.push_back(s.kind == PlanStep::Kind::kReset
                      ? "RESET"
                      : json::parse(s.payload)["type"].get<std::string>());
  }
  return out;
}

int Count(const std::vector<std::string>& types, const std::string& t) {
  return static_cast<int>(std::count(types.begin(), types.end(), t));
}

TEST(ResponsePlanTest, BurstIsTheLegacySequence) {
  auto steps = PlanResponse(Request(Pacing::kBurst));
  std::vector<std::string> expected = {"response.created"};
  for (int i = 0; i < 5; ++i) expected.push_back("response.output_audio.delta");
  expected.push_back("response.output_audio_transcript.delta");
  expected.push_back("response.output_audio_transcript.delta");
  expected.push_back("response.done");
  EXPECT_EQ(Types(steps), expected);
  for (const PlanStep& s : steps) EXPECT_EQ(s.delay, milliseconds(0));
  EXPECT_EQ(json::parse(steps[1].payload)["delta"].get<std::string>().size(), 6144u);
}

TEST(ResponsePlanTest, RealtimeHasTheFullGaSequenceAtTheAudioCadence) {
  auto steps = PlanResponse(Request(Pacing::kRealtime));
  auto types = Types(steps);
  ASSERT_GE(types.size(), 9u);
  EXPECT_EQ(
      std::vector<std::string>(types.begin(), types.begin() + 4),
      (std::vector<std::string>{"response.created", "rate_limits.updated",
                                "response.output_item.added", "response.content_part.added"}));
  EXPECT_EQ(std::vector<std::string>(types.end() - 5, types.end()),
            (std::vector<std::string>{
                "response.output_audio.done", "response.output_audio_transcript.done",
                "response.content_part.done", "response.output_item.done", "response.done"}));
  EXPECT_EQ(Count(types, "response.output_audio.delta"), 10);            // 200 ms / 20 ms
  EXPECT_EQ(Count(types, "response.output_audio_transcript.delta"), 4);  // one per word
  std::string transcript;
  int audio_seen = 0;
  for (const PlanStep& s : steps) {
    json j = json::parse(s.payload);
    if (j["type"] == "response.output_audio.delta") {
      // 20 ms of 24 kHz PCM16 = 960 bytes = 1280 base64 characters, a delta every 20 ms.
      EXPECT_EQ(j["delta"].get<std::string>().size(), 1280u);
      EXPECT_EQ(s.delay, milliseconds(audio_seen++ == 0 ? 0 : 20));
      EXPECT_EQ(j["response_id"], "resp_def");
      EXPECT_EQ(j["item_id"], "item_ghi");
    } else {
      EXPECT_EQ(s.delay, milliseconds(0)) << j["type"];
    }
    if (j["type"] == "response.output_audio_transcript.delta") transcript += j["delta"];
  }
  EXPECT_EQ(transcript, "Hello there, dear friend");
  json done = json::parse(steps.back().payload);
  EXPECT_EQ(done["response"]["status"], "completed");
  EXPECT_GT(done["response"]["usage"]["total_tokens"].get<int>(), 0);
  EXPECT_EQ(done["response"]["output"][0]["content"][0]["transcript"], "Hello there, dear friend");
  EXPECT_EQ(RealtimeDeltaCount({Pacing::kRealtime, milliseconds(1000), milliseconds(20)}), 50u);
  EXPECT_EQ(RealtimeDeltaCount({Pacing::kRealtime, milliseconds(5), milliseconds(20)}), 1u);
}

TEST(ResponsePlanTest, ResponseFailedCarriesAzuresServerErrorWithTheSessionId) {
  for (Pacing pacing : {Pacing::kBurst, Pacing::kRealtime}) {
    auto steps = PlanResponse(Request(pacing, Fault::kResponseFailed));
    auto types = Types(steps);
    EXPECT_EQ(types.front(), "response.created");
    EXPECT_EQ(types.back(), "response.done");
    json error = json::parse(steps.back().payload)["response"]["status_details"]["error"];
    EXPECT_EQ(error["type"], "server_error");
    EXPECT_TRUE(error["code"].is_null());
    EXPECT_THAT(error["message"].get<std::string>(),
                HasSubstr("(Please include the session ID sess_abc in your message.)"));
  }
  EXPECT_EQ(Types(PlanResponse(Request(Pacing::kBurst, Fault::kResponseFailed))).size(), 2u);
}

TEST(ResponsePlanTest, ErrorEventAndRateLimited) {
  auto error = PlanResponse(Request(Pacing::kRealtime, Fault::kErrorEvent));
  ASSERT_EQ(error.size(), 1u);
  json e = json::parse(error[0].payload);
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["error"]["type"], "server_error");
  EXPECT_THAT(e["error"]["message"].get<std::string>(), HasSubstr("sess_abc"));

  ResponseRequest r = Request(Pacing::kRealtime, Fault::kRateLimited);
  r.params.retry_after = milliseconds(2500);
  auto limited = PlanResponse(r);
  EXPECT_EQ(Types(limited),
            (std::vector<std::string>{"response.created", "rate_limits.updated", "response.done"}));
  json rl = json::parse(limited[1].payload)["rate_limits"];
  EXPECT_EQ(rl[1]["name"], "tokens");
  EXPECT_EQ(rl[1]["remaining"], 0);
  EXPECT_EQ(rl[1]["reset_seconds"], 2.5);
  json done = json::parse(limited[2].payload)["response"];
  EXPECT_EQ(done["status"], "failed");
  EXPECT_EQ(done["status_details"]["error"]["type"], "rate_limit_exceeded");
}

TEST(ResponsePlanTest, ResetStallAndDripChangeTheTimeline) {
  for (Pacing pacing : {Pacing::kBurst, Pacing::kRealtime}) {
    auto normal = Types(PlanResponse(Request(pacing)));
    auto reset = Types(PlanResponse(Request(pacing, Fault::kReset)));
    EXPECT_EQ(reset.back(), "RESET");
    EXPECT_EQ(Count(reset, "response.done"), 0);
    EXPECT_EQ(Count(reset, "response.output_audio.delta"),
              Count(normal, "response.output_audio.delta") / 2);

    ResponseRequest stall = Request(pacing, Fault::kStall);
    stall.params.stall = milliseconds(3000);
    auto stalled = PlanResponse(stall);
    EXPECT_EQ(Types(stalled), normal) << "a stall delays, it drops nothing";
    int stalls = 0;
    for (const PlanStep& s : stalled) stalls += s.delay >= milliseconds(3000) ? 1 : 0;
    EXPECT_EQ(stalls, 1);

    ResponseRequest drip = Request(pacing, Fault::kDrip);
    drip.params.drip = milliseconds(400);
    auto dripped = PlanResponse(drip);
    EXPECT_EQ(Types(dripped), normal);
    for (size_t i = 1; i < dripped.size(); ++i) EXPECT_GE(dripped[i].delay, milliseconds(400));
  }
}

TEST(ResponsePlanTest, TextOnlyResponsesCarryTextDeltasAndNoAudio) {
  ResponseRequest burst = Request(Pacing::kBurst);
  burst.text_only = true;
  burst.say = "OK then";
  std::vector<PlanStep> steps = PlanResponse(burst);
  EXPECT_EQ(Types(steps),
            (std::vector<std::string>{"response.created", "response.output_text.delta",
                                      "response.output_text.delta", "response.done"}));
  json done = json::parse(steps.back().payload);
  EXPECT_EQ(done["response"]["output_modalities"], json({"text"}));
  EXPECT_EQ(done["response"]["output"][0]["content"][0]["text"], "OK then");
  ResponseRequest paced = Request(Pacing::kRealtime);
  paced.text_only = true;
  std::vector<std::string> types = Types(PlanResponse(paced));
  EXPECT_EQ(Count(types, "response.output_audio.delta"), 0);
  EXPECT_EQ(Count(types, "response.output_text.delta"), 4);  // one per word
  EXPECT_EQ(Count(types, "response.output_text.done"), 1);
  ResponseRequest failed = Request(Pacing::kBurst, Fault::kResponseFailed);
  failed.text_only = true;
  json f = json::parse(PlanResponse(failed).back().payload);
  EXPECT_EQ(f["response"]["status"], "failed");
}

TEST(RealtimeEventsTest, SessionEndpointsCarryEphemeralKeys) {
  json ga = json::parse(ClientSecretJson("gpt-realtime"));
  EXPECT_TRUE(ga["value"].get<std::string>().starts_with("ek_"));
  EXPECT_GT(ga["expires_at"].get<int64_t>(), 0);
  EXPECT_TRUE(ga["session"]["id"].get<std::string>().starts_with("sess_"));
  EXPECT_EQ(ga["session"]["model"], "gpt-realtime");
  json preview = json::parse(PreviewSessionJson("gpt-4o-realtime-preview"));
  EXPECT_TRUE(preview["id"].get<std::string>().starts_with("sess_"));
  EXPECT_EQ(preview["object"], "realtime.session");
  EXPECT_TRUE(preview["client_secret"]["value"].get<std::string>().starts_with("ek_"));
  EXPECT_EQ(preview["model"], "gpt-4o-realtime-preview");
}

TEST(RealtimeEventsTest, ToneIsPcm16) {
  std::string pcm = Pcm16Tone(0, 960);
  ASSERT_EQ(pcm.size(), 960u);
  EXPECT_EQ(pcm[0], 0);  // sin(0)
  EXPECT_EQ(Pcm16Tone(240, 4), pcm.substr(480, 4)) << "continues across deltas";
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream
