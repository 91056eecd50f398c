#pragma once
// The byte pump: bytes read from one side are written to the other exactly as read. Used for blind
// tunnels and, with a FrameTap per direction, for WebSocket sessions after 101. Back-pressure is
// natural: the next read starts only after the write completed.

#include <cstdint>
#include <string_view>

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

// Relays `from` -> `to` until `from` ends. `initial` bytes (already read from `from`) go first.
// `tap`, if set, is fed a copy of every chunk after it was written (so decoding never delays it).
net::awaitable<PumpResult> Pump(ByteStream& from, ByteStream& to, std::string_view initial,
                                ws::FrameTap* tap, PumpSide side = {});

// How a pump ends once reading its source failed with `ec`: sets `result.end`/`ec`, propagates
// a clean end (FIN / close_notify) or a reset to `to`. Shared by Pump() and the guard's capped
// relay so both classify ends the same way. A keepalive that gave up (ETIMEDOUT) is kTimedOut.
net::awaitable<void> EndAfterReadError(ByteStream& to, error_code ec, PumpResult& result,
                                       PumpSide side);

// Both directions at once; returns when both ended. `a` is the app side.
struct BiPumpResult {
  PumpResult up;    // app -> upstream
  PumpResult down;  // upstream -> app
  bool up_ended_first = false;
};
// The relay's end as the recorder takes it (EndReason::kRelayEnded).
recorder::EndFacts RelayEnd(const BiPumpResult& r, bool websocket);
net::awaitable<BiPumpResult> PumpBoth(ByteStream& app, ByteStream& upstream,
                                      std::string_view app_initial,
                                      std::string_view upstream_initial, ws::FrameTap* up_tap,
                                      ws::FrameTap* down_tap);

}  // namespace relaytap::proxy
