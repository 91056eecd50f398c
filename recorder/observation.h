#pragma once
// What the relay observes, handed to the recorder as plain values. These hold RAW data (header
// values, targets, payload copies): they live only in memory, in the bounded queue, until the
// recorder's writer thread redacts them. Nothing here may be logged or written as is.
//
// proxy/ includes only this header and sink.h from recorder/.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace relaytap::recorder {

using Headers = std::vector<std::pair<std::string, std::string>>;  // wire order, raw values

// How a connection, or one exchange on it, ended: set by the proxy where the end happens and
// classified once, by the recorder (outcome.h). The names (EndText) are the close log line's
// `end=` and the store's close_reason / end_reason.
enum class EndReason : uint8_t {
  kNone,                         // "" (not ended)
  kComplete,                     // "complete": an exchange answered in full
  kSwitched,                     // "switched": an exchange upgraded to a WebSocket session
  kAppClosed,                    // "app_closed": the app closed between requests
  kAppClosedBeforeRequest,       // "app_closed_before_request"
  kIdleTimeout,                  // "idle_timeout": a keep-alive connection left idle
  kRequestHeadTimeout,           // "request_head_timeout": a head not complete in head_timeout
  kTunnelIdleTimeout,            // "tunnel_idle_timeout": a blind tunnel silent both ways
  kClosedAfterResponse,          // "closed_after_response": Connection: close honoured
  kBadRequest400,                // "bad_request_400": relaytap answered a malformed request
  kBadRequest431,                // "bad_request_431": request head over 64 KiB
  kProxyAuthRequired,            // "proxy_auth_required": remote mode, no valid credentials (407)
  kClientNotAllowed,             // "client_not_allowed": remote mode, client not in the allowlist
  kDestinationForbidden,         // "destination_forbidden": remote mode, an internal address (403)
  kCertificateError,             // "certificate_error": relaytap could not mint the host's cert
  kClientRejectedCa,             // "client_rejected_ca": the app does not trust relaytap's CA
  kAppTlsHandshakeFailed,        // "app_tls_handshake_failed"
  kAppTlsHandshakeTimeout,       // "app_tls_handshake_timeout"
  kUpstreamDialFailed,           // "upstream_<stage>_failed" (EndFacts::dial_stage)
  kUpstreamDialTimeout,          // "upstream_<stage>_timeout"
  kUpstreamTimeout,              // "upstream_timeout": no response head in time
  kUpstreamResetBeforeResponse,  // "upstream_reset_before_response"
  kAppClosedMidResponse,         // "app_closed_mid_response": writing to the app failed
  kUpstreamTimeoutMidResponse,   // "upstream_timeout_mid_response"
  kUpstreamResetMidResponse,     // "upstream_reset_mid_response"
  kGuardRejected,                // "guard_rejected": the retry guard answered locally
  kRelayEnded,                   // a tunnel or WebSocket relay: "[ws ]app:<end> upstream:<end>"
  kProxyShutdown,                // "proxy_shutdown": still open when relaytap stopped
  kAppSniMismatch,               // "app_sni_mismatch": the app's SNI named another host than
                                 // its CONNECT; the handshake was refused
  kProxyLoop,                    // "proxy_loop": a CONNECT that relaytap itself sent upstream
                                 // came back to it (answered 508)
};

// Who ended a connection or session.
enum class EndSide : uint8_t { kNone, kApp, kUpstream, kProxy };

// How one direction of a relay (source -> destination) ended.
enum class PumpEnd : uint8_t {
  kEof,          // "eof": the source closed cleanly (FIN or TLS close); FIN propagated
  kSourceReset,  // "reset": the source reset or failed; destination reset
  kTimedOut,     // "timeout": the source's TCP keepalive gave up on a vanished peer
  kSinkFailed,   // "sink_failed": writing to the destination failed; source reset
  kCancelled,    // "cancelled": the other direction reset this source, or relaytap stopped
};

// The step of dialling upstream that failed. kProxy: reaching the upstream proxy (--upstream-proxy)
// or its answer to CONNECT (refused, 407, 403, a timeout, any non-2xx).
enum class DialStage : uint8_t { kNone, kDns, kConnect, kTls, kProxy };

struct EndFacts {
  EndReason reason = EndReason::kNone;
  DialStage dial_stage = DialStage::kNone;  // kUpstreamDialFailed / kUpstreamDialTimeout
  int proxy_status = 0;  // DialStage::kProxy: the upstream proxy's status to CONNECT (0: none)
  // kRelayEnded: how each direction ended, which ended first, and whether it was a WebSocket.
  PumpEnd up = PumpEnd::kEof;    // app -> upstream
  PumpEnd down = PumpEnd::kEof;  // upstream -> app
  bool up_ended_first = false;
  bool websocket = false;
};

