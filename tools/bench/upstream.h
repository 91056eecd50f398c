#pragma once
// The benchmark's own upstream (`relaytap_loadgen upstream`): TLS on loopback, and as little
// work per message as a server can do, so the figures show the path, not the server.
//   WebSocket upgrade (any path): every data message is echoed back unchanged, in order.
//   POST with "stream":true in the body: an SSE response (first event at once, then one every
//     `sse_gap_ms`, then `data: [DONE]`), close-delimited.
//   any other request: a small chat-completions-shaped JSON answer, keep-alive.

#include <cstdint>
#include <string>

namespace relaytap::tools::bench {

struct UpstreamOptions {
  std::string listen = "127.0.0.1:0";
  std::string cert_file;
  std::string key_file;
  int threads = 1;
  int sse_events = 4;
  int sse_gap_ms = 50;
};

// Listens, prints "listening on HOST:PORT" on stdout, serves until SIGINT/SIGTERM. Exit code.
int RunUpstream(const UpstreamOptions& options);

}  // namespace relaytap::tools::bench
