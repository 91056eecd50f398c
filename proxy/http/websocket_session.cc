#include "proxy/http/websocket_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <memory>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/relay/cap_state.h"
#include "proxy/relay/capped_relay.h"
#include "proxy/relay/pump.h"
#include "proxy/relay/tap_observer.h"
#include "proxy/ws/extensions.h"

namespace relaytap::proxy::http_relay {
namespace {

// Probes after 60 s of silence, every 15 s, 4 tries: a peer that vanished (NAT timeout, pulled
// cable) is noticed in about two minutes instead of the kernel's default two hours.
void EnableKeepAlive(ByteStream& s) {
  auto& sock = s.tcp().socket();
  error_code ignored;
  sock.set_option(net::socket_base::keep_alive(true), ignored);
  int fd = sock.native_handle();
  int idle = 60, interval = 15, count = 4;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
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
  // after relaying them, from the client tap (CapSession::OnClientMessage); the gate decides
  // every other one from the relayed bytes.
  n.up = capped && deflate.enabled && !deflate.client_no_context_takeover;
  return n;
}

net::awaitable<void> RunWebSocket(const ProxyContext& ctx, ByteStream& app,
                                  beast::flat_buffer& app_buf, ByteStream& up,
                                  beast::flat_buffer& up_buf, const NegotiatedWebSocket& rr,
                                  WsSessionInfo info, const GuardCheck& guard_check,
                                  ConnectionFacts& stats) {
  stats.websocket = true;
  // WebSocket sessions have no idle limit, but dead peers are found by TCP keepalive.
  EnableKeepAlive(app);
  EnableKeepAlive(up);

  std::unique_ptr<SessionTapObserver> observer;
  std::unique_ptr<CapSession> cap;  // only when the guard's in-session cap is enabled
  std::unique_ptr<ws::MessageObserver> cap_observer;
  std::unique_ptr<SessionFailureWatch> failure_watch;  // guard on, no cap
  std::unique_ptr<ws::FrameTap> up_tap, down_tap;
  auto deflate = ws::ParseNegotiatedExtensions(rr.extensions);
  std::string tap_error;
  if (!deflate.ok()) {
    tap_error =
        StrCat("cannot read negotiated extensions: ", std::string(deflate.status().message()));
    RELAYTAP_LOG(kWarn, "conn=", info.connection_id, " ", tap_error, "; relaying without decoding");
  } else {
    info.deflate = *deflate;
    std::unique_ptr<ws::MessageObserver> extra;
    if (ctx.ws_observers != nullptr) extra = ctx.ws_observers->Create(info);
    cap = MakeCapSession(ctx, info);
    const TapNeeds needs = NeededTaps(ctx.sink != nullptr || extra != nullptr, guard_check.active,
                                      cap != nullptr, *deflate);
    observer = std::make_unique<SessionTapObserver>(info, ctx.sink, std::move(extra));
    ws::MessageObserver* tap_observer = observer.get();
    if (cap) {
      cap_observer = cap->WrapObserver(*observer);
      tap_observer = cap_observer.get();
    } else if (guard_check.active) {
      // With a cap, the cap's own classification counts the failed responses (one pass).
      failure_watch = std::make_unique<SessionFailureWatch>(*tap_observer);
      tap_observer = failure_watch.get();
    }
    if (needs.up) {
      up_tap =
          std::make_unique<ws::FrameTap>(ws::Direction::kClientToServer, *deflate, *tap_observer);
    }
    if (needs.down) {
      down_tap =
          std::make_unique<ws::FrameTap>(ws::Direction::kServerToClient, *deflate, *tap_observer);
    }
  }
  std::string app_initial(static_cast<const char*>(app_buf.data().data()), app_buf.size());
  std::string up_initial(static_cast<const char*>(up_buf.data().data()), up_buf.size());
  // The head-parse buffers grew to 32-64 KiB each (ReadHeader prepares 32 KiB reads) and would
  // stay that size for the whole session: give the memory back before the pump starts.
  app_buf.clear();
  app_buf.shrink_to_fit();
  up_buf.clear();
  up_buf.shrink_to_fit();
  BiPumpResult r =
      cap ? co_await PumpBothCapped(app, up, app_initial, up_initial, up_tap.get(), down_tap.get(),
                                    *cap)
          : co_await PumpBoth(app, up, app_initial, up_initial, up_tap.get(), down_tap.get());
  stats.bytes_up += r.up.bytes;
  stats.bytes_down += r.down.bytes;
  stats.end = RelayEnd(r, /*websocket=*/true);
  ReportGuardSessionEnd(ctx, guard_check,
                        r.down.end == PumpEnd::kSourceReset ||
                            (failure_watch && failure_watch->saw_failed_response()) ||
                            (cap && cap->failed_responses() > 0));
  if (ctx.sink != nullptr) {
    recorder::WsSessionClosed closed;
    closed.connection_id = info.connection_id;
    closed.exchange_sequence = info.exchange_sequence;
    closed.close_us = NowUnixMicros();
    closed.subprotocol = rr.subprotocol;
    closed.extensions = rr.extensions;
    closed.end = stats.end;
    if (observer && observer->tap_failed()) {
      closed.tap_failed = true;
      closed.tap_error = observer->tap_error();
    } else if (!tap_error.empty()) {
      closed.tap_failed = true;
      closed.tap_error = tap_error;
    }
    ctx.sink->TrySubmit(recorder::Observation(std::move(closed)));
  }
}

}  // namespace relaytap::proxy::http_relay
