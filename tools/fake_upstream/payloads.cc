#include "tools/fake_upstream/payloads.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "base/str_cat.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;

constexpr char kModel[] = "gpt-4o-2024-11-20";
constexpr char kAnswer[] = "Hello from the fake upstream.";

std::string SseData(const json& j) { return StrCat("data: ", j.dump(), "\n\n"); }

std::string SseNamed(const std::string& event, const json& j) {
  return StrCat("event: ", event, "\ndata: ", j.dump(), "\n\n");
}

json ChatChunk(const std::string& id, int64_t created, const json& delta, const json& finish) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", kModel},
          {"system_fingerprint", "fp_b705f0c291"},
          {"choices", json::array({{{"index", 0},
                                    {"delta", delta},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish},
                                    {"content_filter_results", json::object()}}})}};
}

json ResponseObject(const std::string& id, const std::string& status, bool with_output) {
  json output = json::array();
  if (with_output) {
    output.push_back({{"type", "message"},
                      {"id", RandomId("msg_", 24)},
                      {"status", "completed"},
                      {"role", "assistant"},
                      {"content", json::array({{{"type", "output_text"},
                                                {"text", kAnswer},
                                                {"annotations", json::array()}}})}});
  }
  json usage = nullptr;
  if (with_output) usage = {{"input_tokens", 12}, {"output_tokens", 7}, {"total_tokens", 19}};
  return {{"id", id},         {"object", "response"}, {"created_at", NowSeconds()},
          {"status", status}, {"model", kModel},      {"output", output},
          {"usage", usage}};
}

json RealtimeUsage() {
  json zero_details = {{"text_tokens", 0}, {"audio_tokens", 0}, {"image_tokens", 0}};
  return {{"total_tokens", 412},
          {"input_tokens", 121},
          {"output_tokens", 291},
          {"input_token_details",
           {{"text_tokens", 121},
            {"audio_tokens", 0},
            {"image_tokens", 0},
            {"cached_tokens", 0},
            {"cached_tokens_details", zero_details}}},
          {"output_token_details", {{"text_tokens", 41}, {"audio_tokens", 250}}}};
}

}  // namespace

std::string EchoJson(const RequestRecord& record) {
  json headers = json::array();
  for (const auto& [name, value] : record.headers) headers.push_back({name, value});
  return json{{"method", record.method},
              {"target", record.target},
              {"headers", headers},
              {"body_bytes", record.body_bytes},
              {"body_sha256", record.body_sha256}}
      .dump();
}

std::string AzureErrorJson(unsigned status) {
  std::string code = std::to_string(status);
  std::string message = StrCat("The fake upstream answered with status ", status, ".");
  switch (status) {
    case 400:
      code = "BadRequest";
      message = "The request is invalid.";
      break;
    case 401:
      message =
          "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
          "provide a valid key for an active subscription and use a correct regional API endpoint "
          "for your resource.";
      break;
    case 404:
      code = "DeploymentNotFound";
      message = "The API deployment for this resource does not exist.";
      break;
    case 429:
      message =
          "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
          "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. "
          "Please retry after 2 seconds.";
      break;
    case 500:
      code = "InternalServerError";
      message = "The server had an error while processing your request.";
      break;
    case 503:
      code = "ServiceUnavailable";
      message = "The service is temporarily unable to process your request.";
      break;
    default:
      break;
  }
  return json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

std::string SseTestEvent(uint64_t index) {
  return SseData(json{{"i", index}, {"type", "response.output_text.delta"}});
}

std::string ChatCompletionJson() {
  return json{{"id", RandomId("chatcmpl-", 29)},
              {"object", "chat.completion"},
              {"created", NowSeconds()},
              {"model", kModel},
              {"system_fingerprint", "fp_b705f0c291"},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", kAnswer}}},
                                        {"logprobs", nullptr},
                                        {"finish_reason", "stop"}}})},
              {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 7}, {"total_tokens", 19}}}}
      .dump();
}

std::string ResponsesJson() {
  return ResponseObject(RandomId("resp_", 24), "completed", true).dump();
}

std::vector<std::string> ChatCompletionSseEvents() {
  std::string id = RandomId("chatcmpl-", 29);
  int64_t created = NowSeconds();
  std::vector<std::string> events;
  events.push_back(
      SseData(ChatChunk(id, created, {{"role", "assistant"}, {"content", ""}}, nullptr)));
  for (const char* piece : {"Hello", " from the", " fake upstream."}) {
    events.push_back(SseData(ChatChunk(id, created, {{"content", piece}}, nullptr)));
  }
  events.push_back(SseData(ChatChunk(id, created, json::object(), "stop")));
  events.push_back("data: [DONE]\n\n");
  return events;
}

