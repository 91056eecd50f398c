#pragma once
// One accepted app connection, from its first request to its close: CONNECT (intercept or tunnel)
// or plain absolute-form HTTP. Runs as one coroutine on the connection's io thread; the frame owns
// every stream and buffer.

#include <cstdint>

#include "proxy/context.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

net::awaitable<void> RunClientSession(const ProxyContext& ctx, TcpSocket app, uint64_t id);

}  // namespace relaytap::proxy
