#pragma once
// The frame-aware WebSocket relay, used instead of the plain relay only when the retry guard's
// in-session cap is enabled: the pump's loop with two relay policies. Client -> server: whole
// frames forwarded exactly as received; a candidate response.create is decided before it is
// written and may be withheld. Server -> app: bytes relayed as read, with a header-length boundary
// tracker so that the error events of withheld messages are written only between two messages.
// Taps (either may be null) see exactly what each socket was sent.

#include <string_view>

#include "proxy/relay/cap_state.h"
#include "proxy/relay/pump.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "proxy/ws/frame_tap.h"

namespace relaytap::proxy {

// The injected error events count as bytes sent to the app (`down.bytes`).
Awaitable<BiPumpResult> RelayWithCap(ByteStream& app, ByteStream& upstream,
                                     std::string_view app_initial,
                                     std::string_view upstream_initial, ws::FrameTap* up_tap,
                                     ws::FrameTap* down_tap, CapState& cap);

}  // namespace relaytap::proxy
