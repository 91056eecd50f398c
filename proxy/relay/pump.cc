#include "proxy/relay/pump.h"

#include <memory>
#include <span>

#include "base/log.h"
#include "proxy/relay/both.h"
#include "proxy/relay/ready_relay.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/pump_buffer.h"

namespace relaytap::proxy {
namespace {

// How a pump ends once reading its source failed with `ec`: sets `result.end`/`ec` and passes a
// clean end or a reset on to `to`.
Awaitable<void> EndAfterReadError(ByteStream& to, error_code ec, PumpResult& result,
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

// How a pump ends once writing to its destination failed with `ec`: the source is reset.
PumpResult SinkFailed(ByteStream& from, error_code ec, PumpResult& result, PumpSide side) {
  side.Ended();
  from.Reset();
  result.end = PumpEnd::kSinkFailed;
  result.ec = ec;
  return result;
}

}  // namespace

void FeedTap(ws::FrameTap* tap, std::string_view chunk) {
  if (tap != nullptr && !tap->failed()) {
    tap->Feed(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()),
        NowUnixMicros());
  }
}

Awaitable<error_code> PlainRelay::Relay(std::string_view chunk, uint64_t& bytes) {
  auto [ec, n] = co_await to_.WriteAll(net::buffer(chunk));
  if (ec) co_return ec;
  bytes += n;
  FeedTap(tap_, chunk);
  co_return error_code{};
}

recorder::EndFacts RelayEnd(const BiPumpResult& r, bool websocket) {
  recorder::EndFacts e;
  e.reason = recorder::EndReason::kRelayEnded;
  e.up = r.up.end;
  e.down = r.down.end;
  e.up_ended_first = r.up_ended_first;
  e.websocket = websocket;
  return e;
}

Awaitable<PumpResult> Pump(ByteStream& from, ByteStream& to, std::string_view initial,
                           RelayPolicy& policy, PumpSide side) {
  PumpResult result;
  if (!initial.empty()) {
    if (error_code wec = co_await policy.Relay(initial, result.bytes)) {
      co_return SinkFailed(from, wec, result, side);
    }
  }
  // The buffer (PumpBuffer::kBytes, one TLS record's plaintext) is held only while bytes flow:
  // an idle session (a realtime WebSocket waits for minutes) waits for readability with none.
  // Waiting first is correct only when the source holds no received bytes of its own (TLS);
  // otherwise read at once.
  PumpBuffer buffer;
  // A plain policy between two streams that can try their calls: the chunks that need no wait
  // are relayed without this coroutine (relay/ready_relay.h); it goes on below for the rest.
  const std::optional<PlainTarget> plain = policy.plain_target();
  std::optional<ReadyRelay> ready;
  if (plain && from.tries() && plain->to->tries())
    ready.emplace(from, *plain->to, plain->tap, buffer);
  for (;;) {
    if (!from.HasBufferedInput()) {
      buffer.Release();
      if (!ready) {
        // A failure here (reset, closed by the opposite pump) shows again in the read below,
        // which classifies it.
        co_await from.WaitReadable();
      } else {
        const ReadyEnd e = co_await ready->Run();
        result.bytes += e.bytes;
        if (e.kind == ReadyEnd::Kind::kReadFailed) {
          co_await EndAfterReadError(to, e.ec, result, side);
          co_return result;
        }
        if (e.kind == ReadyEnd::Kind::kWriteFailed) co_return SinkFailed(from, e.ec, result, side);
        if (e.kind == ReadyEnd::Kind::kWriteWaits) {
          const std::string_view chunk(buffer.data(), e.size);
          auto [wec, n] = co_await plain->to->WriteAll(net::buffer(chunk.substr(e.written)));
          if (wec) co_return SinkFailed(from, wec, result, side);
          result.bytes += chunk.size();
          FeedTap(plain->tap, chunk);
          continue;
        }
        // kAskPump: the read below.
      }
    }
    char* data = buffer.Get();
    auto [ec, n] = co_await from.ReadSome(net::buffer(data, PumpBuffer::kBytes));
    if (n > 0) {
      if (error_code wec = co_await policy.Relay(std::string_view(data, n), result.bytes)) {
        co_return SinkFailed(from, wec, result, side);
      }
    }
    if (!ec) continue;
    co_await EndAfterReadError(to, ec, result, side);
    co_return result;
  }
}

// Not a coroutine: see the header.
Awaitable<std::tuple<PumpResult, PumpResult>> BiPump::Run() {
  app_.SetTimeout(std::chrono::milliseconds(0));
  upstream_.SetTimeout(std::chrono::milliseconds(0));
  // One loop composed for the two directions (relay/both.h: `&&` without its per-operation
  // cancellation; app -> upstream starts first); should one pump throw, resetting both sockets
  // ends the other.
  return Both(Pump(app_, upstream_, app_initial_, up_, PumpSide{&pair_, 0}),
              Pump(upstream_, app_, upstream_initial_, down_, PumpSide{&pair_, 1}), [this] {
                app_.Reset();
                upstream_.Reset();
              });
}

BiPumpResult BiPump::Result(const std::tuple<PumpResult, PumpResult>& ended) const {
  return BiPumpResult{std::get<0>(ended), std::get<1>(ended), pair_.first_ended == 0};
}

Awaitable<BiPumpResult> PumpBoth(ByteStream& app, ByteStream& upstream,
                                 std::string_view app_initial, std::string_view upstream_initial,
                                 RelayPolicy& up, RelayPolicy& down) {
  BiPump pumps(app, upstream, app_initial, upstream_initial, up, down);
  const std::tuple<PumpResult, PumpResult> ended = co_await pumps.Run();
  co_return pumps.Result(ended);
}

}  // namespace relaytap::proxy
