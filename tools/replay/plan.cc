#include "tools/replay/plan.h"

#include <algorithm>
#include <array>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "nlohmann/json.hpp"
#include "tools/replay/filler.h"

namespace relaytap::tools::replay {
namespace {

using Json = nlohmann::json;

bool IsData(const RecordedEvent& e) { return e.opcode == 1 || e.opcode == 2; }

bool IsFingerprint(std::string_view v) { return v.find("hmac:") != std::string_view::npos; }

// Splits "a=1&b=2" into (name, value) pairs.
std::vector<std::pair<std::string_view, std::string_view>> QueryParams(std::string_view target) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  size_t q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = param.find('=');
    out.emplace_back(param.substr(0, eq),
                     eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1));
  }
  return out;
}

bool PathMatches(std::string_view recorded, std::string_view request) {
  while (true) {
    size_t a = recorded.find('/'), b = request.find('/');
    std::string_view ra = recorded.substr(0, a), rb = request.substr(0, b);
    if (ra != rb && !ra.starts_with("hmac:")) return false;  // fingerprinted segment: any value
    if (a == std::string_view::npos || b == std::string_view::npos) {
      return a == std::string_view::npos && b == std::string_view::npos;
    }
    recorded.remove_prefix(a + 1);
    request.remove_prefix(b + 1);
  }
}

// The JSON object sent for a message recorded only as a shape: recorded type and ids, padded to
// the recorded length.
std::string ShapedMessage(const RecordedEvent& e) {
  Json doc = Json::object();
  if (!e.type.empty()) doc["type"] = e.type;
  if (!e.event_id.empty()) doc["event_id"] = e.event_id;
  if (!e.response_id.empty()) doc["response_id"] = e.response_id;
  if (!e.item_id.empty()) doc["item_id"] = e.item_id;
  doc["relaytap_replay_filler"] = "";
  size_t base = doc.dump().size();
  size_t want = static_cast<size_t>(std::max<int64_t>(e.payload_bytes, 0));
  doc["relaytap_replay_filler"] = FillerText(want > base ? want - base : 0);
  return doc.dump();
}

// A member of a run of audio events: the run's first payload with this member's event_id
// (middle members: a stand-in id, as their ids were not recorded) and content, at its recorded
// size. The stand-in id, or a transcript delta's text, takes up what the size needs.
std::string RunMemberPayload(const RecordedEvent& e) {
  Json doc = ExpandPlaceholders(Json::parse(e.payload, nullptr, /*allow_exceptions=*/false));
  if (!doc.is_object()) return ShapedMessage(e);
  const auto dump = [&] { return doc.dump(-1, ' ', false, Json::error_handler_t::replace); };
  const bool has_id = doc.contains("event_id") && doc["event_id"].is_string();
  const bool stand_in = has_id && e.event_id.empty();
  std::string id = e.event_id;
  if (stand_in) {  // as long as the first member's id, to begin with
    id = StrCat("event_relaytap_", e.seq, "_");
    id.resize(doc["event_id"].get_ref<const std::string&>().size(), 'x');
  }
  if (has_id) doc["event_id"] = id;
  const bool audio = e.audio_bytes.has_value();
  const bool has_delta = doc.contains("delta");
  if (has_delta) doc["delta"] = audio ? SilenceBase64(static_cast<uint64_t>(*e.audio_bytes)) : "";
  const int64_t missing = e.payload_bytes - static_cast<int64_t>(dump().size());
  if (!audio && has_delta && missing > 0) {
    doc["delta"] = FillerText(static_cast<uint64_t>(missing));
  } else if (stand_in && missing != 0) {
    id.resize(static_cast<size_t>(std::max<int64_t>(1, static_cast<int64_t>(id.size()) + missing)),
              'x');
    doc["event_id"] = id;
  }
  return dump();
}

SessionEnding EndingOf(const RecordedSession& s, size_t client_messages, int64_t last_us) {
  SessionEnding end;
  end.after_client_messages = client_messages;
  auto close = std::find_if(s.events.begin(), s.events.end(),
                            [](const RecordedEvent& e) { return e.opcode == 8; });
  if (close != s.events.end()) {
    end.kind = close->from_client ? EndKind::kClientClose : EndKind::kServerClose;
    end.code = static_cast<uint16_t>(close->close_code.value_or(1005));
    if (close->from_client == false && s.close_side == "upstream") end.reason = s.close_reason;
    end.delay_us = std::max<int64_t>(0, close->first_frame_us - last_us);
    end.after_client_messages =
        static_cast<size_t>(std::count_if(s.events.begin(), close, [](const RecordedEvent& e) {
          return e.from_client && IsData(e);
        }));
    return end;
  }
  int64_t close_us = s.close_us ? s.close_us : last_us;
  end.delay_us = std::max<int64_t>(0, close_us - last_us);
  if (s.upstream_end == "reset") {
    end.kind = EndKind::kReset;
  } else if (s.upstream_end == "eof" && s.app_end != "reset" && s.app_end != "eof") {
    end.kind = EndKind::kEof;
  } else {
    end.kind = EndKind::kClientClose;
    end.delay_us = 0;
  }
  return end;
}

}  // namespace

