#include "proxy/relay/cap_state.h"

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/guard/request_facts.h"
#include "proxy/guard/retry_guard.h"

namespace relaytap::proxy {
namespace {

// Candidates larger than this after inflating are not decided (forwarded).
constexpr size_t kMaxDecodedCandidateBytes = 1u << 20;
// Error events waiting for a server message boundary; beyond this, nothing more is withheld
// (memory stays bounded if the server never ends its current message).
constexpr size_t kMaxPendingEvents = 64;

class CapObserver : public ws::MessageObserver {
 public:
  CapObserver(CapState& session, ws::MessageObserver& inner) : session_(session), inner_(inner) {}
  void OnMessage(ws::Message&& m) override {
    if (m.opcode == ws::Opcode::kText && !m.truncated()) {
      if (m.direction == ws::Direction::kServerToClient) {
        session_.OnServerMessage(m);
      } else {
        session_.OnClientMessage(m);
      }
    }
    inner_.OnMessage(std::move(m));
  }
  void OnTapError(ws::Direction d, std::string_view reason) override {
    inner_.OnTapError(d, reason);
  }

 private:
  CapState& session_;
  ws::MessageObserver& inner_;
};

}  // namespace

CapState::CapState(CapStateParams params)
    : params_(std::move(params)), cap_(params_.policy, params_.mode) {}

std::unique_ptr<ws::MessageObserver> CapState::WrapObserver(ws::MessageObserver& inner) {
  return std::make_unique<CapObserver>(*this, inner);
}

std::unique_ptr<CapState> MakeCapState(const ProxyContext& ctx, const WsSessionInfo& info) {
  if (ctx.guard == nullptr || !ctx.guard->policy().session_cap.enabled) return nullptr;
  CapStateParams p;
  p.policy = ctx.guard->policy().session_cap;
  p.mode = ctx.guard->mode();
  p.deflate = info.deflate;
  p.key = guard::GuardKey(info.host, guard::DeploymentFromTarget(info.path), "");
  p.connection_id = info.connection_id;
  p.exchange_sequence = info.exchange_sequence;
  p.sink = ctx.sink;
  return std::make_unique<CapState>(std::move(p));
}

void CapState::OnServerMessage(const ws::Message& m) { cap_.OnServerMessage(m.payload); }

void CapState::OnClientMessage(const ws::Message& m) {
  // Only what the gate could not decide: compressed messages sharing the inflate context.
  if (!m.compressed || params_.deflate.client_no_context_takeover) return;
  if (!guard::ClassifyClientMessage(m.payload).response_create) return;
  guard::SessionCapDecision d = cap_.OnResponseCreate(/*enforceable=*/false);
  if (d.over_cap) Record(d);
}

bool CapState::ShouldWithhold(const ws::GateSegment& frame) {
  if (frame.header.rsv1 && !params_.deflate.client_no_context_takeover) {
    return false;  // decided after relaying, by the tap (OnClientMessage)
  }
  absl::StatusOr<std::string> payload = ws::CandidatePayload(frame, kMaxDecodedCandidateBytes);
  if (!payload.ok()) return false;
  guard::ClientMessageFacts facts = guard::ClassifyClientMessage(*payload);
  if (!facts.response_create) return false;
  // An error event can only reach the app at a message boundary of a stream we can follow.
  const bool enforceable = !down_tracker_.failed() && pending_.size() < kMaxPendingEvents;
  guard::SessionCapDecision d = cap_.OnResponseCreate(enforceable);
  if (!d.over_cap) return false;
  Record(d);
  if (!d.withhold) return false;
  ++withheld_;
  const std::string event_id = StrCat("relaytap_cap_", params_.connection_id, "_", ++event_seq_);
  pending_.push_back(
      guard::ServerTextFrame(guard::SessionCapErrorEvent(d, event_id, facts.event_id)));
  return true;
}

void CapState::Record(const guard::SessionCapDecision& d) {
  RELAYTAP_LOG(kInfo, "conn=", params_.connection_id, " guard ", guard::GuardModeName(params_.mode),
               " ", d.reason, ": response.create ", d.withhold ? "withheld" : "forwarded",
               " after ", d.failed_responses, " failed response(s), ", d.creates_after_failure,
               " create(s) after failure (cap ", d.max_creates_after_failure, ")");
  if (params_.sink == nullptr) return;
  recorder::GuardDecision row;
  row.at_us = NowUnixMicros();
  row.key = params_.key;
  row.mode = std::string(guard::GuardModeName(params_.mode));
  // session_cap: enforce withholds it, observe records that it would have ("reject" in both,
  // as the other mechanisms' observe rows). session_cap_unenforceable: forwarded.
  row.decision = d.reason == "session_cap" ? "reject" : "forward";
  row.reason = d.reason;
  row.counts = guard::SessionCapCountsJson(d);
  row.connection_id = params_.connection_id;
  row.exchange_sequence = params_.exchange_sequence;
  params_.sink->TrySubmit(recorder::Observation(std::move(row)));
}

}  // namespace relaytap::proxy
