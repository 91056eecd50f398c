#pragma once
// After a 101: the WebSocket session of one exchange. Both sockets go to the byte pump (or, when
// the retry guard's in-session cap is on, the capped relay) with a passive frame tap for each
// direction whose messages someone reads (NeededTaps); the session's end is reported to the
// recorder and the guard. Runs on the connection's io thread.

#include <memory>
#include <string>

#include "proxy/connection_facts.h"
#include "proxy/context.h"
#include "proxy/http/guard_hook.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "proxy/ws/extensions.h"

namespace relaytap::proxy::http_relay {

// What the 101 response negotiated.
struct NegotiatedWebSocket {
  std::string extensions;   // Sec-WebSocket-Extensions
  std::string subprotocol;  // Sec-WebSocket-Protocol (one token the server chose)
};

// Which directions need a frame tap (a decoder fed a copy of every relayed byte). None when no
// one reads the messages: no recorder sink, no extra observer, guard off, no debug logging.
struct TapNeeds {
  bool up = false;    // app -> upstream
  bool down = false;  // upstream -> app
};
TapNeeds NeededTaps(bool recording, bool guard_active, bool capped,
                    const ws::PerMessageDeflate& deflate);

// Both sides of a connection just switched to WebSocket, owned. The exchange loop returns it and
// the coroutines that led to the 101 (the CONNECT, the TLS interception, the loop) return with
// it, so their frames are freed before the relay starts: a session that idles for minutes holds
// only the relay's own frames.
struct UpgradedSession {
  std::unique_ptr<ByteStream> app;  // set by whoever owned the app's stream
  std::unique_ptr<ByteStream> up;
  std::string app_initial;  // bytes already read past the handshake: they go first
  std::string up_initial;
  NegotiatedWebSocket negotiated;
  WsSessionInfo info;
  // The upgrade's decision, held only when the guard decided (null: guard off), so that the
  // session keeps nothing of it otherwise.
  std::unique_ptr<GuardCheck> guard;
};

// Relays until both directions ended; `stats` gets the bytes and the end.
Awaitable<void> RunWebSocket(const ProxyContext& ctx, UpgradedSession& session,
                             ConnectionFacts& stats);

}  // namespace relaytap::proxy::http_relay
