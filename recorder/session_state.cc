#include "recorder/session_state.h"

namespace relaytap::recorder {

void SessionState::OnMessage(const WsMessage& msg, const MessageFacts& facts) {
  const bool up = msg.direction == WsDirection::kClientToServer;
  const int dir = up ? 0 : 1;
  if (open_us == 0 || msg.first_frame_us < open_us) open_us = msg.first_frame_us;
  (up ? messages_up : messages_down)++;
  (up ? bytes_up : bytes_down) += msg.payload_bytes;
  switch (msg.opcode) {
    case 9:  // ping: answered by a pong in the other direction
      ++pings;
      pending_pings[dir].push_back(msg.first_frame_us);
      if (pending_pings[dir].size() > 64) pending_pings[dir].pop_front();
      break;
    case 10: {
      ++pongs;
      auto& q = pending_pings[1 - dir];
      if (!q.empty()) {
        double rtt = static_cast<double>(msg.first_frame_us - q.front()) / 1000.0;
        q.pop_front();
        rtt_sum_ms += rtt;
        if (rtt > rtt_max_ms) rtt_max_ms = rtt;
        ++rtt_count;
      }
      break;
    }
    case 8:
      if (close_side.empty()) {
        close_side = up ? "app" : "upstream";
        if (msg.close_code) close_code = *msg.close_code;
        close_reason = msg.close_reason;
        close_frame_us = msg.first_frame_us;
      }
      break;
    default:
      last_data_us = msg.last_frame_us ? msg.last_frame_us : msg.first_frame_us;
      break;
  }
  if (!facts.session_id.empty()) session_id = facts.session_id;
  if (!facts.model.empty()) model = facts.model;
  if (facts.type == "response.done") ++responses;
  if (facts.failure == Outcome::kResponseFailed) ++failed_responses;
  if (facts.failure == Outcome::kErrorEvent) ++error_events;
  if (facts.failure && !first_failure) {
    first_failure = facts.failure;
    first_failure_us = msg.first_frame_us;
    bool failed_response = *facts.failure == Outcome::kResponseFailed;
    first_error_type = failed_response ? facts.status_error_type : facts.error_type;
    first_error_code = failed_response ? facts.status_error_code : facts.error_code;
    first_failure_response_id = facts.response_id;
  }
}

std::optional<double> SessionState::ping_rtt_avg_ms() const {
  if (rtt_count == 0) return std::nullopt;
  return rtt_sum_ms / static_cast<double>(rtt_count);
}

std::optional<double> SessionState::IdleBeforeCloseMs(int64_t close_us) const {
  if (last_data_us == 0) return std::nullopt;
  int64_t end = close_frame_us ? close_frame_us : close_us;
  if (end < last_data_us) return 0.0;
  return static_cast<double>(end - last_data_us) / 1000.0;
}

}  // namespace relaytap::recorder