std::vector<std::string> ResponsesSseEvents() {
  std::string id = RandomId("resp_", 24);
  std::string item = RandomId("msg_", 24);
  std::vector<std::string> events;
  int seq = 0;
  events.push_back(
      SseNamed("response.created", {{"type", "response.created"},
                                    {"sequence_number", seq++},
                                    {"response", ResponseObject(id, "in_progress", false)}}));
  for (const char* piece : {"Hello", " from the", " fake upstream."}) {
    events.push_back(SseNamed("response.output_text.delta", {{"type", "response.output_text.delta"},
                                                             {"sequence_number", seq++},
                                                             {"item_id", item},
                                                             {"output_index", 0},
                                                             {"content_index", 0},
                                                             {"delta", piece}}));
  }
  events.push_back(
      SseNamed("response.completed", {{"type", "response.completed"},
                                      {"sequence_number", seq++},
                                      {"response", ResponseObject(id, "completed", true)}}));
  return events;
}

std::string ErrorEvent(std::string_view error_type, std::string_view code, std::string_view message,
                       std::string_view param, std::string_view client_event_id) {
  auto or_null = [](std::string_view v) { return v.empty() ? json(nullptr) : json(v); };
  json error = {{"type", error_type},
                {"code", or_null(code)},
                {"message", message},
                {"param", or_null(param)},
                {"event_id", or_null(client_event_id)}};
  return json{{"type", "error"}, {"event_id", RandomId("event_")}, {"error", error}}.dump();
}

std::string InvalidEventError(const std::string& bad_type, const std::string& client_event_id) {
  return ErrorEvent("invalid_request_error", "invalid_value",
                    "Invalid value: '" + bad_type +
                        "'. Supported values are: 'session.update', "
                        "'input_audio_buffer.append', 'response.create', ...",
                    "type", client_event_id);
}

std::string SessionCreatedEvent(const std::string& session_id) {
  return json{{"type", "session.created"},
              {"event_id", RandomId("event_")},
              {"session",
               {{"id", session_id},
                {"object", "realtime.session"},
                {"type", "realtime"},
                {"model", "gpt-realtime"},
                {"expires_at", NowSeconds() + 1800},
                {"output_modalities", {"audio"}}}}}
      .dump();
}

std::string ResponseCreatedEvent(const RealtimeResponseIds& ids, bool text_only) {
  return json{
      {"type", "response.created"},
      {"event_id", RandomId("event_")},
      {"response",
       {{"object", "realtime.response"},
        {"id", ids.response_id},
        {"status", "in_progress"},
        {"status_details", nullptr},
        {"output", json::array()},
        {"conversation_id", ids.conversation_id},
        {"output_modalities", {text_only ? "text" : "audio"}},
        {"max_output_tokens", "inf"},
        {"audio",
         {{"output", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}, {"voice", "alloy"}}}}},
        {"usage", nullptr},
        {"metadata", nullptr}}}}
      .dump();
}

std::string AudioDeltaEvent(const RealtimeResponseIds& ids, const std::string& base64_audio) {
  return json{{"type", "response.output_audio.delta"},
              {"event_id", RandomId("event_")},
              {"response_id", ids.response_id},
              {"item_id", ids.item_id},
              {"output_index", 0},
              {"content_index", 0},
              {"delta", base64_audio}}
      .dump();
}

std::string TranscriptDeltaEvent(const RealtimeResponseIds& ids, const std::string& delta) {
  return json{{"type", "response.output_audio_transcript.delta"},
              {"event_id", RandomId("event_")},
              {"response_id", ids.response_id},
              {"item_id", ids.item_id},
              {"output_index", 0},
              {"content_index", 0},
              {"delta", delta}}
      .dump();
}

std::string ResponseDoneEvent(const RealtimeResponseIds& ids, bool failed,
                              const std::string& transcript, bool text_only) {
  json response = {{"object", "realtime.response"},
                   {"id", ids.response_id},
                   {"status", failed ? "failed" : "completed"},
                   {"status_details", nullptr},
                   {"output", json::array()},
                   {"conversation_id", ids.conversation_id},
                   {"output_modalities", {text_only ? "text" : "audio"}},
                   {"usage", RealtimeUsage()},
                   {"metadata", nullptr}};
  if (failed) {
    std::string message = StrCat(
        "The server had an error while processing your request. Sorry about that! You can retry "
        "your request, or contact us through an Azure support request at: "
        "https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this error. (Please "
        "include the session ID ",
        ids.session_id, " in your message.)");
    response["status_details"] = {
        {"type", "failed"},
        {"error", {{"type", "server_error"}, {"code", nullptr}, {"message", message}}}};
  } else {
    response["output"].push_back(
        {{"id", ids.item_id},
         {"object", "realtime.item"},
         {"type", "message"},
         {"status", "completed"},
         {"role", "assistant"},
         {"content",
          json::array({text_only ? json{{"type", "output_text"}, {"text", transcript}}
                                 : json{{"type", "output_audio"}, {"transcript", transcript}}})}});
  }
  return json{{"type", "response.done"}, {"event_id", RandomId("event_")}, {"response", response}}
      .dump();
}

}  // namespace relaytap::tools::fake_upstream
