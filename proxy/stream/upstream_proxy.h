#pragma once
// The CONNECT client for an upstream HTTP proxy (--upstream-proxy): on an open TCP connection to
// the proxy, ask for a tunnel to the dial target and read the proxy's answer, under a timeout.
// Credentials go only into the Proxy-Authorization header; nothing here logs them or puts them
// in a reason. Runs on the dialling session's strand.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

// Base64 of "user:password", the token of a Basic (Proxy-)Authorization.
std::string BasicToken(std::string_view user_password);

// The Via token relaytap puts on its own CONNECTs ("relaytap-<16 hex>", random per process). A
// CONNECT that arrives carrying it went out of this relaytap and came back: a proxy loop.
std::string_view LoopMarker();

// True when a Via field among `fields` (name, value) carries LoopMarker().
bool CarriesLoopMarker(const std::vector<std::pair<std::string, std::string>>& fields);

// The error code relaytap answers a looped CONNECT with (status 508, x-relaytap-error).
inline constexpr std::string_view kProxyLoopErrorCode = "relaytap_proxy_loop";

// The request relaytap sends: CONNECT target, Host, Via with LoopMarker(), and Proxy-Authorization
// when the proxy has credentials.
std::string BuildConnectRequest(const UpstreamProxy& proxy, const HostPort& target);

struct ProxyConnectResult {
  int status = 0;      // the proxy's answer (0: none was read)
  error_code ec;       // an I/O failure (net::error::timed_out on the timeout)
  bool loop = false;   // the proxy is this relaytap (it answered 508 relaytap_proxy_loop)
  std::string reason;  // why it failed, for the log and the store; never credentials
  bool ok() const { return !ec && status >= 200 && status < 300; }
};

// Sends CONNECT for `target` on `stream` and reads the answer's head, byte-exact: bytes after the
// blank line stay in the socket for the tunnel. Gives up after `timeout`.
Awaitable<ProxyConnectResult> ConnectThroughProxy(TcpStream& stream, const UpstreamProxy& proxy,
                                                  const HostPort& target,
                                                  std::chrono::milliseconds timeout);

}  // namespace relaytap::proxy
