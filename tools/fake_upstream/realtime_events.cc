#include "tools/fake_upstream/realtime_events.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "base/str_cat.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;

json Envelope(const char* type) { return {{"type", type}, {"event_id", RandomId("event_")}}; }

json ItemIds(const char* type, const RealtimeResponseIds& ids) {
  json j = Envelope(type);
  j["response_id"] = ids.response_id;
  j["item_id"] = ids.item_id;
  j["output_index"] = 0;
  j["content_index"] = 0;
  return j;
}

json Item(const RealtimeResponseIds& ids, const char* status, const std::string* transcript,
          bool text = false) {
  json content = json::array();
  if (transcript && text) content.push_back({{"type", "output_text"}, {"text", *transcript}});
  if (transcript && !text)
    content.push_back({{"type", "output_audio"}, {"transcript", *transcript}});
  return {{"id", ids.item_id}, {"object", "realtime.item"}, {"type", "message"},
          {"status", status},  {"role", "assistant"},       {"content", content}};
}

json SessionObject(const std::string& model) {
  return {
      {"id", RandomId("sess_")},
      {"object", "realtime.session"},
      {"type", "realtime"},
      {"model", model},
      {"output_modalities", {"audio"}},
      {"instructions", "You are a helpful assistant."},
      {"audio",
       {{"input", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}}},
        {"output", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}, {"voice", "alloy"}}}}},
      {"expires_at", 0}};
}

}  // namespace

std::string RateLimitsUpdatedEvent(uint64_t remaining_requests, uint64_t remaining_tokens,
                                   double reset_seconds) {
  json j = Envelope("rate_limits.updated");
  j["rate_limits"] = json::array({{{"name", "requests"},
                                   {"limit", 20000},
                                   {"remaining", remaining_requests},
                                   {"reset_seconds", reset_seconds}},
                                  {{"name", "tokens"},
                                   {"limit", 800000},
                                   {"remaining", remaining_tokens},
                                   {"reset_seconds", reset_seconds}}});
  return j.dump();
}

std::string OutputItemAddedEvent(const RealtimeResponseIds& ids) {
  json j = Envelope("response.output_item.added");
  j["response_id"] = ids.response_id;
  j["output_index"] = 0;
  j["item"] = Item(ids, "in_progress", nullptr);
  return j.dump();
}

std::string ContentPartAddedEvent(const RealtimeResponseIds& ids, bool text) {
  json j = ItemIds("response.content_part.added", ids);
  j["part"] =
      text ? json{{"type", "text"}, {"text", ""}} : json{{"type", "audio"}, {"transcript", ""}};
  return j.dump();
}

std::string AudioDoneEvent(const RealtimeResponseIds& ids) {
  return ItemIds("response.output_audio.done", ids).dump();
}

std::string TranscriptDoneEvent(const RealtimeResponseIds& ids, const std::string& transcript) {
  json j = ItemIds("response.output_audio_transcript.done", ids);
  j["transcript"] = transcript;
  return j.dump();
}

std::string ContentPartDoneEvent(const RealtimeResponseIds& ids, const std::string& transcript,
                                 bool text) {
  json j = ItemIds("response.content_part.done", ids);
  j["part"] = text ? json{{"type", "text"}, {"text", transcript}}
                   : json{{"type", "audio"}, {"transcript", transcript}};
  return j.dump();
}

std::string OutputItemDoneEvent(const RealtimeResponseIds& ids, const std::string& transcript,
                                bool text) {
  json j = Envelope("response.output_item.done");
  j["response_id"] = ids.response_id;
  j["output_index"] = 0;
  j["item"] = Item(ids, "completed", &transcript, text);
  return j.dump();
}

std::string TextDeltaEvent(const RealtimeResponseIds& ids, const std::string& delta) {
  json j = ItemIds("response.output_text.delta", ids);
  j["delta"] = delta;
  return j.dump();
}

std::string TextDoneEvent(const RealtimeResponseIds& ids, const std::string& text) {
  json j = ItemIds("response.output_text.done", ids);
  j["text"] = text;
  return j.dump();
}

std::string ServerErrorMessage(const std::string& session_id) {
  return StrCat(
      "The server had an error while processing your request. Sorry about that! You can retry "
      "your request, or contact us through an Azure support request at: "
      "https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this error. (Please "
      "include the session ID ",
      session_id, " in your message.)");
}

std::string ServerErrorEvent(const std::string& session_id) {
  json j = Envelope("error");
  j["error"] = {{"type", "server_error"},
                {"code", nullptr},
                {"message", ServerErrorMessage(session_id)},
                {"param", nullptr},
                {"event_id", nullptr}};
  return j.dump();
}

std::string RateLimitedResponseDone(const RealtimeResponseIds& ids,
                                    std::chrono::milliseconds retry_after) {
  json j = json::parse(ResponseDoneEvent(ids, /*failed=*/true));
  j["response"]["status_details"]["error"] = {
      {"type", "rate_limit_exceeded"},
      {"code", "rate_limit_exceeded"},
      {"message", StrCat("Rate limit reached for requests. Please try again in ",
                         static_cast<double>(retry_after.count()) / 1000.0, "s.")}};
  return j.dump();
}

std::string Pcm16Tone(uint64_t first_sample, size_t length) {
  std::string out(length, '\0');
  for (size_t i = 0; i + 1 < length; i += 2) {
    double t = static_cast<double>(first_sample + i / 2) / 24000.0;
    auto v = static_cast<int16_t>(std::lround(6000 * std::sin(2 * std::numbers::pi * 440 * t)));
    out[i] = static_cast<char>(v & 0xff);
    out[i + 1] = static_cast<char>((v >> 8) & 0xff);
  }
  return out;
}

std::string ClientSecretJson(const std::string& model, int64_t ttl_s) {
  int64_t expires = NowSeconds() + ttl_s;
  json session = SessionObject(model);
  session["expires_at"] = expires;
  return json{{"value", RandomId("ek_", 32)}, {"expires_at", expires}, {"session", session}}.dump();
}

std::string PreviewSessionJson(const std::string& model) {
  int64_t now = NowSeconds();
  json session = SessionObject(model);
  session["expires_at"] = now + 1800;
  session["client_secret"] = {{"value", RandomId("ek_", 32)}, {"expires_at", now + 60}};
  return session.dump();
}

}  // namespace relaytap::tools::fake_upstream
