#pragma once
// What the relay observes, handed to the recorder as plain values. These hold RAW data (header
// values, targets, payload copies): they live only in memory, in the bounded queue, until the
// recorder's writer thread redacts them. Nothing here may be logged or written as is.
//
// proxy/ includes only this header and sink.h from recorder/.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace relaytap::recorder {

using Headers = std::vector<std::pair<std::string, std::string>>;  // wire order, raw values

struct TlsFacts {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_128_GCM_SHA256"
  std::string alpn;     // "http/1.1" or ""
};

// A TCP connection from an app was accepted and its first request head read.
struct ConnectionOpened {
  uint64_t connection_id = 0;
  int64_t open_us = 0;  // UTC microseconds
  std::string client_address;  // "127.0.0.1:51234"
  std::string target_host;
  uint16_t target_port = 0;
  bool intercepted = false;  // false: blind tunnel or plain HTTP
  bool tunnel = false;
};

// The connection ended. Timings are -1 when the phase did not happen.
struct ConnectionClosed {
  uint64_t connection_id = 0;
  int64_t close_us = 0;
  std::string upstream_address;  // address actually dialled, "ip:port"
  int64_t dns_us = -1;
  int64_t tcp_connect_us = -1;
  int64_t upstream_tls_us = -1;
  int64_t app_tls_us = -1;
  std::optional<TlsFacts> app_tls;
  std::optional<TlsFacts> upstream_tls;
  uint64_t bytes_up = 0;    // app -> upstream
  uint64_t bytes_down = 0;  // upstream -> app
  std::string end;          // how it ended (as in the close log line), e.g. "upstream_reset"
  std::string close_side;   // "app", "upstream", "proxy" or ""
  std::string outcome;      // a DESIGN.md outcome class when the proxy knows it, else ""
};

// A bounded copy of a body, for its redacted shape. Never stored as is.
struct BodySample {
  std::string content_type;
  uint64_t total_bytes = 0;
  std::string bytes;  // the first bytes, up to the sample cap
  bool truncated = false;
};

struct SseEvent {
  int64_t at_us = 0;
  std::string event;  // the `event:` field, if any
  std::string data;   // the `data:` lines joined with '\n' (bounded)
};

// The decoded body of a text/event-stream response as it arrived (a bounded copy). The relay only
// appends; the recorder's writer thread parses it into Exchange::sse_events (sse_parser.h).
struct SseCapture {
  std::string bytes;
  std::vector<std::pair<size_t, int64_t>> chunk_ends;  // (end offset in bytes, arrival UTC us)
  int64_t end_us = 0;      // when the body ended (completes a last unterminated event)
  bool truncated = false;  // the byte cap was reached; later bytes were not kept
};

// One HTTP request/response on a connection (including a WebSocket upgrade and its answer).
struct Exchange {
  uint64_t connection_id = 0;
  uint32_t sequence = 0;  // 1-based within the connection
  std::string method;
  std::string host;    // target host (CONNECT host or absolute-form host)
  std::string target;  // request target as sent (may carry secret query parameters)
  Headers request_headers;
  BodySample request_body;
  int status = 0;  // 0: no response (see error_*)
  Headers response_headers;
  BodySample response_body;
  std::vector<SseEvent> sse_events;  // text/event-stream responses (parsed from sse_capture)
  bool sse_events_truncated = false;
  SseCapture sse_capture;
  int64_t request_start_us = 0;
  int64_t response_headers_us = 0;  // 0 if none
  int64_t first_body_byte_us = 0;   // 0 if none
  int64_t end_us = 0;
  bool websocket_upgrade = false;  // the request asked for an upgrade
  bool switched = false;           // upstream answered 101
  std::string local_error_code;    // set when relaytap answered itself (502/504/400/431)
  std::string error_stage;         // "dns" / "connect" / "tls" / "response" / "request"
  std::string error_reason;        // human-readable, may name hosts, never secrets
  std::string end;                 // "complete", "upstream_reset_mid_response", "app_closed", ...
};

enum class WsDirection : uint8_t { kClientToServer = 0, kServerToClient = 1 };

// One whole WebSocket message as decoded by the frame tap.
struct WsMessage {
  uint64_t connection_id = 0;
  uint32_t exchange_sequence = 0;  // the exchange that opened the session
  uint64_t sequence = 0;           // 1-based within the session, both directions
  WsDirection direction = WsDirection::kClientToServer;
  uint8_t opcode = 1;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong
  int64_t first_frame_us = 0;
  int64_t last_frame_us = 0;
  uint64_t wire_bytes = 0;
  uint64_t payload_bytes = 0;  // inflated size (may exceed payload.size() when truncated)
  uint32_t frame_count = 0;
  bool compressed = false;
  std::string payload;  // raw, possibly a prefix (truncated)
  bool truncated = false;
  std::optional<uint16_t> close_code;
  std::string close_reason;
};

// The WebSocket session of an exchange ended (both pumps finished).
struct WsSessionClosed {
  uint64_t connection_id = 0;
  uint32_t exchange_sequence = 0;
  int64_t close_us = 0;
  std::string subprotocol;  // negotiated Sec-WebSocket-Protocol (already non-secret: one token)
  std::string extensions;   // negotiated Sec-WebSocket-Extensions
  std::string app_end;       // "eof", "reset", "sink_failed", "cancelled"
  std::string upstream_end;
  bool tap_failed = false;
  std::string tap_error;
};

// A retry-guard decision about one request (forward / reject) or a change of a key's guard state
// (breaker_open, breaker_half_open, breaker_closed, hold_start, hold_end). Holds no raw data: the
// key is host[/deployment][ client=ADDR] and counts are a JSON object of numbers.
struct GuardDecision {
  int64_t at_us = 0;
  std::string key;
  std::string mode;      // "observe" | "enforce"
  std::string decision;  // "forward" | "reject" | one of the state changes above
  std::string reason;    // "first_attempt", "attempt_cap", ...; "" for state changes
  std::string counts;    // JSON
  uint64_t connection_id = 0;       // 0 for state changes not caused by a request
  uint32_t exchange_sequence = 0;
  int64_t retry_after_ms = 0;
};

using Observation = std::variant<ConnectionOpened, ConnectionClosed, Exchange, WsMessage,
                                 WsSessionClosed, GuardDecision>;

// Approximate memory an observation holds (for the queue's byte bound).
uint64_t ApproximateBytes(const Observation& obs);

}  // namespace relaytap::recorder
