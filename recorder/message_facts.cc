// CorrelateMessage and CorrelateFlatMessage (correlator.h): the facts of a WebSocket message,
// read by one template from either the DOM of the payload or its flat form.
#include <nlohmann/json.hpp>

#include "recorder/correlator.h"

namespace relaytap::recorder {
namespace {

// For a payload that is not whole JSON (truncated, or over the value budget): the first
// top-level-looking "type".
std::string ScanType(std::string_view p) {
  size_t k = p.find("\"type\"");
  if (k == std::string_view::npos) return "";
  size_t q1 = p.find('"', p.find(':', k) + 1);
  if (q1 == std::string_view::npos) return "";
  size_t q2 = p.find('"', q1 + 1);
  if (q2 == std::string_view::npos || q2 - q1 > 80) return "";
  return std::string(p.substr(q1 + 1, q2 - q1 - 1));
}

const char* AudioField(std::string_view type) {
  if (type == "input_audio_buffer.append") return "audio";
  if (type == "response.audio.delta" || type == "response.output_audio.delta") return "delta";
  return nullptr;
}

// A parsed payload (or a member of it): its string or number members as text, "" otherwise.
class DomFields {
 public:
  DomFields(const nlohmann::ordered_json& j, const redact::JsonHoles& holes)
      : j_(j), holes_(holes) {}
  std::string Str(const char* key) const {
    if (!j_.is_object()) return "";
    auto it = j_.find(key);
    if (it == j_.end()) return "";
    if (it->is_string()) return std::string(holes_.Resolve(it->get_ref<const std::string&>()));
    if (it->is_number()) return it->dump();
    return "";
  }
  DomFields Child(const char* key) const {
    static const nlohmann::ordered_json kNull;
    if (!j_.is_object()) return DomFields(kNull, holes_);
    auto it = j_.find(key);
    return DomFields(it == j_.end() ? kNull : *it, holes_);
  }
  // Decoded bytes of the base64 string `key`, nullopt if it is not a string.
  std::optional<int64_t> AudioBytes(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_string()) return std::nullopt;
    // A cut-out string was counted while it was scanned: the same number, no second pass.
    const std::string& audio = it->get_ref<const std::string&>();
    const std::optional<int64_t> chars = holes_.Base64AlphabetChars(audio);
    return chars ? *chars * 3 / 4 : Base64DecodedSize(audio);
  }

 private:
  const nlohmann::ordered_json& j_;
  const redact::JsonHoles& holes_;
};

// The same answers from a flat object; a flat object has no nested members, so Child() is empty.
class FlatFields {
 public:
  explicit FlatFields(const redact::FlatObject* o) : o_(o) {}
  std::string Str(const char* key) const {
    const redact::FlatMember* m = o_ ? o_->Find(key) : nullptr;
    if (m == nullptr) return "";
    const bool text = m->kind == redact::FlatMember::Kind::kString ||
                      m->kind == redact::FlatMember::Kind::kInteger;  // canonical digits
    return text ? std::string(m->text) : "";
  }
  FlatFields Child(const char*) const { return FlatFields(nullptr); }
  std::optional<int64_t> AudioBytes(const char* key) const {
    const redact::FlatMember* m = o_ ? o_->Find(key) : nullptr;
    if (m == nullptr || m->kind != redact::FlatMember::Kind::kString) return std::nullopt;
    // Strings of kMinHoleBytes and more are the ones ParsedJson cuts out (and counts).
    return m->text.size() >= redact::JsonHoles::kMinHoleBytes ? m->base64_chars * 3 / 4
                                                              : Base64DecodedSize(m->text);
  }

 private:
  const redact::FlatObject* o_;
};

template <typename Fields>
void ReadFacts(const Fields& j, MessageFacts& f) {
  f.json = true;
  f.type = j.Str("type");
  f.event_id = j.Str("event_id");
  f.response_id = j.Str("response_id");
  f.item_id = j.Str("item_id");
  f.previous_item_id = j.Str("previous_item_id");
  const Fields item = j.Child("item");
  if (f.item_id.empty()) f.item_id = item.Str("id");
  if (f.previous_item_id.empty()) f.previous_item_id = item.Str("previous_item_id");
  const Fields response = j.Child("response");
  if (f.response_id.empty()) f.response_id = response.Str("id");
  if (f.type == "session.created" || f.type == "session.updated" ||
      f.type == "transcription_session.created" || f.type == "transcription_session.updated") {
    f.session_id = j.Child("session").Str("id");
    f.model = j.Child("session").Str("model");
  }
  if (f.type == "error") {
    const Fields err = j.Child("error");
    f.error_type = err.Str("type");
    f.error_code = err.Str("code");
    f.error_event_id = err.Str("event_id");
    f.failure = Outcome::kErrorEvent;
  }
  if (f.type == "response.done" || f.type == "response.failed") {
    f.response_status = response.Str("status");
    const Fields err = response.Child("status_details").Child("error");
    f.status_error_type = err.Str("type");
    f.status_error_code = err.Str("code");
    if (f.response_status == "failed" || f.type == "response.failed") {
      f.failure = Outcome::kResponseFailed;
    }
  }
  if (const char* field = AudioField(f.type)) {
    if (const std::optional<int64_t> bytes = j.AudioBytes(field)) {
      f.audio_bytes = *bytes;
      f.audio_ms = static_cast<double>(*bytes) / 48.0;
    }
  }
}

}  // namespace

MessageFacts CorrelateMessage(const WsMessage& msg, redact::ParsedJson* doc) {
  MessageFacts f;
  if (msg.opcode != 1) return f;
  if (msg.truncated()) {  // a prefix is not JSON: read its type and leave the rest
    f.type = ScanType(msg.payload);
    return f;
  }
  redact::ParsedJson local;
  redact::ParsedJson& parsed = doc ? *doc : local;
  parsed = redact::ParsedJson::Parse(msg.payload);
  if (!parsed.doc.is_object()) {
    f.type = ScanType(msg.payload);
    return f;
  }
  ReadFacts(DomFields(parsed.doc, parsed.holes), f);
  return f;
}

MessageFacts CorrelateFlatMessage(const WsMessage& msg, const redact::FlatObject& flat) {
  if (msg.opcode != 1 || msg.truncated()) return CorrelateMessage(msg);
  MessageFacts f;
  ReadFacts(FlatFields(&flat), f);
  return f;
}

}  // namespace relaytap::recorder
