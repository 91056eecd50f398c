#include "proxy/relay/failure_watch.h"

#include <utility>

#include "proxy/guard/session_cap.h"

namespace relaytap::proxy {

void SessionFailureWatch::OnMessage(ws::Message&& m) {
  if (!failed_ && m.direction == ws::Direction::kServerToClient && m.opcode == ws::Opcode::kText &&
      !m.truncated() &&
      guard::ClassifyServerMessage(m.payload) == guard::ServerResponseEvent::kFailed) {
    failed_ = true;
  }
  inner_.OnMessage(std::move(m));
}

void SessionFailureWatch::OnTapError(ws::Direction d, std::string_view reason) {
  inner_.OnTapError(d, reason);
}

}  // namespace relaytap::proxy
