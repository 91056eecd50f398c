#include "proxy/relay/capped_relay.h"

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/log.h"
#include "proxy/stream/errors.h"

namespace relaytap::proxy {
namespace {

std::span<const uint8_t> Bytes(std::string_view chunk) {
  return {reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()};
}

// What both directions share (one io thread: no locks). Only one coroutine writes to the app at
// a time.
struct Shared {
  explicit Shared(Executor ex) : app_free(ex) {}
  bool app_busy = false;
  Timer app_free;               // cancelled when the app side is released
  uint64_t injected_by_up = 0;  // error-event bytes the up direction wrote to the app
};

Awaitable<void> AcquireApp(Shared& s) {
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
Awaitable<error_code> WritePending(ByteStream& app, ws::FrameTap* down_tap, CapState& cs,
                                   uint64_t& bytes) {
  while (!cs.pending().empty()) {
    std::string frame = std::move(cs.pending().front());
    cs.pending().pop_front();
    auto [ec, n] = co_await app.WriteAll(net::buffer(frame));
    if (ec) co_return ec;
    bytes += n;
    cs.CountInjected();
    FeedTap(down_tap, frame);
  }
  co_return error_code{};
}

// Upstream -> app: bytes relayed as read, stopping at message boundaries to write pending error
// events.
class CappedDown final : public RelayPolicy {
 public:
  CappedDown(ByteStream& app, ws::FrameTap* tap, CapState& cs, Shared& s)
      : app_(app), tap_(tap), cs_(cs), s_(s) {}

  Awaitable<error_code> Relay(std::string_view chunk, uint64_t& bytes) override {
    co_await AcquireApp(s_);
    error_code result;
    while (!chunk.empty() && !result) {
      size_t k = chunk.size();
      if (cs_.pending().empty()) {
        cs_.down_tracker().Consume(Bytes(chunk));
      } else {
        k = cs_.down_tracker().ConsumeToBoundary(Bytes(chunk));
      }
      // Unlike the plain relay, the tap sees these bytes BEFORE they are written: the cap must
      // know of a failed response.done before the app can answer it with a response.create
      // (after the write, the app's next message could be judged before this coroutine
      // resumes). Only capped sessions pay for decoding ahead of the write.
      FeedTap(tap_, chunk.substr(0, k));
      auto [ec, wn] = co_await app_.WriteAll(net::buffer(chunk.data(), k));
      if (ec) {
        result = ec;
        break;
      }
      bytes += wn;
      chunk.remove_prefix(k);
      if (!cs_.pending().empty() && cs_.down_tracker().at_boundary()) {
        result = co_await WritePending(app_, tap_, cs_, bytes);
      }
    }
    ReleaseApp(s_);
    co_return result;
  }

 private:
  ByteStream& app_;
  ws::FrameTap* tap_;
  CapState& cs_;
  Shared& s_;
};

// App -> upstream: whole frames as received, through the gate. Withheld candidates are replaced
// by a pending error event, written now if the app side is free and at a boundary (else by the
// down direction at the next one).
class CappedUp final : public RelayPolicy {
 public:
  CappedUp(ByteStream& app, ByteStream& upstream, ws::FrameTap* up_tap, ws::FrameTap* down_tap,
           CapState& cs, Shared& s)
      : app_(app), upstream_(upstream), up_tap_(up_tap), down_tap_(down_tap), cs_(cs), s_(s) {}

  Awaitable<error_code> Relay(std::string_view chunk, uint64_t& bytes) override {
    std::vector<ws::GateSegment> segs;
    cs_.gate().Feed(Bytes(chunk), &segs);
    std::string out;
    for (size_t i = 0; i <= segs.size(); ++i) {
      const bool withhold = i < segs.size() && segs[i].candidate && cs_.ShouldWithhold(segs[i]);
      if (i < segs.size() && !withhold) out += segs[i].bytes;
      if ((withhold || i == segs.size()) && !out.empty()) {
        auto [ec, wn] = co_await upstream_.WriteAll(net::buffer(out));
        if (ec) co_return ec;
        bytes += wn;
        FeedTap(up_tap_, out);
        out.clear();
      }
      if (withhold && !s_.app_busy && cs_.down_tracker().at_boundary()) {
        co_await AcquireApp(s_);
        error_code ec = co_await WritePending(app_, down_tap_, cs_, s_.injected_by_up);
        ReleaseApp(s_);
        if (ec) RELAYTAP_LOG(kDebug, "session cap: error event not written: ", ec.message());
      }
    }
    co_return error_code{};
  }

 private:
  ByteStream& app_;
  ByteStream& upstream_;
  ws::FrameTap* up_tap_;
  ws::FrameTap* down_tap_;
  CapState& cs_;
  Shared& s_;
};

}  // namespace

Awaitable<BiPumpResult> RelayWithCap(ByteStream& app, ByteStream& upstream,
                                     std::string_view app_initial,
                                     std::string_view upstream_initial, ws::FrameTap* up_tap,
                                     ws::FrameTap* down_tap, CapState& cap) {
  Shared s(co_await net::this_coro::executor);
  CappedUp up(app, upstream, up_tap, down_tap, cap, s);
  CappedDown down(app, down_tap, cap, s);
  BiPumpResult r = co_await PumpBoth(app, upstream, app_initial, upstream_initial, up, down);
  r.down.bytes += s.injected_by_up;
  co_return r;
}

}  // namespace relaytap::proxy
