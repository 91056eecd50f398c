// Canary suite: realistic Realtime events of both dialects (GA and beta) with the string "CANARY"
// planted in every content and secret position. Nothing containing it may survive redaction, while
// the structural fields needed to reconstruct a session must.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "redact/json_redactor.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using nlohmann::json;
using testing::Contains;

constexpr char kCanary[] = "CANARY";
const std::string kSk = "sk-CANARYabcdefghijklmnopqrstuv";
const std::string kEk = "ek_CANARYabcdefghijklmnop";
// Base64 text that literally contains the canary (C, A, N, R, Y are base64 letters).
const std::string kAudio = "CANARY" + std::string(8190, 'A');  // 8196 chars, 6147 bytes

std::string LongInstructions() {
  std::string s = "You are a helpful assistant. CANARY-instructions. ";
  while (s.size() < 2048) s += "Speak clearly, CANARY, and be brief. ";
  return s;
}

json McpTool() {
  return {{"type", "mcp"},
          {"server_label", "deepwiki"},
          {"server_url", "https://CANARY.example.com/mcp"},
          {"server_description", "CANARY server"},
          {"authorization", "Bearer CANARY-mcp-token"},
          {"headers", {{"X-Api-Key", "CANARY-header"}}},
          {"require_approval", "never"}};
}

json FunctionTool() {
  return {{"type", "function"},
          {"name", "get_weather"},
          {"description", "CANARY tool description"},
          {"parameters",
           {{"type", "object"},
            {"properties", {{"city", {{"type", "string"}, {"description", "CANARY param"}}}}}}}};
}

json Usage() {
  return {
      {"total_tokens", 321},
      {"input_tokens", 200},
      {"output_tokens", 121},
      {"input_token_details", {{"text_tokens", 50}, {"audio_tokens", 150}, {"cached_tokens", 64}}},
      {"output_token_details", {{"text_tokens", 21}, {"audio_tokens", 100}}}};
}

struct Case {
  std::string label;
  json event;
  std::vector<std::string> must_keep;  // substrings of the redacted output
};

