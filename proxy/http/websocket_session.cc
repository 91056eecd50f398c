#include "proxy/http/websocket_session.h"

#include <sys/socket.h>

#include <memory>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/relay/cap_state.h"
#include "proxy/relay/capped_relay.h"
#include "proxy/relay/failure_watch.h"
#include "proxy/relay/pump.h"
#include "proxy/relay/tap_observer.h"
#include "proxy/ws/extensions.h"

namespace relaytap::proxy::http_relay {
namespace {

// Who reads the session's messages, and the taps that decode them for them: the recorder's
// observer (plus any extra one), wrapped by the in-session cap or, with the guard on and no cap,
// by the failure watch. Without readable extensions there are no taps: the session is relayed
// undecoded and the reason is recorded.
struct SessionTaps {
  SessionTaps(const ProxyContext& ctx, WsSessionInfo& info, const NegotiatedWebSocket& negotiated,
              bool guard_active) {
    auto deflate = ws::ParseNegotiatedExtensions(negotiated.extensions);
    if (!deflate.ok()) {
      error =
          StrCat("cannot read negotiated extensions: ", std::string(deflate.status().message()));
      RELAYTAP_LOG(kWarn, "conn=", info.connection_id, " ", error, "; relaying without decoding");
      return;
    }
    info.deflate = *deflate;
    std::unique_ptr<ws::MessageObserver> extra;
    if (ctx.ws_observers != nullptr) extra = ctx.ws_observers->Create(info);
    cap = MakeCapState(ctx, info);
    const TapNeeds needs =
        NeededTaps(ctx.sink != nullptr || extra != nullptr, guard_active, cap != nullptr, *deflate);
    observer = std::make_unique<SessionTapObserver>(info, ctx.sink, std::move(extra));
    ws::MessageObserver* reader = observer.get();
    if (cap) {
      cap_observer = cap->WrapObserver(*observer);
      reader = cap_observer.get();
    } else if (guard_active) {
      // With a cap, the cap's own classification counts the failed responses (one pass).
      failure_watch = std::make_unique<SessionFailureWatch>(*reader);
      reader = failure_watch.get();
    }
    if (needs.up) {
      up_tap = std::make_unique<ws::FrameTap>(ws::Direction::kClientToServer, *deflate, *reader);
    }
    if (needs.down) {
      down_tap = std::make_unique<ws::FrameTap>(ws::Direction::kServerToClient, *deflate, *reader);
    }
  }

  bool SawFailedResponse() const {
    return (failure_watch && failure_watch->saw_failed_response()) ||
           (cap && cap->failed_responses() > 0);
  }

  std::unique_ptr<SessionTapObserver> observer;
  std::unique_ptr<CapState> cap;  // only when the guard's in-session cap is enabled
  std::unique_ptr<ws::MessageObserver> cap_observer;
  std::unique_ptr<SessionFailureWatch> failure_watch;  // guard on, no cap
  std::unique_ptr<ws::FrameTap> up_tap, down_tap;
  std::string error;  // why nothing is decoded ("" when the taps run)
};

void RecordClose(const ProxyContext& ctx, const WsSessionInfo& info,
                 const NegotiatedWebSocket& negotiated, const recorder::EndFacts& end,
                 const SessionTaps& taps) {
  if (ctx.sink == nullptr) return;
  recorder::WsSessionClosed closed;
  closed.connection_id = info.connection_id;
  closed.exchange_sequence = info.exchange_sequence;
  closed.close_us = NowUnixMicros();
  closed.subprotocol = negotiated.subprotocol;
  closed.extensions = negotiated.extensions;
  closed.end = end;
  if (taps.observer && taps.observer->tap_failed()) {
    closed.tap_failed = true;
    closed.tap_error = taps.observer->tap_error();
  } else if (!taps.error.empty()) {
    closed.tap_failed = true;
    closed.tap_error = taps.error;
  }
  ctx.sink->TrySubmit(recorder::Observation(std::move(closed)));
}

}  // namespace

TapNeeds NeededTaps(bool recording, bool guard_active, bool capped,
                    const ws::PerMessageDeflate& deflate) {
  // Debug logging prints one line per decoded message: it needs both taps like the recorder.
  if (recording || LogEnabled(LogLevel::kDebug)) return {true, true};
  TapNeeds n;
  // The failure watch and the cap read server messages.
  n.down = guard_active || capped;
  // The cap decides compressed response.create messages sharing the client's inflate context
  // after relaying them, from the client tap (CapState::OnClientMessage); the gate decides
  // every other one from the relayed bytes.
  n.up = capped && deflate.enabled && !deflate.client_no_context_takeover;
  return n;
}

Awaitable<void> RunWebSocket(const ProxyContext& ctx, UpgradedSession& session,
                             ConnectionFacts& stats) {
  stats.websocket = true;
  ByteStream& app = *session.app;
  ByteStream& up = *session.up;
  // WebSocket sessions have no idle limit, but dead peers are found by TCP keepalive.
  EnableKeepAlive(app);
  EnableKeepAlive(up);
  WsSessionInfo& info = session.info;
  SessionTaps taps(ctx, info, session.negotiated, session.guard != nullptr);
  BiPumpResult r;
  if (taps.cap) {
    r = co_await RelayWithCap(app, up, session.app_initial, session.up_initial, taps.up_tap.get(),
                              taps.down_tap.get(), *taps.cap);
  } else {
    // The pumps straight from this frame (no PumpBoth frames between): see BiPump.
    PlainRelay up_relay(up, taps.up_tap.get()), down_relay(app, taps.down_tap.get());
    BiPump pumps(app, up, session.app_initial, session.up_initial, up_relay, down_relay);
    const std::tuple<PumpResult, PumpResult> ended = co_await pumps.Run();
    r = pumps.Result(ended);
  }
  stats.bytes_up += r.up.bytes;
  stats.bytes_down += r.down.bytes;
  stats.end = RelayEnd(r, /*websocket=*/true);
  if (session.guard) {
    ReportGuardSessionEnd(ctx, *session.guard,
                          r.down.end == PumpEnd::kSourceReset || taps.SawFailedResponse());
  }
  RecordClose(ctx, info, session.negotiated, stats.end, taps);
}

}  // namespace relaytap::proxy::http_relay
