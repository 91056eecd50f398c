#pragma once
// The HTTP/1.1 keep-alive loop of one connection, plain or TLS. Hands WebSocket upgrades on
// realtime-looking paths to ServeWebSocket().

#include "proxy/stream/net.h"
#include "tools/fake_upstream/state.h"

namespace relaytap::tools::fake_upstream {

// Serves requests until the peer goes away, asks to close, or an endpoint ends the connection.
// `stream` is already connected (and TLS-handshaken); `state` outlives the session.
template <class Stream>
net::awaitable<void> ServeHttp(Stream& stream, State& state);

extern template net::awaitable<void> ServeHttp<TcpStream>(TcpStream&, State&);
extern template net::awaitable<void> ServeHttp<SslStream>(SslStream&, State&);

// Aborts the TCP connection with a RST (linger 0, close).
void ResetConnection(TcpStream::socket_type& socket);

}  // namespace relaytap::tools::fake_upstream
