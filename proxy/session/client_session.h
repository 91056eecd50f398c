#pragma once
// One accepted app connection, from its first request to its close: CONNECT (intercept or tunnel)
// or plain absolute-form HTTP. Runs as coroutines on the connection's io thread. After a switch
// to WebSocket the upgraded session owns both streams and only this coroutine's frame (the close
// line and the connection's facts) stays beneath the relay: the frames that led to the 101 are
// gone.

#include <cstdint>

#include "proxy/context.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

Awaitable<void> RunClientSession(const ProxyContext& ctx, TcpSocket app, uint64_t id);

}  // namespace relaytap::proxy
