#include "proxy/relay/pump.h"

#include <memory>
#include <span>

#include "base/log.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/pump_buffer.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;

// PumpBuffer::kBytes, one TLS record's plaintext (a TLS read returns at most one record): plain
// TCP tunnels read 16 KiB at a time too, which costs nothing measurable.

void FeedTap(ws::FrameTap* tap, const char* data, size_t n) {
  if (tap != nullptr && !tap->failed()) {
    tap->Feed(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), n), NowUnixMicros());
  }
}

}  // namespace

recorder::EndFacts RelayEnd(const BiPumpResult& r, bool websocket) {
  recorder::EndFacts e;
  e.reason = recorder::EndReason::kRelayEnded;
  e.up = r.up.end;
  e.down = r.down.end;
  e.up_ended_first = r.up_ended_first;
  e.websocket = websocket;
  return e;
}

net::awaitable<void> EndAfterReadError(ByteStream& to, error_code ec, PumpResult& result,
                                       PumpSide side) {
  result.ec = ec;
  PumpPair* p = side.pair;
  const int me = side.index, other = 1 - side.index;
  if (ec == net::error::eof || ec == ssl::error::stream_truncated) {
    side.Ended();
    result.end = PumpEnd::kEof;
    if (p != nullptr) p->done_cleanly[me] = true;
    co_await to.ShutdownSend();
  } else if (p != nullptr && p->done_cleanly[other]) {
    result.end = PumpEnd::kEof;  // closing after the other side's clean end
    co_await to.ShutdownSend();
  } else if (ec == net::error::operation_aborted || (p != nullptr && p->reset_by_proxy[other])) {
    // The opposite pump reset our source (its own source failed): depending on where this
    // pump was (reading, or writing the previous chunk) the read fails as aborted or on a
    // closed descriptor; either way the end was not this side's doing.
    result.end = PumpEnd::kCancelled;
    if (p != nullptr) p->reset_by_proxy[me] = true;
    to.Reset();
  } else {
    side.Ended();
    result.end = IsTimeout(ec) ? PumpEnd::kTimedOut : PumpEnd::kSourceReset;
    if (p != nullptr) p->reset_by_proxy[me] = true;
    to.Reset();
  }
}

net::awaitable<PumpResult> Pump(ByteStream& from, ByteStream& to, std::string_view initial,
                                ws::FrameTap* tap, PumpSide side) {
  PumpResult result;
  if (!initial.empty()) {
    auto [wec, wn] = co_await to.WriteAll(net::buffer(initial));
    if (wec) {
      side.Ended();
      from.Reset();
      co_return PumpResult{PumpEnd::kSinkFailed, wec, 0};
    }
    result.bytes += wn;
    FeedTap(tap, initial.data(), initial.size());
  }
  // The buffer is held only while bytes flow: an idle session (a realtime WebSocket waits for
  // minutes) waits for readability with none. Waiting first is correct only when the source holds
  // no received bytes of its own (TLS); otherwise read at once.
  PumpBuffer buffer;
  for (;;) {
    if (!from.HasBufferedInput()) {
      buffer.Release();
      // A failure here (reset, closed by the opposite pump) shows again in the read below,
      // which classifies it.
      error_code wait_ec = co_await from.WaitReadable();
      (void)wait_ec;
    }
    char* data = buffer.Get();
    auto [ec, n] = co_await from.ReadSome(net::buffer(data, PumpBuffer::kBytes));
    if (n > 0) {
      auto [wec, wn] = co_await to.WriteAll(net::buffer(data, n));
      if (wec) {
        side.Ended();
        from.Reset();
        result.end = PumpEnd::kSinkFailed;
        result.ec = wec;
        co_return result;
      }
      result.bytes += wn;
      FeedTap(tap, data, n);
    }
    if (!ec) continue;
    co_await EndAfterReadError(to, ec, result, side);
    co_return result;
  }
}

net::awaitable<BiPumpResult> PumpBoth(ByteStream& app, ByteStream& upstream,
                                      std::string_view app_initial,
                                      std::string_view upstream_initial, ws::FrameTap* up_tap,
                                      ws::FrameTap* down_tap) {
  app.SetTimeout(std::chrono::milliseconds(0));
  upstream.SetTimeout(std::chrono::milliseconds(0));
  PumpPair pair;
  auto [up, down] = co_await (Pump(app, upstream, app_initial, up_tap, PumpSide{&pair, 0}) &&
                              Pump(upstream, app, upstream_initial, down_tap, PumpSide{&pair, 1}));
  co_return BiPumpResult{up, down, pair.first_ended == 0};
}

}  // namespace relaytap::proxy