constexpr std::string_view PumpEndName(PumpEnd e) {
  switch (e) {
    case PumpEnd::kEof:
      return "eof";
    case PumpEnd::kSourceReset:
      return "reset";
    case PumpEnd::kTimedOut:
      return "timeout";
    case PumpEnd::kSinkFailed:
      return "sink_failed";
    case PumpEnd::kCancelled:
      return "cancelled";
  }
  return "?";
}

constexpr std::string_view DialStageName(DialStage s) {
  switch (s) {
    case DialStage::kNone:
      return "none";
    case DialStage::kDns:
      return "dns";
    case DialStage::kConnect:
      return "connect";
    case DialStage::kTls:
      return "tls";
    case DialStage::kProxy:
      return "proxy";
  }
  return "?";
}

constexpr std::string_view EndSideName(EndSide s) {
  switch (s) {
    case EndSide::kNone:
      return "";
    case EndSide::kApp:
      return "app";
    case EndSide::kUpstream:
      return "upstream";
    case EndSide::kProxy:
      return "proxy";
  }
  return "";
}

// The name of an end reason without its details ("upstream_dial_failed" and "relay" for the two
// that have them; EndText spells those out).
constexpr std::string_view EndReasonName(EndReason r) {
  switch (r) {
    case EndReason::kNone:
      return "";
    case EndReason::kComplete:
      return "complete";
    case EndReason::kSwitched:
      return "switched";
    case EndReason::kAppClosed:
      return "app_closed";
    case EndReason::kAppClosedBeforeRequest:
      return "app_closed_before_request";
    case EndReason::kIdleTimeout:
      return "idle_timeout";
    case EndReason::kRequestHeadTimeout:
      return "request_head_timeout";
    case EndReason::kTunnelIdleTimeout:
      return "tunnel_idle_timeout";
    case EndReason::kClosedAfterResponse:
      return "closed_after_response";
    case EndReason::kBadRequest400:
      return "bad_request_400";
    case EndReason::kBadRequest431:
      return "bad_request_431";
    case EndReason::kProxyAuthRequired:
      return "proxy_auth_required";
    case EndReason::kClientNotAllowed:
      return "client_not_allowed";
    case EndReason::kDestinationForbidden:
      return "destination_forbidden";
    case EndReason::kCertificateError:
      return "certificate_error";
    case EndReason::kClientRejectedCa:
      return "client_rejected_ca";
    case EndReason::kAppTlsHandshakeFailed:
      return "app_tls_handshake_failed";
    case EndReason::kAppTlsHandshakeTimeout:
      return "app_tls_handshake_timeout";
    case EndReason::kUpstreamDialFailed:
      return "upstream_dial_failed";
    case EndReason::kUpstreamDialTimeout:
      return "upstream_dial_timeout";
    case EndReason::kUpstreamTimeout:
      return "upstream_timeout";
    case EndReason::kUpstreamResetBeforeResponse:
      return "upstream_reset_before_response";
    case EndReason::kAppClosedMidResponse:
      return "app_closed_mid_response";
    case EndReason::kUpstreamTimeoutMidResponse:
      return "upstream_timeout_mid_response";
    case EndReason::kUpstreamResetMidResponse:
      return "upstream_reset_mid_response";
    case EndReason::kGuardRejected:
      return "guard_rejected";
    case EndReason::kRelayEnded:
      return "relay";
    case EndReason::kProxyShutdown:
      return "proxy_shutdown";
    case EndReason::kAppSniMismatch:
      return "app_sni_mismatch";
    case EndReason::kProxyLoop:
      return "proxy_loop";
  }
  return "?";
}

// The spelling for the log and the store: "idle_timeout", "upstream_connect_timeout",
// "app:eof upstream:reset", "ws app:eof upstream:eof", ...
inline std::string EndText(const EndFacts& e) {
  std::string out;
  if (e.reason == EndReason::kUpstreamDialFailed || e.reason == EndReason::kUpstreamDialTimeout) {
    out.append("upstream_").append(DialStageName(e.dial_stage));
    out.append(e.reason == EndReason::kUpstreamDialTimeout ? "_timeout" : "_failed");
  } else if (e.reason == EndReason::kRelayEnded) {
    if (e.websocket) out.append("ws ");
    out.append("app:").append(PumpEndName(e.up));
    out.append(" upstream:").append(PumpEndName(e.down));
  } else {
    out.append(EndReasonName(e.reason));
  }
  return out;
}

