#include "proxy/guard/session_cap.h"

#include <string.h>

#include <cstddef>
#include <nlohmann/json.hpp>

#include "base/str_cat.h"

namespace relaytap::proxy::guard {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxEventIdChars = 128;

std::string StrField(const Json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Whether `payload` contains "response.done" or "response.failed", in one pass (glibc memmem)
// over the payload: audio deltas are mostly base64, which holds no '.'.
bool MentionsResponseEnd(std::string_view payload) {
  constexpr std::string_view kPrefix = "response.";
  const char* p = payload.data();
  const char* const end = payload.data() + payload.size();
  while (end - p >= static_cast<ptrdiff_t>(kPrefix.size())) {
    const void* hit = memmem(p, static_cast<size_t>(end - p), kPrefix.data(), kPrefix.size());
    if (hit == nullptr) return false;
    const char* rest = static_cast<const char*>(hit) + kPrefix.size();
    const std::string_view tail(rest, static_cast<size_t>(end - rest));
    if (tail.starts_with("done") || tail.starts_with("failed")) return true;
    p = rest;
  }
  return false;
}

}  // namespace

ServerResponseEvent ClassifyServerMessage(std::string_view payload) {
  // Cheap pre-filter: most server messages (audio deltas) are neither.
  if (!MentionsResponseEnd(payload)) return ServerResponseEvent::kNone;
  Json j = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  const std::string type = StrField(j, "type");
  if (type == "response.failed") return ServerResponseEvent::kFailed;
  if (type != "response.done") return ServerResponseEvent::kNone;
  const std::string status =
      StrField(j.is_object() ? j.value("response", Json()) : Json(), "status");
  if (status == "failed") return ServerResponseEvent::kFailed;
  if (status == "completed") return ServerResponseEvent::kCompleted;
  return ServerResponseEvent::kNone;
}

ClientMessageFacts ClassifyClientMessage(std::string_view payload) {
  ClientMessageFacts f;
  if (payload.find("response.create") == std::string_view::npos) return f;
  Json j = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (StrField(j, "type") != "response.create") return f;
  f.response_create = true;
  auto it = j.find("event_id");
  if (it != j.end() && it->is_string()) {
    f.event_id = it->get<std::string>().substr(0, kMaxEventIdChars);
  }
  return f;
}

void SessionCap::OnServerMessage(std::string_view payload) {
  switch (ClassifyServerMessage(payload)) {
    case ServerResponseEvent::kFailed:
      ++failed_responses_;
      in_failure_streak_ = true;
      break;
    case ServerResponseEvent::kCompleted:
      if (policy_.reset_on_success) {
        in_failure_streak_ = false;
        creates_after_failure_ = 0;
      }
      break;
    case ServerResponseEvent::kNone:
      break;
  }
}

SessionCapDecision SessionCap::OnResponseCreate(bool enforceable) {
  SessionCapDecision d;
  d.failed_responses = failed_responses_;
  d.creates_after_failure = creates_after_failure_;
  d.max_creates_after_failure = policy_.max_creates_after_failure;
  if (in_failure_streak_ && creates_after_failure_ >= policy_.max_creates_after_failure) {
    d.over_cap = true;
    d.reason = enforceable ? "session_cap" : "session_cap_unenforceable";
    d.withhold = enforceable && mode_ == GuardMode::kEnforce;
  }
  if (d.withhold) {
    ++withheld_;
  } else if (in_failure_streak_) {
    ++creates_after_failure_;  // it is forwarded
  }
  d.withheld = withheld_;
  return d;
}

std::string SessionCapCountsJson(const SessionCapDecision& d) {
  Json j = {{"failed_responses", d.failed_responses},
            {"creates_after_failure", d.creates_after_failure},
            {"max_creates_after_failure", d.max_creates_after_failure},
            {"withheld", d.withheld}};
  return j.dump();
}

std::string SessionCapErrorEvent(const SessionCapDecision& d, std::string_view event_id,
                                 const std::optional<std::string>& client_event_id) {
  Json error = {
      {"type", "relaytap_guard"},
      {"code", "relaytap_session_cap"},
      {"message",
       StrCat("relaytap retry guard: response.create not forwarded: this session already had ",
              d.failed_responses, " failed response(s) and ", d.creates_after_failure,
              " response.create after a failure (cap ", d.max_creates_after_failure,
              "). Stop retrying in this session: open a new session later or check the "
              "deployment's health.")},
      {"param", nullptr}};
  if (client_event_id) error["event_id"] = *client_event_id;
  Json event = {{"type", "error"}, {"event_id", std::string(event_id)}, {"error", error}};
  return event.dump();
}

std::string ServerTextFrame(std::string_view payload) {
  std::string frame;
  frame.push_back(static_cast<char>(0x81));  // FIN, RSV1-3 clear, text
  const uint64_t n = payload.size();
  if (n < 126) {
    frame.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    frame.push_back(static_cast<char>(126));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n & 0xff));
  } else {
    frame.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(n >> shift));
  }
  frame.append(payload);
  return frame;
}

}  // namespace relaytap::proxy::guard
