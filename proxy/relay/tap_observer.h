#pragma once
// The observer behind both frame taps of one WebSocket session: logs one line per message at
// debug level (direction, opcode, sizes, event type; never payloads), hands each message to the
// recorder's sink, and forwards to an extra observer (tests) when one is given.
// Owned by the session coroutine; called only from its io thread.

#include <cstdint>
#include <memory>
#include <string>

#include "proxy/context.h"
#include "proxy/ws/frame_tap.h"
#include "recorder/sink.h"

namespace relaytap::proxy {

class SessionTapObserver final : public ws::MessageObserver {
 public:
  SessionTapObserver(const WsSessionInfo& info, recorder::Sink* sink,
                     std::unique_ptr<ws::MessageObserver> extra);

  // ws::MessageObserver
  void OnMessage(ws::Message&& m) override;
  void OnTapError(ws::Direction d, std::string_view reason) override;

  bool tap_failed() const { return !tap_error_.empty(); }
  const std::string& tap_error() const { return tap_error_; }
  uint64_t messages() const { return sequence_; }

 private:
  uint64_t connection_id_;
  uint32_t exchange_sequence_;
  recorder::Sink* sink_;
  std::unique_ptr<ws::MessageObserver> extra_;
  uint64_t sequence_ = 0;
  std::string tap_error_;
};

// The value of a top-level "type" key if the payload starts like a realtime event; event types
// are protocol vocabulary, never content. Anything unexpected yields "".
std::string_view RealtimeEventType(std::string_view payload);

}  // namespace relaytap::proxy
