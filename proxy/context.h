#pragma once
// What every session shares: configuration, the CA, both TLS contexts and the observer factory.
// All of it outlives the sessions (owned by the Server).

#include <cstdint>
#include <memory>
#include <string>

#include "proxy/config/config.h"
#include "proxy/stream/net.h"
#include "proxy/tls/cert_authority.h"
#include "proxy/ws/frame_tap.h"
#include "recorder/sink.h"

namespace relaytap::proxy {

namespace guard {
class RetryGuard;
}
class ProxyAccess;

// What is known about a WebSocket session when its 101 has been relayed.
struct WsSessionInfo {
  uint64_t connection_id = 0;
  std::string host;
  std::string path;  // request target (may hold secret query parameters: never log it raw)
  ws::PerMessageDeflate deflate;
  uint32_t exchange_sequence = 0;  // the exchange whose 101 opened the session
};

// Creates the observer that sees the decoded messages of one WebSocket session, both directions.
// Called on the session's io thread; the observer is used only there. The recorder plugs in here.
class WsObserverFactory {
 public:
  virtual ~WsObserverFactory() = default;
  virtual std::unique_ptr<ws::MessageObserver> Create(const WsSessionInfo& info) = 0;
};

struct ProxyContext {
  const ProxyConfig* config = nullptr;
  tls::CertAuthority* ca = nullptr;
  ssl::context* downstream_tls = nullptr;
  ssl::context* upstream_tls = nullptr;
  WsObserverFactory* ws_observers = nullptr;  // may be null
  recorder::Sink* sink = nullptr;             // may be null: relay only, record nothing
  guard::RetryGuard* guard = nullptr;         // may be null: --guard off
  const ProxyAccess* access = nullptr;        // may be null: loopback only, nothing to check
};

}  // namespace relaytap::proxy