std::string_view EndKindName(EndKind kind) {
  switch (kind) {
    case EndKind::kServerClose:
      return "server_close";
    case EndKind::kClientClose:
      return "client_close";
    case EndKind::kReset:
      return "reset";
    case EndKind::kEof:
      return "eof";
  }
  return "?";
}

std::string ReplayPayload(const RecordedEvent& e) {
  if (e.run_count > 1) return RunMemberPayload(e);
  if (e.opcode == 2)
    return FillerText(static_cast<uint64_t>(std::max<int64_t>(e.payload_bytes, 0)));
  Json doc = Json::parse(e.payload, nullptr, /*allow_exceptions=*/false);
  if (e.truncated || doc.is_discarded() || !doc.is_object() ||
      (IsPlaceholder(doc) && doc["redacted"] == "body")) {
    return ShapedMessage(e);
  }
  return ExpandPlaceholders(doc).dump(-1, ' ', false, Json::error_handler_t::replace);
}

SessionScript BuildSessionScript(const RecordedSession& s) {
  SessionScript script;
  int64_t last_us = s.open_us;
  for (const RecordedEvent& e : s.events) {
    if (e.opcode == 8) break;  // the ending
    if (!IsData(e)) continue;  // pings and pongs are answered by the WebSocket layer
    int64_t gap = std::max<int64_t>(0, e.first_frame_us - (last_us ? last_us : e.first_frame_us));
    last_us = e.first_frame_us;
    if (e.from_client) {
      script.client_types.push_back(e.opcode == 1 ? e.type : "");
      continue;
    }
    ServerStep step;
    step.after_client_messages = script.client_types.size();
    step.delay_us = gap;
    step.text = e.opcode == 1;
    step.type = e.type;
    step.payload = ReplayPayload(e);
    script.steps.push_back(std::move(step));
  }
  script.ending = EndingOf(s, script.client_types.size(), last_us);
  return script;
}

HeaderList ReplayableHeaders(const HeaderList& recorded) {
  static constexpr std::array<std::string_view, 8> kComputed = {
      "content-length",       "transfer-encoding",        "connection", "upgrade",
      "sec-websocket-accept", "sec-websocket-extensions", "keep-alive", "sec-websocket-protocol"};
  HeaderList out;
  for (const auto& [name, value] : recorded) {
    const std::string lower = AsciiStrToLower(name);
    if (std::find(kComputed.begin(), kComputed.end(), lower) != kComputed.end()) continue;
    if (IsFingerprint(value)) continue;
    out.emplace_back(name, value);
  }
  return out;
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

bool TargetMatches(std::string_view recorded, std::string_view request_target) {
  if (!PathMatches(PathOf(recorded), PathOf(request_target))) return false;
  auto wanted = QueryParams(recorded);
  auto got = QueryParams(request_target);
  for (const auto& param : wanted) {
    const auto& [name, value] = param;
    if (IsFingerprint(name) || IsFingerprint(value)) continue;
    auto it =
        std::find_if(got.begin(), got.end(), [&](const auto& p) { return p.first == param.first; });
    if (it == got.end() || it->second != value) return false;
  }
  return true;
}

std::vector<SseStep> BuildSseSteps(const ReplayExchange& x) {
  std::vector<SseStep> out;
  Json doc = Json::parse(x.sse_events, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const Json& ev = doc[i];
    if (!ev.is_object()) continue;
    SseStep step;
    step.at_us = ev.value("at_us", int64_t{0});
    std::string name =
        ev.contains("event") && ev["event"].is_string() ? ev["event"].get<std::string>() : "";
    if (IsFingerprint(name)) name = FillerText(name.size());
    std::string data;
    const Json& d = ev.contains("data") ? ev["data"] : Json();
    bool shape = IsPlaceholder(d) && d["redacted"] == "body";
    // Non-JSON data is recorded only as a shape. The one non-JSON data line of the OpenAI
    // streams is the final "[DONE]" (6 bytes), so a last 6-byte shape is replayed as that.
    if (shape && i + 1 == doc.size() && d["len"] == 6) {
      data = "[DONE]";
    } else if (shape) {
      data = FillerText(d["len"].get<uint64_t>());
    } else {
      data = ExpandPlaceholders(d).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    if (!name.empty()) step.text = StrCat("event: ", name, "\n");
    step.text.append(StrCat("data: ", data, "\n\n"));
    out.push_back(std::move(step));
  }
  return out;
}

}  // namespace relaytap::tools::replay
