#include "proxy/relay/capped_relay.h"

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/log.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/pump_buffer.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;

std::span<const uint8_t> Bytes(const char* data, size_t n) {
  return {reinterpret_cast<const uint8_t*>(data), n};
}

void FeedTap(ws::FrameTap* tap, const char* data, size_t n) {
  if (tap != nullptr && !tap->failed()) tap->Feed(Bytes(data, n), NowUnixMicros());
}

// What both pumps share (one io thread: no locks). Only one coroutine writes to the app at a time.
struct Shared {
  explicit Shared(Executor ex) : app_free(ex) {}
  PumpPair pair;
  bool app_busy = false;
  Timer app_free;  // cancelled when the app side is released
};

net::awaitable<void> AcquireApp(Shared& s) {
  // Two writers at most, and each holds it for one write round: bounded.
  while (s.app_busy) {
    s.app_free.expires_at(std::chrono::steady_clock::time_point::max());
    co_await s.app_free.async_wait();
  }
  s.app_busy = true;
}

void ReleaseApp(Shared& s) {
  s.app_busy = false;
  s.app_free.cancel();
}

// Writes every pending error event (the caller holds the app side, at a message boundary).
net::awaitable<error_code> WritePending(ByteStream& app, ws::FrameTap* down_tap, CapSession& cs,
                                        uint64_t& bytes) {
  while (!cs.pending().empty()) {
    std::string frame = std::move(cs.pending().front());
    cs.pending().pop_front();
    auto [ec, n] = co_await app.WriteAll(net::buffer(frame));
    if (ec) co_return ec;
    bytes += n;
    cs.CountInjected();
    FeedTap(down_tap, frame.data(), frame.size());
  }
  co_return error_code{};
}

// Relays `data` to the app, stopping at message boundaries to write pending error events.
net::awaitable<error_code> RelayDown(ByteStream& app, ws::FrameTap* tap, CapSession& cs, Shared& s,
                                     const char* data, size_t n, uint64_t& bytes) {
  co_await AcquireApp(s);
  error_code result;
  size_t pos = 0;
  while (pos < n && !result) {
    size_t k = n - pos;
    if (cs.pending().empty()) {
      cs.down_tracker().Consume(Bytes(data + pos, k));
    } else {
      k = cs.down_tracker().ConsumeToBoundary(Bytes(data + pos, k));
    }
    // Unlike the plain pump, the tap sees these bytes BEFORE they are written: the cap must
    // know of a failed response.done before the app can answer it with a response.create
    // (after the write, the app's next message could be judged before this coroutine resumes).
    // Only capped sessions pay for decoding ahead of the write.
    FeedTap(tap, data + pos, k);
    auto [ec, wn] = co_await app.WriteAll(net::buffer(data + pos, k));
    if (ec) {
      result = ec;
      break;
    }
    bytes += wn;
    pos += k;
    if (!cs.pending().empty() && cs.down_tracker().at_boundary()) {
      result = co_await WritePending(app, tap, cs, bytes);
    }
  }
  ReleaseApp(s);
  co_return result;
}

// Writes what the gate let through; withheld candidates are replaced by a pending error event,
// written now if the app side is free and at a boundary (else by the down pump at the next one).
net::awaitable<error_code> RelayUp(ByteStream& app, ByteStream& upstream, ws::FrameTap* up_tap,
                                   ws::FrameTap* down_tap, CapSession& cs, Shared& s,
                                   const char* data, size_t n, uint64_t& bytes,
                                   uint64_t& down_bytes) {
  std::vector<ws::GateSegment> segs;
  cs.gate().Feed(Bytes(data, n), &segs);
  std::string out;
  for (size_t i = 0; i <= segs.size(); ++i) {
    const bool withhold = i < segs.size() && segs[i].candidate && cs.ShouldWithhold(segs[i]);
    if (i < segs.size() && !withhold) out += segs[i].bytes;
    if ((withhold || i == segs.size()) && !out.empty()) {
      auto [ec, wn] = co_await upstream.WriteAll(net::buffer(out));
      if (ec) co_return ec;
      bytes += wn;
      FeedTap(up_tap, out.data(), out.size());
      out.clear();
    }
    if (withhold && !s.app_busy && cs.down_tracker().at_boundary()) {
      co_await AcquireApp(s);
      error_code ec = co_await WritePending(app, down_tap, cs, down_bytes);
      ReleaseApp(s);
      if (ec) RELAYTAP_LOG(kDebug, "session cap: error event not written: ", ec.message());
    }
  }
  co_return error_code{};
}

// Reads `from` until it ends, handing each chunk (`initial` first) to `relay(data, n, bytes)`,
// which writes it on and returns the write's error. Like Pump(), the buffer is held only while
// bytes flow: an idle session waits for readability with none.
template <typename Relay>
net::awaitable<PumpResult> CappedDirection(ByteStream& from, ByteStream& to,
                                           std::string_view initial, PumpSide side, Relay relay) {
  PumpResult result;
  if (!initial.empty()) {
    if (error_code wec = co_await relay(initial.data(), initial.size(), result.bytes)) {
      side.Ended();
      from.Reset();
      co_return PumpResult{PumpEnd::kSinkFailed, wec, result.bytes};
    }
  }
  PumpBuffer buffer;
  for (;;) {
    if (!from.HasBufferedInput()) {
      buffer.Release();
      error_code wait_ec = co_await from.WaitReadable();  // a failure shows again in the read
      (void)wait_ec;
    }
    char* data = buffer.Get();
    auto [ec, n] = co_await from.ReadSome(net::buffer(data, PumpBuffer::kBytes));
    if (n > 0) {
      if (error_code wec = co_await relay(data, n, result.bytes)) {
        side.Ended();
        from.Reset();
        co_return PumpResult{PumpEnd::kSinkFailed, wec, result.bytes};
      }
    }
    if (!ec) continue;
    co_await EndAfterReadError(to, ec, result, side);
    co_return result;
  }
}

}  // namespace

net::awaitable<BiPumpResult> PumpBothCapped(ByteStream& app, ByteStream& upstream,
                                            std::string_view app_initial,
                                            std::string_view upstream_initial, ws::FrameTap* up_tap,
                                            ws::FrameTap* down_tap, CapSession& session) {
  app.SetTimeout(std::chrono::milliseconds(0));
  upstream.SetTimeout(std::chrono::milliseconds(0));
  Shared s(co_await net::this_coro::executor);
  uint64_t injected_bytes = 0;
  auto relay_up = [&](const char* data, size_t n, uint64_t& bytes) {
    return RelayUp(app, upstream, up_tap, down_tap, session, s, data, n, bytes, injected_bytes);
  };
  auto relay_down = [&](const char* data, size_t n, uint64_t& bytes) {
    return RelayDown(app, down_tap, session, s, data, n, bytes);
  };
  auto [up, down] =
      co_await (CappedDirection(app, upstream, app_initial, PumpSide{&s.pair, 0}, relay_up) &&
                CappedDirection(upstream, app, upstream_initial, PumpSide{&s.pair, 1}, relay_down));
  down.bytes += injected_bytes;
  co_return BiPumpResult{up, down, s.pair.first_ended == 0};
}

}  // namespace relaytap::proxy
