#include "tools/fake_upstream/conversation.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <utility>

#include "base/str_cat.h"
#include "tools/fake_upstream/payloads.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;

constexpr size_t kMaxItems = 1000;
constexpr uint64_t kPcmBytesPerMs = 48;  // 24 kHz PCM16 mono
constexpr uint64_t kMinCommitMs = 100;

json Envelope(std::string_view type) { return {{"type", type}, {"event_id", RandomId("event_")}}; }

json ServerVad() {
  return {{"type", "server_vad"},       {"threshold", 0.5},           {"prefix_padding_ms", 300},
          {"silence_duration_ms", 500}, {"idle_timeout_ms", nullptr}, {"create_response", true},
          {"interrupt_response", true}};
}

json GaSession(const std::string& id, const std::string& model) {
  json format = {{"type", "audio/pcm"}, {"rate", 24000}};
  return {{"id", id},
          {"object", "realtime.session"},
          {"type", "realtime"},
          {"model", model},
          {"output_modalities", {"audio"}},
          {"instructions", ""},
          {"audio",
           {{"input",
             {{"format", format},
              {"transcription", nullptr},
              {"noise_reduction", nullptr},
              {"turn_detection", ServerVad()}}},
            {"output", {{"format", format}, {"voice", "alloy"}, {"speed", 1.0}}}}},
          {"tools", json::array()},
          {"tool_choice", "auto"},
          {"max_output_tokens", "inf"},
          {"tracing", nullptr},
          {"truncation", "auto"},
          {"prompt", nullptr},
          {"expires_at", NowSeconds() + 1800},
          {"include", nullptr}};
}

json PreviewSession(const std::string& id, const std::string& model) {
  return {{"id", id},
          {"object", "realtime.session"},
          {"model", model},
          {"modalities", {"text", "audio"}},
          {"instructions", ""},
          {"voice", "alloy"},
          {"input_audio_format", "pcm16"},
          {"output_audio_format", "pcm16"},
          {"input_audio_transcription", nullptr},
          {"turn_detection", ServerVad()},
          {"tools", json::array()},
          {"tool_choice", "auto"},
          {"temperature", 0.8},
          {"max_response_output_tokens", "inf"},
          {"expires_at", NowSeconds() + 1800}};
}

// Secrets the service never reflects: MCP tool credentials.
void StripSecrets(json& session) {
  if (!session.contains("tools") || !session["tools"].is_array()) return;
  for (json& tool : session["tools"]) {
    if (!tool.is_object()) continue;
    tool.erase("authorization");
    tool.erase("headers");
  }
}

// `patch` merged into `target`: objects recursively, anything else replaced.
void Merge(json& target, const json& patch) {
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_object() && target.contains(it.key()) && target[it.key()].is_object()) {
      Merge(target[it.key()], it.value());
    } else {
      target[it.key()] = it.value();
    }
  }
}

// A number or boolean field, or `fallback` when absent or of another type (never throws).
template <class T>
T FieldOr(const json& j, const char* key, T fallback) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  const json& v = j[key];
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean() ? v.get<bool>() : fallback;
  } else {
    return v.is_number() ? v.get<T>() : fallback;
  }
}

std::optional<std::string> StringField(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return std::nullopt;
}

}  // namespace

Conversation::Conversation(Dialect dialect, std::string session_id, std::string model)
    : dialect_(dialect),
      session_id_(std::move(session_id)),
      session_(dialect == Dialect::kGa ? GaSession(session_id_, model)
                                       : PreviewSession(session_id_, model)) {}

std::string Conversation::SessionCreated() const {
  json j = Envelope("session.created");
  j["session"] = session_;
  return j.dump();
}

ClientAnswer Conversation::Answer(std::string_view message, bool text) {
  ClientAnswer answer;
  event_id_.clear();
  if (!text) {
    Error(answer, "invalid_event", "Binary messages are not supported; send JSON text frames.");
    return answer;
  }
  json event = json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.is_object()) {
    Error(answer, "invalid_json", "The message could not be parsed as a JSON object.");
    return answer;
  }
  event_id_ = StringField(event, "event_id").value_or("");
  std::optional<std::string> type = StringField(event, "type");
  if (!type) {
    Error(answer, "invalid_event", "The 'type' field is missing.", "type");
    return answer;
  }
  Dispatch(*type, event, answer);
  return answer;
}

