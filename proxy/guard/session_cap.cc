#include "proxy/guard/session_cap.h"

#include <string.h>

#include <cstddef>
#include <nlohmann/json.hpp>

#include "base/str_cat.h"

namespace relaytap::proxy::guard {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxEventIdChars = 128;

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

// At most `max` bytes of valid UTF-8 `s`, cut before a character rather than inside one (the
// error event that echoes it is dumped by nlohmann, which throws on invalid UTF-8).
std::string Utf8Prefix(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// The few members the cap reads: the top level's `type` and `event_id` and the top-level
// `response` object's `status`. Read with nlohmann's SAX parser, which keeps its own explicit
// stack: no DOM is built and nothing recurses, so untrusted text of any nesting depth is safe
// (a DOM copy of a 100,000-deep response.done once overflowed the relay thread's stack).
class ShallowFields final : public nlohmann::json_sax<Json> {
 public:
  std::string type, event_id, response_status;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool string(string_t& value) override {
    if (depth_ == 1 && top_is_object_) {
      if (key1_ == "type") type = value;
      if (key1_ == "event_id") event_id = Utf8Prefix(value, kMaxEventIdChars);
    } else if (depth_ == 2 && in_response_ && key2_ == "status") {
      response_status = value;
    }
    return true;
  }
  bool start_object(std::size_t) override { return Open(true); }
  bool key(string_t& k) override {
    if (depth_ == 1) key1_ = k;
    if (depth_ == 2) key2_ = k;
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    type.clear();  // not JSON: nothing to classify
    return false;
  }

 private:
  bool Open(bool object) {
    ++depth_;
    if (depth_ == 1) top_is_object_ = object;
    if (depth_ == 2) in_response_ = object && top_is_object_ && key1_ == "response";
    if (depth_ == 2) key2_.clear();
    return true;
  }
  bool Close() {
    if (depth_ == 2) in_response_ = false;
    --depth_;
    return true;
  }

  int depth_ = 0;
  bool top_is_object_ = false;
  bool in_response_ = false;  // inside the top-level "response" object, at its own level
  std::string key1_, key2_;   // the last key seen at depth 1 and 2
};

ShallowFields ReadShallowFields(std::string_view payload) {
  ShallowFields f;
  if (!Json::sax_parse(payload, &f, nlohmann::detail::input_format_t::json, /*strict=*/true)) {
    f = ShallowFields();
  }
  return f;
}

}  // namespace

ServerResponseEvent ClassifyServerMessage(std::string_view payload) {
  // Cheap pre-filter: most server messages (audio deltas) are neither.
  if (!MentionsResponseEnd(payload)) return ServerResponseEvent::kNone;
  const ShallowFields f = ReadShallowFields(payload);
  if (f.type == "response.failed") return ServerResponseEvent::kFailed;
  if (f.type != "response.done") return ServerResponseEvent::kNone;
  if (f.response_status == "failed") return ServerResponseEvent::kFailed;
  if (f.response_status == "completed") return ServerResponseEvent::kCompleted;
  return ServerResponseEvent::kNone;
}

ClientMessageFacts ClassifyClientMessage(std::string_view payload) {
  ClientMessageFacts f;
  if (payload.find("response.create") == std::string_view::npos) return f;
  ShallowFields fields = ReadShallowFields(payload);
  if (fields.type != "response.create") return f;
  f.response_create = true;
  if (!fields.event_id.empty()) f.event_id = std::move(fields.event_id);
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
