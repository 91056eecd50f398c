#pragma once
// The HTTP/1.1 exchange loop of one app connection (inside intercepted TLS, or plain absolute-form
// proxying). Headers are parsed from a copy and forwarded as raw bytes minus the hop-by-hop
// fields; bodies are forwarded as read (Content-Length, chunked or until EOF), streamed with
// back-pressure, so SSE events reach the app when upstream sends them. A 101 hands both sockets
// to the WebSocket pump.

#include <cstdint>
#include <optional>
#include <string>

#include "proxy/config/config.h"
#include "proxy/connection_facts.h"
#include "proxy/context.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/dial.h"
#include "proxy/stream/net.h"
#include "recorder/observation.h"

namespace relaytap::proxy::http_relay {

struct ExchangeLoopParams {
  uint64_t connection_id = 0;
  // Intercepted CONNECT: every request goes to this host over verified TLS. Empty: plain proxying,
  // each request names its target in absolute form.
  std::optional<HostPort> fixed_target;
};

// Runs until the app or upstream closes, an error ends the connection, or a WebSocket session
// ends. `app_buffer` may already hold bytes read from the app.
net::awaitable<void> RunExchangeLoop(const ProxyContext& ctx, ByteStream& app,
                                     beast::flat_buffer& app_buffer, ExchangeLoopParams params,
                                     ConnectionFacts& stats);

}  // namespace relaytap::proxy::http_relay
