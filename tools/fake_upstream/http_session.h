#pragma once
// The HTTP/1.1 keep-alive loop of one connection, plain or TLS. Hands WebSocket upgrades on
// realtime-looking paths to ServeWebSocket().

#include "tools/fake_upstream/state.h"
#include "tools/stream/erased_stream.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream {

// Serves requests until the peer goes away, asks to close, or an endpoint ends the connection.
// `stream` is already connected (and TLS-handshaken); `state` outlives the session.
net::awaitable<void> ServeHttp(ErasedStream& stream, State& state);

// Aborts the TCP connection with a RST (linger 0, close).
void ResetConnection(TcpStream::socket_type& socket);

}  // namespace relaytap::tools::fake_upstream
