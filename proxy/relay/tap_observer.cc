#include "proxy/relay/tap_observer.h"

#include <cctype>

#include "base/log.h"
#include "base/str_cat.h"

namespace relaytap::proxy {

std::string_view RealtimeEventType(std::string_view payload) {
  constexpr std::string_view kKey = "\"type\"";
  size_t pos = payload.find(kKey);
  if (pos == std::string_view::npos || pos > 64) return {};
  size_t colon = payload.find(':', pos + kKey.size());
  if (colon == std::string_view::npos) return {};
  size_t open = payload.find('"', colon);
  if (open == std::string_view::npos || open - colon > 8) return {};
  size_t end = payload.find('"', open + 1);
  if (end == std::string_view::npos || end - open > 80) return {};
  std::string_view type = payload.substr(open + 1, end - open - 1);
  for (char c : type) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_')) return {};
  }
  return type;
}

namespace {

recorder::PayloadLimit PayloadLimitOf(ws::Truncation t) {
  switch (t) {
    case ws::Truncation::kNone:
      return recorder::PayloadLimit::kNone;
    case ws::Truncation::kObservationCap:
      return recorder::PayloadLimit::kObservationCap;
    case ws::Truncation::kExpansionRatio:
      return recorder::PayloadLimit::kExpansionRatio;
    case ws::Truncation::kReassemblyBudget:
      return recorder::PayloadLimit::kReassemblyBudget;
  }
  return recorder::PayloadLimit::kObservationCap;
}

}  // namespace

SessionTapObserver::SessionTapObserver(const WsSessionInfo& info, recorder::Sink* sink,
                                       std::unique_ptr<ws::MessageObserver> extra)
    : connection_id_(info.connection_id),
      exchange_sequence_(info.exchange_sequence),
      sink_(sink),
      extra_(std::move(extra)) {}

void SessionTapObserver::OnMessage(ws::Message&& m) {
  ++sequence_;
  RELAYTAP_LOG(kDebug, "ws conn=", connection_id_, " seq=", sequence_,
               " from=", ws::DirectionName(m.direction), " opcode=", ws::OpcodeName(m.opcode),
               " bytes=", m.payload_bytes,
               m.truncated() ? StrCat(" not kept: ", ws::TruncationName(m.truncation)) : "",
               " wire=", m.wire_bytes, " frames=", m.frame_count, m.compressed ? " deflate" : "",
               m.opcode == ws::Opcode::kText ? StrCat(" type=", RealtimeEventType(m.payload)) : "",
               m.close_code ? StrCat(" close_code=", *m.close_code) : "");
  if (sink_ != nullptr) {
    recorder::WsMessage r;
    r.connection_id = connection_id_;
    r.exchange_sequence = exchange_sequence_;
    r.sequence = sequence_;
    r.direction = m.direction == ws::Direction::kClientToServer
                      ? recorder::WsDirection::kClientToServer
                      : recorder::WsDirection::kServerToClient;
    r.opcode = static_cast<uint8_t>(m.opcode);
    r.first_frame_us = m.first_frame_us;
    r.last_frame_us = m.last_frame_us;
    r.wire_bytes = m.wire_bytes;
    r.payload_bytes = m.payload_bytes;
    r.frame_count = m.frame_count;
    r.compressed = m.compressed;
    r.payload_limit = PayloadLimitOf(m.truncation);
    r.close_code = m.close_code;
    r.close_reason = m.close_reason;
    if (extra_) {
      r.payload = m.payload;
    } else {
      r.payload = std::move(m.payload);
    }
    sink_->TrySubmit(recorder::Observation(std::move(r)));
  }
  if (extra_) extra_->OnMessage(std::move(m));
}

void SessionTapObserver::OnTapError(ws::Direction d, std::string_view reason) {
  RELAYTAP_LOG(kWarn, "ws conn=", connection_id_, " frame tap stopped for ", ws::DirectionName(d),
               " messages (bytes still relayed): ", reason);
  if (tap_error_.empty()) tap_error_ = StrCat(ws::DirectionName(d), ": ", reason);
  if (extra_) extra_->OnTapError(d, reason);
}

}  // namespace relaytap::proxy
