#pragma once
// The upstream's answer to one forwarded request: interim 1xx heads relayed as they come, then
// the final head (rewritten minus hop-by-hop fields) and its body exactly as it arrives, or the
// hand-off point of a 101. The retry guard hears the final status; the exchange's recording gets
// the head, timings, a body sample and the SSE stream. A failure before any byte reached the app
// is answered locally (502/504); after, the app's connection is reset.

#include <string>
#include <string_view>

#include "proxy/connection_facts.h"
#include "proxy/context.h"
#include "proxy/http/guard_hook.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "recorder/observation.h"

namespace relaytap::proxy::http_relay {

struct ResponseResult {
  bool any_bytes_to_app = false;
  bool switched = false;  // 101 relayed
  bool keep_alive = false;
  bool failed = false;      // the connection must end (stats.end says why)
  std::string extensions;   // Sec-WebSocket-Extensions of a 101
  std::string subprotocol;  // Sec-WebSocket-Protocol of a 101 (one token the server chose)
};

// What the request's body relay and the response relay of one exchange tell each other while
// both run.
struct ExchangeSignals {
  bool response_head_seen = false;  // a final or interim head arrived from upstream
  bool request_malformed = false;   // the app's body was not valid HTTP/1.1
};

// What relaying one response works with; all of it outlives the relay.
struct ResponseRelay {
  const ProxyContext& ctx;
  ByteStream& up;
  beast::flat_buffer& up_buf;  // may already hold response bytes
  ByteStream& app;
  ConnectionFacts& stats;
  recorder::Exchange* obs;  // null when not recording
  const GuardCheck& guard;
  std::string_view host;  // for local error answers
  bool head_request = false;
  ExchangeSignals* signals = nullptr;  // null when the request had no body to relay
};

Awaitable<ResponseResult> RelayResponse(ResponseRelay r);

}  // namespace relaytap::proxy::http_relay
