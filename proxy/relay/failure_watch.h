#pragma once
// Watches the server messages of a guarded realtime session for a failed response
// (`response.done` with status failed, or beta `response.failed`) and passes every message on
// to the inner observer. The guard learns from it how the session ended when the in-session cap
// is off (the cap's own state counts failures when it is on). Owned by the session's coroutine;
// the taps call it on the session's io thread.

#include <string_view>

#include "proxy/ws/frame_tap.h"

namespace relaytap::proxy {

class SessionFailureWatch : public ws::MessageObserver {
 public:
  explicit SessionFailureWatch(ws::MessageObserver& inner) : inner_(inner) {}
  void OnMessage(ws::Message&& m) override;
  void OnTapError(ws::Direction d, std::string_view reason) override;
  bool saw_failed_response() const { return failed_; }

 private:
  ws::MessageObserver& inner_;
  bool failed_ = false;
};

}  // namespace relaytap::proxy
