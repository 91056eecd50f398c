#include "recorder/redaction.h"

#include <fstream>
#include <sstream>

#include "base/str_cat.h"
#include "redact/body_shape.h"
#include "redact/fingerprint.h"
#include "redact/headers.h"
#include "redact/identifier.h"
#include "redact/json_redactor.h"
#include "redact/json_writer.h"
#include "redact/policy.h"
#include "redact/secret_patterns.h"
#include "redact/subprotocol.h"
#include "redact/url.h"

namespace relaytap::recorder {

struct Redactor::Impl {
  redact::Policy policy;
  redact::Fingerprinter fp;
};

Redactor::Redactor(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), policy_hash_(impl_->policy.hash()) {}
Redactor::~Redactor() = default;

absl::StatusOr<std::unique_ptr<Redactor>> Redactor::Create(std::string key,
                                                           const std::string& policy_path) {
  absl::StatusOr<redact::Fingerprinter> fp = redact::Fingerprinter::Create(std::move(key));
  if (!fp.ok()) return fp.status();
  absl::StatusOr<redact::Policy> policy = redact::Policy::Default();
  if (!policy.ok()) return policy.status();
  if (!policy_path.empty()) {
    std::ifstream in(policy_path, std::ios::binary);
    if (!in) {
      return absl::NotFoundError(StrCat("redaction policy ", policy_path, ": cannot be read"));
    }
    std::stringstream text;
    text << in.rdbuf();
    if (absl::Status st = policy->Extend(text.str()); !st.ok()) {
      return absl::Status(
          st.code(), StrCat("redaction policy ", policy_path, ": ", std::string(st.message())));
    }
  }
  auto impl = std::make_unique<Impl>(Impl{std::move(*policy), std::move(*fp)});
  return std::unique_ptr<Redactor>(new Redactor(std::move(impl)));
}

std::string Redactor::JsonText(std::string_view text) const {
  return redact::RedactJsonText(text, impl_->policy, impl_->fp);
}

std::string Redactor::MessagePayload(const WsMessage& msg, const redact::ParsedJson* parsed) const {
  if (msg.opcode != 1 && msg.opcode != 2) {
    return "";  // close, ping, pong: the code / timing columns say all there is
  }
  if (msg.truncated()) {
    // Only a prefix came: its size and the limit it passed, nothing of its content.
    return redact::OverLimitShape(PayloadLimitName(msg.payload_limit), msg.payload_bytes,
                                  impl_->fp);
  }
  if (msg.opcode == 2) return redact::BodyShape("application/octet-stream", msg.payload, impl_->fp);
  if (parsed != nullptr) {
    return redact::RedactParsedText(*parsed, msg.payload, impl_->policy, impl_->fp);
  }
  return JsonText(msg.payload);
}

std::optional<std::string> Redactor::FlatMessagePayload(const WsMessage& msg,
                                                        const redact::FlatObject& flat) const {
  if (msg.opcode != 1 || msg.truncated()) return std::nullopt;
  return redact::RedactFlatText(flat, msg.payload, impl_->policy, impl_->fp);
}

std::string Redactor::HeadersJson(const Headers& headers) const {
  redact::HeaderList red = redact::RedactHeaders(headers, impl_->policy, impl_->fp);
  std::string out = "[";
  for (size_t i = 0; i < red.size(); ++i) {
    if (i) out += ",";
    out += "[";
    redact::AppendQuoted(out, red[i].first);
    out += ",";
    redact::AppendQuoted(out, red[i].second);
    out += "]";
  }
  out += "]";
  return out;
}

std::string Redactor::Target(std::string_view target) const {
  return redact::RedactTarget(target, impl_->policy, impl_->fp);
}

std::string Redactor::Subprotocols(std::string_view value) const {
  if (value.empty()) return "";
  return redact::RedactSubprotocols(value, impl_->fp);
}

std::string Redactor::Body(const BodySample& body) const {
  if (body.bytes.empty() && body.total_bytes == 0) return "";
  std::string ct = redact::SanitizeContentType(body.content_type);
  std::string shape;
  if (!body.truncated && ct.find("json") != std::string::npos) {
    shape = JsonText(body.bytes);
  } else {
    shape = redact::BodyShape(body.content_type, body.bytes, impl_->fp);
  }
  if (!body.truncated) return shape;
  return StrCat("{\"total_bytes\":", body.total_bytes, ",\"truncated\":true,\"sample\":", shape,
                "}");
}

std::string Redactor::SseEvents(const std::vector<SseEvent>& events) const {
  if (events.empty()) return "";
  std::string out = "[";
  for (size_t i = 0; i < events.size(); ++i) {
    const SseEvent& e = events[i];
    if (i) out += ",";
    out += StrCat("{\"at_us\":", e.at_us, ",\"event\":");
    redact::AppendQuoted(out, redact::ContainsSecret(e.event) || e.event.size() > 64
                                  ? impl_->fp.Of(e.event)
                                  : e.event);
    out += ",\"data\":";
    out += JsonText(e.data);
    out += "}";
  }
  out += "]";
  return out;
}

std::string Redactor::ScrubbedText(std::string_view text) const {
  std::string s = redact::ScrubSecrets(text, impl_->fp);
  return std::string(redact::TruncateUtf8(s, impl_->policy.max_message_chars()));
}

std::string Redactor::JwtIdentifier(redact::JwtClaim claim, std::string_view value) const {
  return redact::JwtIdentifier(claim, value, impl_->fp);
}

std::string Redactor::Fingerprint(std::string_view value) const { return impl_->fp.Of(value); }

std::string Redactor::BulkFingerprint(std::string_view value) const {
  return impl_->fp.BulkOf(value);
}

std::string Redactor::Identifier(std::string_view value) const {
  return redact::StorableIdentifier(value, impl_->fp);
}

void Redactor::SanitizeColumns(MessageFacts& f) const {
  for (std::string* v : {&f.type, &f.event_id, &f.response_id, &f.item_id, &f.previous_item_id,
                         &f.session_id, &f.model, &f.error_type, &f.error_code, &f.error_event_id,
                         &f.response_status, &f.status_error_type, &f.status_error_code}) {
    if (!v->empty()) *v = Identifier(*v);
  }
}

void Redactor::SanitizeColumns(ExchangeFacts& f) const {
  for (std::string* v :
       {&f.path.deployment, &f.path.model, &f.path.api_version, &f.error_type, &f.error_code}) {
    if (!v->empty()) *v = Identifier(*v);
  }
  for (std::string* v :
       {&f.apim_request_id, &f.x_request_id, &f.x_ms_client_request_id, &f.azureml_model_session}) {
    if (!v->empty()) *v = redact::StorableRequestId(*v, impl_->fp);
  }
}

}  // namespace relaytap::recorder