std::vector<Case> GaEvents() {
  const std::string client_event_id = "my event CANARY 1";
  return {
      {"session.update",
       {{"type", "session.update"},
        {"event_id", client_event_id},
        {"session",
         {{"type", "realtime"},
          {"model", "gpt-realtime"},
          {"instructions", LongInstructions()},
          {"output_modalities", {"audio"}},
          {"audio",
           {{"input",
             {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}},
              {"transcription",
               {{"model", "gpt-4o-transcribe"}, {"prompt", "CANARY prompt"}, {"language", "en"}}},
              {"turn_detection",
               {{"type", "server_vad"}, {"threshold", 0.5}, {"silence_duration_ms", 500}}}}},
            {"output", {{"voice", "marin"}, {"format", {{"type", "audio/pcm"}}}}}}},
          {"tools", {FunctionTool(), McpTool()}},
          {"prompt", {{"id", "pmpt_123"}, {"variables", {{"city", "CANARY var"}}}}},
          {"tracing",
           {{"workflow_name", "CANARY wf"},
            {"group_id", "CANARY g"},
            {"metadata", {{"k", kCanary}}}}},
          {"max_output_tokens", 4096}}}},
       {R"("type":"session.update")", R"("model":"gpt-realtime")", R"("rate":24000)",
        R"("voice":"marin")", R"("name":"get_weather")", R"("server_label":"deepwiki")",
        R"("silence_duration_ms":500)", R"("max_output_tokens":4096)",
        R"("output_modalities":["audio"])"}},
      {"input_audio_buffer.append",
       {{"type", "input_audio_buffer.append"}, {"event_id", "evt_1"}, {"audio", kAudio}},
       {R"("event_id":"evt_1")", R"("redacted":"audio","bytes":6147)"}},
      {"conversation.item.create (message)",
       {{"type", "conversation.item.create"},
        {"previous_item_id", "item_prev1"},
        {"item",
         {{"id", "item_user1"},
          {"type", "message"},
          {"role", "user"},
          {"content",
           {{{"type", "input_text"}, {"text", "CANARY user said"}},
            {{"type", "input_audio"}, {"audio", kAudio}, {"transcript", "CANARY heard"}},
            {{"type", "input_image"},
             {"image_url", "data:image/png;base64,CANARY"},
             {"detail", "auto"}}}}}}},
       {R"("id":"item_user1")", R"("role":"user")", R"("type":"input_audio")", R"("detail":"auto")",
        R"("previous_item_id":"item_prev1")"}},
      {"conversation.item.create (function_call_output)",
       {{"type", "conversation.item.create"},
        {"item",
         {{"type", "function_call_output"},
          {"call_id", "call_abc"},
          {"output", R"({"t":"CANARY"})"}}}},
       {R"("call_id":"call_abc")", R"("type":"function_call_output")"}},
      {"response.create",
       {{"type", "response.create"},
        {"response",
         {{"instructions", "CANARY per-response"},
          {"metadata", {{"topic", "CANARY topic"}, {"n", 1}}},
          {"prompt", {{"id", "pmpt_1"}, {"variables", {{"x", "CANARY"}}}}},
          {"tools", {FunctionTool(), McpTool()}},
          {"output_modalities", {"text"}},
          {"input",
           {{{"type", "message"},
             {"role", "user"},
             {"content", {{{"type", "input_text"}, {"text", "CANARY typed"}}}}}}}}}},
       {R"("output_modalities":["text"])", R"("type":"input_text")"}},
      {"session.created",
       {{"type", "session.created"},
        {"event_id", "event_C9G5RJeJ2gF77mV7f2B1j"},
        {"session",
         {{"id", "sess_C9G5QPteg4UIbotdKLoYQ"},
          {"object", "realtime.session"},
          {"type", "realtime"},
          {"expires_at", 1756324625},
          {"instructions", LongInstructions()},
          {"tools", {McpTool()}}}}},
       {R"("id":"sess_C9G5QPteg4UIbotdKLoYQ")", R"("event_id":"event_C9G5RJeJ2gF77mV7f2B1j")",
        R"("expires_at":1756324625)", R"("object":"realtime.session")"}},
      {"response.output_audio.delta",
       {{"type", "response.output_audio.delta"},
        {"event_id", "event_a1"},
        {"response_id", "resp_1"},
        {"item_id", "item_1"},
        {"output_index", 0},
        {"content_index", 0},
        {"delta", kAudio}},
       {R"("response_id":"resp_1")", R"("item_id":"item_1")", R"("bytes":6147)",
        R"("content_index":0)"}},
      {"response.output_audio_transcript.delta",
       {{"type", "response.output_audio_transcript.delta"},
        {"response_id", "resp_1"},
        {"delta", "CANARY words"}},
       {R"("response_id":"resp_1")"}},
      {"response.output_text.delta",
       {{"type", "response.output_text.delta"}, {"delta", "CANARY text"}},
       {R"("type":"response.output_text.delta")"}},
      {"response.function_call_arguments.done",
       {{"type", "response.function_call_arguments.done"},
        {"call_id", "call_abc"},
        {"name", "get_weather"},
        {"arguments", R"({"city":"CANARY"})"}},
       {R"("call_id":"call_abc")", R"("name":"get_weather")"}},
      {"input_audio_transcription.completed",
       {{"type", "conversation.item.input_audio_transcription.completed"},
        {"item_id", "item_2"},
        {"transcript", "CANARY transcript"},
        {"logprobs", {{{"token", "CANARY"}, {"logprob", -0.1}, {"bytes", {67, 65}}}}},
        {"usage", {{"type", "tokens"}, {"input_tokens", 10}, {"total_tokens", 15}}}},
       {R"("input_tokens":10)", R"("total_tokens":15)", R"("type":"tokens")"}},
      {"input_audio_buffer.dtmf_event_received",
       {{"type", "input_audio_buffer.dtmf_event_received"},
        {"event", "CANARY5"},
        {"received_at", 1700000000}},
       {R"("received_at":1700000000)"}},
      {"response.done",
       {{"type", "response.done"},
        {"event_id", "event_done1"},
        {"response",
         {{"id", "resp_1"},
          {"object", "realtime.response"},
          {"status", "failed"},
          {"status_details",
           {{"type", "failed"},
            {"error",
             {{"type", "server_error"},
              {"code", "server_error"},
              {"message", "Failed for " + kSk}}}}},
          {"conversation_id", "conv_1"},
          {"metadata", {{"k", "CANARY"}}},
          {"output",
           {{{"id", "item_3"},
             {"type", "function_call"},
             {"call_id", "call_abc"},
             {"name", "get_weather"},
             {"arguments", "CANARY args"},
             {"status", "completed"}},
            {{"id", "item_4"},
             {"type", "mcp_call"},
             {"server_label", "deepwiki"},
             {"arguments", "CANARY"},
             {"output", "CANARY out"}},
            {{"id", "item_5"},
             {"type", "message"},
             {"role", "assistant"},
             {"content", {{{"type", "output_audio"}, {"transcript", "CANARY said"}}}}}}},
          {"usage", Usage()}}}},
       {R"("id":"resp_1")", R"("status":"failed")", R"("type":"server_error")",
        R"("code":"server_error")", R"("conversation_id":"conv_1")", R"("total_tokens":321)",
        R"("cached_tokens":64)", R"("id":"item_3")", R"("call_id":"call_abc")",
        R"("message":"Failed for [hmac:)"}},
      {"error",
       {{"type", "error"},
        {"event_id", "event_err1"},
        {"error",
         {{"type", "invalid_request_error"},
          {"code", "invalid_api_key"},
          {"message", "Incorrect API key provided: " + kSk + ". Try Bearer CANARY-bearer."},
          {"param", nullptr},
          {"event_id", client_event_id}}}},
       {R"("type":"invalid_request_error")", R"("code":"invalid_api_key")",
        R"("message":"Incorrect API key provided: [hmac:)", R"("param":null)"}},
      {"rate_limits.updated",
       {{"type", "rate_limits.updated"},
        {"rate_limits",
         {{{"name", "requests"}, {"limit", 20000}, {"remaining", 19999}, {"reset_seconds", 0.003}},
          {{"name", "tokens"}, {"limit", 50000}, {"remaining", 49950}, {"reset_seconds", 60}}}}},
       {R"("name":"requests")", R"("remaining":19999)", R"("reset_seconds":0.003)",
        R"("limit":50000)"}},
      {"client_secrets response (HTTP body)",
       {{"value", kEk},
        {"expires_at", 1756310470},
        {"session",
         {{"id", "sess_C9"},
          {"type", "realtime"},
          {"instructions", "CANARY"},
          {"client_secret", {{"value", kEk}, {"expires_at", 1756310470}}}}}},
       {R"("expires_at":1756310470)", R"("id":"sess_C9")"}},
  };
}

std::vector<Case> BetaEvents() {
  return {
      {"beta session.update",
       {{"type", "session.update"},
        {"session",
         {{"modalities", {"text", "audio"}},
          {"instructions", LongInstructions()},
          {"voice", "alloy"},
          {"input_audio_format", "pcm16"},
          {"input_audio_transcription", {{"model", "whisper-1"}, {"prompt", "CANARY"}}},
          {"tools", {FunctionTool()}},
          {"temperature", 0.8},
          {"max_response_output_tokens", "inf"}}}},
       {R"("modalities":["text","audio"])", R"("voice":"alloy")", R"("input_audio_format":"pcm16")",
        R"("temperature":0.8)", R"("model":"whisper-1")"}},
      {"beta response.audio.delta",
       {{"type", "response.audio.delta"},
        {"event_id", "event_b1"},
        {"response_id", "resp_b"},
        {"delta", kAudio}},
       {R"("bytes":6147)", R"("response_id":"resp_b")"}},
      {"beta response.audio_transcript.delta",
       {{"type", "response.audio_transcript.delta"}, {"delta", "CANARY"}},
       {}},
      {"beta response.text.delta", {{"type", "response.text.delta"}, {"delta", "CANARY"}}, {}},
      {"beta conversation.item.created with inline audio",
       {{"type", "conversation.item.created"},
        {"item",
         {{"id", "msg_1"},
          {"object", "realtime.item"},
          {"type", "message"},
          {"role", "assistant"},
          {"content", {{{"type", "audio"}, {"audio", kAudio}, {"transcript", "CANARY"}}}}}}},
       {R"("id":"msg_1")", R"("object":"realtime.item")", R"("type":"audio")", R"("bytes":6147)"}},
      {"beta transcription_session.updated",
       {{"type", "transcription_session.updated"},
        {"session",
         {{"id", "sess_t"},
          {"client_secret", {{"value", kEk}, {"expires_at", 1700000000}}},
          {"input_audio_transcription", {{"prompt", "CANARY"}, {"language", "en"}}}}}},
       {R"("id":"sess_t")", R"("language":"en")"}},
      {"beta /sessions response",
       {{"id", "sess_b"},
        {"object", "realtime.session"},
        {"client_secret", {{"value", kEk}, {"expires_at", 1700000000}}}},
       {R"("id":"sess_b")", R"("expires_at":1700000000)"}},
  };
}

void CheckCases(const std::vector<Case>& cases) {
  const Policy& policy = testing::DefaultPolicy();
  const Fingerprinter& fp = testing::TestFingerprinter();
  for (const Case& c : cases) {
    const std::string out = RedactJsonText(c.event.dump(), policy, fp);
    EXPECT_FALSE(Contains(out, kCanary)) << c.label << " leaked: " << out.substr(0, 4000);
    EXPECT_FALSE(Contains(out, "ek_")) << c.label;
    EXPECT_FALSE(json::parse(out, nullptr, false).is_discarded()) << c.label;
    for (const std::string& keep : c.must_keep) {
      EXPECT_TRUE(Contains(out, keep)) << c.label << " lost " << keep << " in " << out;
    }
  }
}

TEST(CanaryTest, GaEventsLeakNothingAndKeepStructure) { CheckCases(GaEvents()); }

TEST(CanaryTest, BetaEventsLeakNothingAndKeepStructure) { CheckCases(BetaEvents()); }

TEST(CanaryTest, ClientEventIdWithSpacesIsFingerprinted) {
  const json e = {{"type", "response.cancel"}, {"event_id", "my event CANARY 1"}};
  const json out =
      json::parse(RedactJson(e, testing::DefaultPolicy(), testing::TestFingerprinter()));
  EXPECT_EQ(out["event_id"]["fp"], testing::TestFingerprinter().Of("my event CANARY 1"));
}

TEST(CanaryTest, StatsCountWhatWasHidden) {
  RedactStats stats;
  RedactJsonText(GaEvents()[0].event.dump(), testing::DefaultPolicy(), testing::TestFingerprinter(),
                 &stats);
  EXPECT_GT(stats.strings_kept, 5u);
  EXPECT_GT(stats.strings_redacted, 5u);
  EXPECT_GE(stats.opaque_values, 5u);  // parameters, authorization, headers, prompt, tracing
  RedactStats audio;
  RedactJsonText(GaEvents()[1].event.dump(), testing::DefaultPolicy(), testing::TestFingerprinter(),
                 &audio);
  EXPECT_EQ(audio.audio_values, 1u);
  EXPECT_EQ(audio.audio_bytes, 6147u);
}

// Guards the suite itself: with a policy that allows the content keys, the canaries do show up,
// so the assertions above are able to fail.
TEST(CanaryTest, SuiteDetectsALeakyPolicy) {
  Policy leaky = testing::DefaultPolicy();
  // Free text is kept only under scrub keys (allow keys keep tokens): a policy that scrubs the
  // content keys instead of hiding them leaks.
  ASSERT_TRUE(leaky.Extend(R"({"scrub_keys": ["text", "delta", "transcript"]})").ok());
  const Fingerprinter& fp = testing::TestFingerprinter();
  EXPECT_TRUE(Contains(RedactJsonText(GaEvents()[2].event.dump(), leaky, fp), kCanary));
  EXPECT_TRUE(Contains(RedactJsonText(GaEvents()[7].event.dump(), leaky, fp), kCanary));
  Policy no_opaque = *Policy::Parse(R"({"allow_keys": ["X-Api-Key"]})");
  EXPECT_TRUE(Contains(RedactJson(McpTool(), no_opaque, fp), kCanary));
}

}  // namespace
}  // namespace relaytap::redact
