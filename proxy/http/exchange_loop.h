#pragma once
// The HTTP/1.1 exchange loop of one app connection (inside intercepted TLS, or plain absolute-form
// proxying). Headers are parsed from a copy and forwarded as raw bytes minus the hop-by-hop
// fields; bodies are forwarded as read (Content-Length, chunked or until EOF), streamed with
// back-pressure, so SSE events reach the app when upstream sends them. A 101 ends the loop: it
// returns both sockets for the WebSocket relay.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "proxy/config/config.h"
#include "proxy/connection_facts.h"
#include "proxy/context.h"
#include "proxy/http/websocket_session.h"
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

// Runs until the app or upstream closes or an error ends the connection (then returns null), or
// until an exchange switches to WebSocket: then returns the upgraded session, its `app` left for
// the caller (who owns the app's stream) to set. `app_buffer` may already hold bytes read from
// the app; after an upgrade it is empty and released.
Awaitable<std::unique_ptr<UpgradedSession>> RunExchangeLoop(const ProxyContext& ctx,
                                                            ByteStream& app,
                                                            beast::flat_buffer& app_buffer,
                                                            ExchangeLoopParams params,
                                                            ConnectionFacts& stats);

}  // namespace relaytap::proxy::http_relay
