#pragma once
// A realtime-shaped WebSocket session over an already-read upgrade request.

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include "tools/fake_upstream/state.h"
#include "tools/fake_upstream/util.h"
#include "tools/stream/erased_stream.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream {

// Path prefixes answered with a WebSocket upgrade.
bool IsWebSocketPath(const std::string& path);

// Accepts `upgrade` on `stream` and runs the session until it ends; records its transcript.
net::awaitable<void> ServeWebSocket(ErasedStream& stream, http::request<http::empty_body> upgrade,
                                    Target target, State& state);

}  // namespace relaytap::tools::fake_upstream
