#pragma once
// The per-session state of the retry guard's in-session cap (used only when the policy enables
// it): the client message gate, the server -> app boundary tracker, the injections waiting for a
// message boundary, the cap itself and the recording of its decisions. Plain code, no I/O; the
// capped pump (capped_relay.h) drives it on the session's io thread.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "proxy/context.h"
#include "proxy/guard/policy.h"
#include "proxy/guard/session_cap.h"
#include "proxy/ws/boundary_tracker.h"
#include "proxy/ws/extensions.h"
#include "proxy/ws/frame_tap.h"
#include "proxy/ws/message_gate.h"
#include "recorder/sink.h"

namespace relaytap::proxy {

struct CapStateParams {
  guard::SessionCapPolicy policy;
  guard::GuardMode mode = guard::GuardMode::kObserve;
  ws::PerMessageDeflate deflate;
  std::string key;  // the guard key (host/deployment)
  uint64_t connection_id = 0;
  uint32_t exchange_sequence = 0;
  recorder::Sink* sink = nullptr;  // may be null
};

class CapState {
 public:
  explicit CapState(CapStateParams params);

  // Candidate client frame: true when it must be withheld; then an error event frame waits in
  // pending() for the next server -> app message boundary.
  bool ShouldWithhold(const ws::GateSegment& frame);

  // Wraps the recorder's observer: server messages feed the cap; compressed client
  // response.create messages of a context-takeover session (which cannot be withheld) are
  // decided here, after relaying, as session_cap_unenforceable.
  // `inner` must outlive the returned observer.
  std::unique_ptr<ws::MessageObserver> WrapObserver(ws::MessageObserver& inner);

  ws::MessageGate& gate() { return gate_; }
  ws::BoundaryTracker& down_tracker() { return down_tracker_; }
  std::deque<std::string>& pending() { return pending_; }
  uint64_t withheld() const { return withheld_; }
  uint64_t injected() const { return injected_; }
  // Failed responses the server reported in this session (the guard's session-end outcome).
  int failed_responses() const { return cap_.failed_responses(); }
  void CountInjected() { ++injected_; }

  void OnServerMessage(const ws::Message& m);
  void OnClientMessage(const ws::Message& m);

 private:
  void Record(const guard::SessionCapDecision& d);

  const CapStateParams params_;
  guard::SessionCap cap_;
  ws::MessageGate gate_;
  ws::BoundaryTracker down_tracker_;
  std::deque<std::string> pending_;
  uint64_t withheld_ = 0;
  uint64_t injected_ = 0;
  uint64_t event_seq_ = 0;
};

// The session's cap state when the guard is on and its policy enables the cap; else null (the
// session is relayed by the plain byte pump).
std::unique_ptr<CapState> MakeCapState(const ProxyContext& ctx, const WsSessionInfo& info);

}  // namespace relaytap::proxy
