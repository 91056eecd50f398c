#pragma once
// Client side of the load generator: TCP (optionally through an HTTP CONNECT proxy), TLS that
// trusts one CA file and checks the target's host name, and the realtime WebSocket upgrade.

#include <boost/beast/websocket.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::bench {

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};
absl::StatusOr<Endpoint> ParseEndpoint(const std::string& text);  // "HOST:PORT"

struct ClientConfig {
  Endpoint target;                // as the client names it: SNI, Host, certificate check
  std::optional<Endpoint> proxy;  // HTTP CONNECT proxy, if any
  std::string ws_path =
      "/openai/realtime?api-version=2024-10-01-preview&deployment=gpt-4o-realtime-preview";
};

using Ws = beast::websocket::stream<SslStream>;

// A TLS client context trusting only `ca_file` (PEM), verifying peers, ALPN http/1.1.
absl::StatusOr<std::unique_ptr<ssl::context>> MakeClientContext(const std::string& ca_file);

// A TLS stream to the target (through the proxy if configured), handshake done.
net::awaitable<absl::StatusOr<std::unique_ptr<SslStream>>> ConnectTls(Executor ex,
                                                                      ssl::context& ctx,
                                                                      const ClientConfig& config);

// A realtime WebSocket session (subprotocol "realtime", no permessage-deflate).
net::awaitable<absl::StatusOr<std::unique_ptr<Ws>>> ConnectWs(Executor ex, ssl::context& ctx,
                                                              const ClientConfig& config);

}  // namespace relaytap::tools::bench
