#pragma once
// relaytap's answer for its self-check host (proxy/tls/self_check_host.h): a small JSON document
// that proves the app's request went through relaytap (and, over https, that the app trusts its
// CA):
//   {"proxy":"relaytap","version":"0.1.0","intercepted":true,"scheme":"https",
//    "client":"127.0.0.1:53412","ca_fingerprint":"AB:12:..."}
// ca_fingerprint is the SHA-256 of the CA certificate's DER in colon-separated upper-case hex,
// as `openssl x509 -noout -fingerprint -sha256 -in relaytap-ca.pem` prints it.

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/context.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "recorder/observation.h"

namespace relaytap::proxy::http_relay {

struct SelfCheckFacts {
  std::string client;          // the app's address, "IP:PORT"
  std::string ca_fingerprint;  // colon hex; empty when unknown
  bool tls = false;            // the request came inside intercepted TLS
};

std::string SelfCheckJson(const SelfCheckFacts& facts);

// SHA-256 of the first certificate in `pem`, as colon hex ("AB:CD:..."); empty if unreadable.
std::string CertFingerprintSha256(std::string_view pem);

// The log line for an app whose TLS handshake for the self-check host failed: it does not trust
// relaytap's CA, and how to fix that per runtime.
std::string SelfCheckTrustAdvice(std::string_view ca_path);

struct SelfCheckResult {
  uint64_t bytes = 0;
  bool ok = false;  // written in full
};

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2).
std::string WebSocketAccept(std::string_view key);

// The server frames of the self-check over WebSocket: one unmasked text frame holding `json`,
// then a close frame (1000, "self-check done").
std::string SelfCheckWebSocketFrames(std::string_view json);

// Writes the 200 JSON answer (`Connection: close` unless `keep_alive`) and notes it on `obs`
// (status, headers, body) when recording.
Awaitable<SelfCheckResult> AnswerSelfCheck(const ProxyContext& ctx, ByteStream& app,
                                           bool keep_alive, recorder::Exchange* obs);

// A WebSocket upgrade to the self-check host (`ws_key`: its Sec-WebSocket-Key): 101, the JSON as
// one text message, a close (1000), then waits (bounded) for the app's close so that its library
// sees a clean close handshake. The connection ends after it.
Awaitable<SelfCheckResult> AnswerSelfCheckUpgrade(const ProxyContext& ctx, ByteStream& app,
                                                  std::string_view ws_key, recorder::Exchange* obs);

}  // namespace relaytap::proxy::http_relay