struct TlsFacts {
  // OpenSSL's own names (SSL_get_version, SSL_CIPHER_get_name): static strings of its tables,
  // valid for the life of the process. Held as views, so that the facts of a connection that
  // lives for hours cost it no allocation; never assign other text to them.
  std::string_view version;  // "TLSv1.3"
  std::string_view cipher;   // "TLS_AES_128_GCM_SHA256"
  std::string alpn;          // "http/1.1" or ""
  // Upstream only: the subject of the trust anchor the peer's chain was verified against (RFC
  // 2253), e.g. a TLS-inspecting proxy's CA instead of the public root.
  std::string issuer;
};

// A TCP connection from an app was accepted and its first request head read.
struct ConnectionOpened {
  uint64_t connection_id = 0;
  int64_t open_us = 0;         // UTC microseconds
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
  std::string upstream_address;   // address actually dialled, "ip:port"
  std::string upstream_proxy;     // --upstream-proxy HOST:PORT used (never credentials), or ""
  int proxy_status = 0;           // its answer to CONNECT (0: none)
  int64_t proxy_connect_us = -1;  // CONNECT sent to the 2xx read
  int64_t dns_us = -1;
  int64_t tcp_connect_us = -1;
  int64_t upstream_tls_us = -1;
  int64_t app_tls_us = -1;
  std::optional<TlsFacts> app_tls;
  std::optional<TlsFacts> upstream_tls;
  uint64_t bytes_up = 0;    // app -> upstream
  uint64_t bytes_down = 0;  // upstream -> app
  EndFacts end;             // how it ended; the recorder derives the outcome and the closing side
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
  bool self_check = false;         // relaytap answered it on its self-check host, never dialled
  std::string error_stage;         // "dns" / "connect" / "tls" / "response" / "request"
  std::string error_reason;        // human-readable, may name hosts, never secrets
  EndFacts end;                    // kComplete, kSwitched, kUpstreamResetMidResponse, ...
};

enum class WsDirection : uint8_t { kClientToServer = 0, kServerToClient = 1 };

// Why a message's payload was not kept whole (proxy/ws/frame_tap.h: Truncation): it is recorded
// as metadata, with its size, and the stored payload names the limit (PayloadLimitName).
enum class PayloadLimit : uint8_t {
  kNone,
  kObservationCap,    // longer than the per-message observation cap
  kExpansionRatio,    // a compressed message that inflated past the expansion ratio
  kReassemblyBudget,  // the process-wide reassembly budget was spent
};
constexpr std::string_view PayloadLimitName(PayloadLimit limit) {
  switch (limit) {
    case PayloadLimit::kNone:
      return "none";
    case PayloadLimit::kObservationCap:
      return "observation_cap";
    case PayloadLimit::kExpansionRatio:
      return "expansion_ratio";
    case PayloadLimit::kReassemblyBudget:
      return "reassembly_budget";
  }
  return "unknown";
}

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
  PayloadLimit payload_limit = PayloadLimit::kNone;
  bool truncated() const { return payload_limit != PayloadLimit::kNone; }
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
  EndFacts end;  // kRelayEnded with how each direction ended (kProxyShutdown when stopped)
  bool tap_failed = false;
  std::string tap_error;
};

// A retry-guard decision about one request (forward / reject) or a change of a key's guard state
// (breaker_open, breaker_half_open, breaker_closed, hold_start, hold_end). Holds no raw data: the
// key is host[/deployment][ client=ADDR] and counts are a JSON object of numbers.
struct GuardDecision {
  int64_t at_us = 0;
  std::string key;
  std::string mode;            // "observe" | "enforce"
  std::string decision;        // "forward" | "reject" | one of the state changes above
  std::string reason;          // "first_attempt", "attempt_cap", ...; "" for state changes
  std::string counts;          // JSON
  uint64_t connection_id = 0;  // 0 for state changes not caused by a request
  uint32_t exchange_sequence = 0;
  int64_t retry_after_ms = 0;
};

using Observation = std::variant<ConnectionOpened, ConnectionClosed, Exchange, WsMessage,
                                 WsSessionClosed, GuardDecision>;

// Approximate memory an observation holds (for the queue's byte bound).
uint64_t ApproximateBytes(const Observation& obs);

}  // namespace relaytap::recorder
