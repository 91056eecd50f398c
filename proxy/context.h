#pragma once
// What every session shares: configuration, the CA, both TLS contexts and the observer factory.
// All of it outlives the sessions (owned by the Server).

#include <cstdint>
#include <memory>
#include <string>

#include "proxy/config.h"
#include "proxy/net.h"
#include "proxy/tls/cert_authority.h"
#include "proxy/ws/frame_tap.h"

namespace relaytap::proxy {

// What is known about a WebSocket session when its 101 has been relayed.
struct WsSessionInfo {
  uint64_t connection_id = 0;
  std::string host;
  std::string path;  // request target (may hold secret query parameters: never log it raw)
  ws::PerMessageDeflate deflate;
};

// Creates the observer that sees the decoded messages of one WebSocket session, both directions.
// Called on the session's strand; the observer is used only there. The recorder plugs in here.
class WsObserverFactory {
 public:
  virtual ~WsObserverFactory() = default;
  virtual std::unique_ptr<ws::MessageObserver> Create(const WsSessionInfo& info) = 0;
};

// Logs one line per message at debug level: direction, opcode, sizes, event type. Never payloads.
std::unique_ptr<WsObserverFactory> MakeLoggingObserverFactory();

struct ProxyContext {
  const ProxyConfig* config = nullptr;
  tls::CertAuthority* ca = nullptr;
  ssl::context* downstream_tls = nullptr;
  ssl::context* upstream_tls = nullptr;
  WsObserverFactory* ws_observers = nullptr;  // may be null
};

}  // namespace relaytap::proxy