void Conversation::Dispatch(const std::string& type, const json& event, ClientAnswer& answer) {
  if (type == "session.update") return SessionUpdate(event, answer);
  if (type == "conversation.item.create") return ItemCreate(event, answer);
  if (type == "input_audio_buffer.append") return Append(event, answer);
  if (type == "input_audio_buffer.commit") return Commit(event, answer);
  if (type == "input_audio_buffer.clear") return Clear(answer);
  if (type == "response.create") return ResponseCreate(event, answer);
  if (type == "response.cancel") {
    // Responses are sent whole before the next client event is read: none is ever active.
    return Error(answer, "response_cancel_not_active",
                 "Cancellation failed: no active response found");
  }
  if (type == "conversation.item.retrieve" || type == "conversation.item.delete" ||
      type == "conversation.item.truncate") {
    return ItemOp(type, event, answer);
  }
  if (type == "close.request") {
    answer.close = true;
    return;
  }
  answer.events.push_back(InvalidEventError(type, event_id_));
}

void Conversation::SessionUpdate(const json& event, ClientAnswer& answer) {
  if (!event.contains("session") || !event["session"].is_object()) {
    return Error(answer, "missing_required_parameter", "Missing required parameter: 'session'.",
                 "session");
  }
  json patch = event["session"];
  if (dialect_ == Dialect::kGa && !patch.contains("type")) {
    return Error(answer, "missing_required_parameter",
                 "Missing required parameter: 'session.type'.", "session.type");
  }
  const char* modalities_key = dialect_ == Dialect::kGa ? "output_modalities" : "modalities";
  if (patch.contains(modalities_key)) {
    const json& m = patch[modalities_key];
    bool valid = m.is_array() && !m.empty() && std::all_of(m.begin(), m.end(), [](const json& v) {
                   return v == "text" || v == "audio";
                 });
    if (!valid) {
      return Error(answer, "invalid_value",
                   StrCat("Invalid value for 'session.", modalities_key,
                          "'. Supported values are: 'text' and 'audio'."),
                   StrCat("session.", modalities_key));
    }
  }
  patch.erase("id");
  patch.erase("object");
  Merge(session_, patch);
  StripSecrets(session_);
  const json& td = TurnDetection();
  if (td.is_object()) {
    VadSettings s;
    s.threshold = FieldOr(td, "threshold", 0.5);
    s.prefix_padding_ms = FieldOr(td, "prefix_padding_ms", uint64_t{300});
    s.silence_duration_ms = FieldOr(td, "silence_duration_ms", uint64_t{500});
    vad_.set_settings(s);
  }
  json j = Envelope("session.updated");
  j["session"] = session_;
  answer.events.push_back(j.dump());
}

void Conversation::ItemCreate(const json& event, ClientAnswer& answer) {
  if (!event.contains("item") || !event["item"].is_object()) {
    return Error(answer, "missing_required_parameter", "Missing required parameter: 'item'.",
                 "item");
  }
  json item = event["item"];
  std::string item_type = StringField(item, "type").value_or("");
  if (item_type != "message" && item_type != "function_call" &&
      item_type != "function_call_output") {
    return Error(answer, "invalid_value",
                 "Invalid value for 'item.type'. Supported values are: 'message', "
                 "'function_call' and 'function_call_output'.",
                 "item.type");
  }
  if (!StringField(item, "id")) item["id"] = RandomId("item_");
  item["object"] = "realtime.item";
  item["status"] = "completed";
  json j = Envelope("conversation.item.created");
  j["previous_item_id"] = last_item_id_.empty() ? json(nullptr) : json(last_item_id_);
  j["item"] = item;
  RememberItem(item);
  answer.events.push_back(j.dump());
}

void Conversation::Append(const json& event, ClientAnswer& answer) {
  std::optional<std::string> audio = StringField(event, "audio");
  if (!audio) {
    return Error(answer, "missing_required_parameter", "Missing required parameter: 'audio'.",
                 "audio");
  }
  std::optional<std::string> pcm = Base64Decode(*audio);
  if (!pcm) {
    return Error(answer, "invalid_value", "Invalid 'audio'. Expected base64-encoded audio.",
                 "audio");
  }
  buffer_bytes_ += pcm->size();
  // The service does not acknowledge an append; only server VAD speaks up.
  if (!TurnDetection().is_object()) return;
  for (const SpeechEdge& edge : vad_.Feed(*pcm)) {
    if (edge.kind == SpeechEdge::Kind::kStarted) {
      speech_item_id_ = RandomId("item_");
      json j = Envelope("input_audio_buffer.speech_started");
      j["audio_start_ms"] = edge.audio_ms;
      j["item_id"] = speech_item_id_;
      answer.events.push_back(j.dump());
      continue;
    }
    json j = Envelope("input_audio_buffer.speech_stopped");
    j["audio_end_ms"] = edge.audio_ms;
    j["item_id"] = speech_item_id_;
    answer.events.push_back(j.dump());
    CommitBuffer(std::move(speech_item_id_), answer);
    speech_item_id_.clear();
    if (FieldOr(TurnDetection(), "create_response", true)) {
      answer.respond = true;
      answer.text_only =
          TextOnly(session_[dialect_ == Dialect::kGa ? "output_modalities" : "modalities"]);
    }
  }
}

