#pragma once
// The byte pump: bytes read from one side are written to the other exactly as read. Used for blind
// tunnels and, with a FrameTap per direction, for WebSocket sessions after 101. Back-pressure is
// natural: the next read starts only after the write completed.

#include <cstdint>
#include <string_view>

#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "proxy/ws/frame_tap.h"

namespace relaytap::proxy {

enum class PumpEnd {
  kEof,          // the source closed cleanly (FIN or TLS close); FIN propagated
  kSourceReset,  // the source reset or failed; destination reset
  kSinkFailed,   // writing to the destination failed; source reset
  kCancelled,
};
std::string_view PumpEndName(PumpEnd e);

struct PumpResult {
  PumpEnd end = PumpEnd::kEof;
  error_code ec;
  uint64_t bytes = 0;
};

// Shared by the two pumps of one connection.
struct PumpPair {
  bool up_done_cleanly = false;    // app -> upstream ended with EOF
  bool down_done_cleanly = false;  // upstream -> app ended with EOF
  bool app_reset_by_proxy = false;       // the upstream -> app pump reset the app side
  bool upstream_reset_by_proxy = false;  // the app -> upstream pump reset the upstream side
};

// Relays `from` -> `to` until `from` ends. `initial` bytes (already read from `from`) go first.
// `tap`, if set, is fed a copy of every chunk after it was written (so decoding never delays it).
// `mine` / `other` (optional) are this pump's and the opposite pump's clean-end flags: a read
// error after the other direction already closed cleanly is the ordinary end of a closing
// connection (a TLS peer writing after our close_notify, a reset after a WebSocket close), not a
// reset to propagate. `reset_to` (optional) is set before this pump resets `to`; `from_reset`
// (optional) is the opposite pump's `reset_to`: a read error on a source we reset ourselves
// (EBADF, an aborted read, whatever the socket state gives) is a cancellation, not a reset.
net::awaitable<PumpResult> Pump(ByteStream& from, ByteStream& to, std::string_view initial,
                                ws::FrameTap* tap, bool* mine = nullptr,
                                const bool* other = nullptr, bool* reset_to = nullptr,
                                const bool* from_reset = nullptr);

// How a pump ends once reading its source failed with `ec`: sets `result.end`/`ec`, propagates
// a clean end (FIN / close_notify) or a reset to `to`. The flags are Pump()'s (all optional).
// Shared by Pump() and the guard's capped pump so both classify ends the same way.
net::awaitable<void> EndAfterReadError(ByteStream& to, error_code ec, PumpResult& result,
                                       bool* mine, const bool* other, bool* reset_to,
                                       const bool* from_reset);

// Both directions at once; returns when both ended. `a` is the app side.
struct BiPumpResult {
  PumpResult up;    // app -> upstream
  PumpResult down;  // upstream -> app
};
net::awaitable<BiPumpResult> PumpBoth(ByteStream& app, ByteStream& upstream,
                                      std::string_view app_initial,
                                      std::string_view upstream_initial, ws::FrameTap* up_tap,
                                      ws::FrameTap* down_tap);

}  // namespace relaytap::proxy
