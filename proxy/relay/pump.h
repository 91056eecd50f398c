#pragma once
// The byte pump: one loop per direction reads the source and hands each chunk to the direction's
// relay policy, which writes it on. The plain policy writes every byte exactly as read and then
// feeds a FrameTap a copy (blind tunnels, WebSocket sessions after 101); the guard's capped
// relay (capped_relay.h) is the same loop with its own policies. Back-pressure is natural: the
// next read starts only after the policy's write completed. Under the plain policy the loop's
// steady state (read, write, tap, wait: no step waits but the wait for the source) runs as a
// plain handler on the source's wait (ready_relay.h); the loop itself takes over whatever else
// comes (ends, a full destination, a TLS stream's own reads).

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "proxy/ws/frame_tap.h"
#include "recorder/observation.h"

namespace relaytap::proxy {

using recorder::PumpEnd;
using recorder::PumpEndName;

struct PumpResult {
  PumpEnd end = PumpEnd::kEof;
  error_code ec;
  uint64_t bytes = 0;
};

// Shared by the two pumps of one connection (one io thread: no locks). Index 0 is app -> upstream,
// 1 is upstream -> app.
struct PumpPair {
  bool done_cleanly[2] = {false, false};    // the direction ended with EOF
  bool reset_by_proxy[2] = {false, false};  // the direction reset its destination
  int first_ended = -1;                     // the direction whose source ended first
};

// One direction of a pair: `index` into the pair's flags. A read error after the other direction
// already closed cleanly is the ordinary end of a closing connection (a TLS peer writing after our
// close_notify, a reset after a WebSocket close), not a reset to propagate; a read error on a
// source the other direction reset itself is a cancellation.
struct PumpSide {
  PumpPair* pair = nullptr;  // null: a lone pump
  int index = 0;
  void Ended() const {
    if (pair != nullptr && pair->first_ended < 0) pair->first_ended = index;
  }
};

// A policy's destination and tap, when it relays plainly (below).
struct PlainTarget {
  ByteStream* to = nullptr;
  ws::FrameTap* tap = nullptr;
};

// How one direction passes a chunk read from its source on to its destination.
class RelayPolicy {
 public:
  virtual ~RelayPolicy() = default;
  // Writes `chunk` on; adds the bytes its destination accepted to `bytes`; returns the write's
  // error (the pump then ends as kSinkFailed).
  virtual Awaitable<error_code> Relay(std::string_view chunk, uint64_t& bytes) = 0;
  // Set only by a policy whose Relay writes each chunk exactly as read to `to`, then feeds `tap`,
  // and does nothing else: the pump may then relay the chunks that need no wait without its
  // coroutine (relay/ready_relay.h).
  virtual std::optional<PlainTarget> plain_target() const { return std::nullopt; }
};

// Writes each chunk exactly as read to `to`, then feeds `tap` (if set) a copy, so decoding never
// delays the write.
class PlainRelay final : public RelayPolicy {
 public:
  PlainRelay(ByteStream& to, ws::FrameTap* tap) : to_(to), tap_(tap) {}
  Awaitable<error_code> Relay(std::string_view chunk, uint64_t& bytes) override;
  std::optional<PlainTarget> plain_target() const override { return PlainTarget{&to_, tap_}; }

 private:
  ByteStream& to_;
  ws::FrameTap* tap_;
};

// Feeds `tap` (if set and still decoding) a copy of `chunk`, stamped now.
void FeedTap(ws::FrameTap* tap, std::string_view chunk);

// Relays `from` -> `to` through `policy` until `from` ends. `initial` bytes (already read from
// `from`) go first. A clean end of `from` (FIN / close_notify) is passed on to `to` as a clean
// end, a reset as a reset; a keepalive that gave up (ETIMEDOUT) is kTimedOut.
Awaitable<PumpResult> Pump(ByteStream& from, ByteStream& to, std::string_view initial,
                           RelayPolicy& policy, PumpSide side = {});

// Both directions at once; returns when both ended.
struct BiPumpResult {
  PumpResult up;    // app -> upstream
  PumpResult down;  // upstream -> app
  bool up_ended_first = false;
};
// The relay's end as the recorder takes it (EndReason::kRelayEnded).
recorder::EndFacts RelayEnd(const BiPumpResult& r, bool websocket);

// Both directions of one connection: app -> upstream through `up`, upstream -> app through
// `down`, with the flags the two pumps share. Its owner keeps it in its own coroutine frame and
// awaits Run(), which is not a coroutine itself (it returns Both's awaitable, relay/both.h): a
// session idling for minutes then holds the two pumps' frames and nothing for the pair. No idle
// timeout (a session may be quiet for minutes; dead peers are found by TCP keepalive).
class BiPump {
 public:
  BiPump(ByteStream& app, ByteStream& upstream, std::string_view app_initial,
         std::string_view upstream_initial, RelayPolicy& up, RelayPolicy& down)
      : app_(app),
        upstream_(upstream),
        app_initial_(app_initial),
        upstream_initial_(upstream_initial),
        up_(up),
        down_(down) {}
  BiPump(const BiPump&) = delete;
  BiPump& operator=(const BiPump&) = delete;

  // Relays until both directions ended: {app -> upstream, upstream -> app}. The awaitable refers
  // to this object.
  Awaitable<std::tuple<PumpResult, PumpResult>> Run();
  // Run()'s ends, with which direction ended first.
  BiPumpResult Result(const std::tuple<PumpResult, PumpResult>& ended) const;

 private:
  ByteStream& app_;
  ByteStream& upstream_;
  std::string_view app_initial_, upstream_initial_;
  RelayPolicy& up_;
  RelayPolicy& down_;
  PumpPair pair_;
};

// A BiPump as a coroutine of its own, for the relays that compose it further (the tunnel with its
// idle watch, the guard's capped relay); the WebSocket session awaits its BiPump directly.
Awaitable<BiPumpResult> PumpBoth(ByteStream& app, ByteStream& upstream,
                                 std::string_view app_initial, std::string_view upstream_initial,
                                 RelayPolicy& up, RelayPolicy& down);

}  // namespace relaytap::proxy