void Conversation::Commit(const json& event, ClientAnswer& answer) {
  (void)event;
  const uint64_t ms = buffer_bytes_ / kPcmBytesPerMs;
  if (ms < kMinCommitMs) {
    char have[32];
    std::snprintf(have, sizeof(have), "%.2f",
                  static_cast<double>(buffer_bytes_) / static_cast<double>(kPcmBytesPerMs));
    return Error(answer, "input_audio_buffer_commit_empty",
                 StrCat("Error committing input audio buffer: buffer too small. Expected at "
                        "least 100ms of audio, but buffer only has ",
                        have, "ms of audio."));
  }
  std::string id = speech_item_id_.empty() ? RandomId("item_") : std::move(speech_item_id_);
  speech_item_id_.clear();
  vad_.Reset();
  CommitBuffer(std::move(id), answer);
}

void Conversation::CommitBuffer(std::string item_id, ClientAnswer& answer) {
  json committed = Envelope("input_audio_buffer.committed");
  committed["previous_item_id"] = last_item_id_.empty() ? json(nullptr) : json(last_item_id_);
  committed["item_id"] = item_id;
  answer.events.push_back(committed.dump());
  json item = {{"id", item_id},
               {"object", "realtime.item"},
               {"type", "message"},
               {"status", "completed"},
               {"role", "user"},
               {"content", json::array({{{"type", "input_audio"}, {"transcript", nullptr}}})}};
  json created = Envelope("conversation.item.created");
  created["previous_item_id"] = committed["previous_item_id"];
  created["item"] = item;
  RememberItem(item);
  answer.events.push_back(created.dump());
  buffer_bytes_ = 0;
}

void Conversation::Clear(ClientAnswer& answer) {
  buffer_bytes_ = 0;
  speech_item_id_.clear();
  vad_.Reset();
  answer.events.push_back(Envelope("input_audio_buffer.cleared").dump());
}

void Conversation::ResponseCreate(const json& event, ClientAnswer& answer) {
  const char* key = dialect_ == Dialect::kGa ? "output_modalities" : "modalities";
  json modalities = session_[key];
  if (event.contains("response") && event["response"].is_object() &&
      event["response"].contains(key)) {
    modalities = event["response"][key];
  }
  answer.respond = true;
  answer.text_only = TextOnly(modalities);
}

void Conversation::ItemOp(const std::string& type, const json& event, ClientAnswer& answer) {
  std::string item_id = StringField(event, "item_id").value_or("");
  auto it = std::find_if(items_.begin(), items_.end(),
                         [&](const json& item) { return item["id"] == item_id; });
  if (it == items_.end()) {
    return Error(answer, "item_not_found", StrCat("Item with item_id '", item_id, "' not found."),
                 "item_id");
  }
  if (type == "conversation.item.retrieve") {
    json j = Envelope("conversation.item.retrieved");
    j["item"] = *it;
    answer.events.push_back(j.dump());
  } else if (type == "conversation.item.delete") {
    items_.erase(it);
    json j = Envelope("conversation.item.deleted");
    j["item_id"] = item_id;
    answer.events.push_back(j.dump());
  } else {
    json j = Envelope("conversation.item.truncated");
    j["item_id"] = item_id;
    j["content_index"] = FieldOr(event, "content_index", 0);
    j["audio_end_ms"] = FieldOr(event, "audio_end_ms", 0);
    answer.events.push_back(j.dump());
  }
}

void Conversation::Error(ClientAnswer& answer, std::string_view code, std::string message,
                         std::string_view param) const {
  answer.events.push_back(ErrorEvent("invalid_request_error", code, message, param, event_id_));
}

nlohmann::json& Conversation::TurnDetection() {
  if (dialect_ == Dialect::kPreview) return session_["turn_detection"];
  return session_["audio"]["input"]["turn_detection"];
}

bool Conversation::TextOnly(const json& modalities) const {
  return modalities.is_array() && modalities.size() == 1 && modalities[0] == "text";
}

void Conversation::RememberItem(const json& item) {
  last_item_id_ = item["id"].get<std::string>();
  if (items_.size() >= kMaxItems) items_.erase(items_.begin());
  items_.push_back(item);
}

}  // namespace relaytap::tools::fake_upstream
