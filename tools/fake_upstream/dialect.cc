#include "tools/fake_upstream/dialect.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kTypes = {{
    {"response.output_audio.delta", "response.audio.delta"},
    {"response.output_audio.done", "response.audio.done"},
    {"response.output_audio_transcript.delta", "response.audio_transcript.delta"},
    {"response.output_audio_transcript.done", "response.audio_transcript.done"},
    {"response.output_text.delta", "response.text.delta"},
    {"response.output_text.done", "response.text.done"},
}};

// Content part types: GA `output_audio` / `output_text` are `audio` / `text` in preview.
void RenameParts(json& content) {
  if (!content.is_array()) return;
  for (json& part : content) {
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) continue;
    if (part["type"] == "output_audio") part["type"] = "audio";
    if (part["type"] == "output_text") part["type"] = "text";
  }
}

void RenameItem(json& item) {
  if (item.is_object() && item.contains("content")) RenameParts(item["content"]);
}

void RenameResponse(json& response) {
  if (!response.is_object()) return;
  if (response.contains("output_modalities")) {
    response["modalities"] = std::move(response["output_modalities"]);
    response.erase("output_modalities");
  }
  if (response.contains("output") && response["output"].is_array()) {
    for (json& item : response["output"]) RenameItem(item);
  }
}

}  // namespace

Dialect DialectOf(std::string_view path, std::string_view openai_beta_header,
                  bool beta_subprotocol) {
  if (beta_subprotocol) return Dialect::kPreview;
  if (openai_beta_header.find("realtime=v1") != std::string_view::npos) return Dialect::kPreview;
  if (path == "/openai/realtime" || path.starts_with("/openai/realtime/")) return Dialect::kPreview;
  return Dialect::kGa;
}

std::string ToPreview(std::string_view event) {
  json j = json::parse(event, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return std::string(event);
  const std::string type = j["type"];
  for (const auto& [ga, preview] : kTypes) {
    if (type == ga) j["type"] = preview;
  }
  if (j.contains("response")) RenameResponse(j["response"]);
  if (j.contains("item")) RenameItem(j["item"]);
  if (j.contains("part") && j["part"].is_object() && j["part"].contains("type")) {
    json parts = json::array({j["part"]});
    RenameParts(parts);
    j["part"] = parts[0];
  }
  return j.dump();
}

}  // namespace relaytap::tools::fake_upstream
