#pragma once
// The load generator's workloads. Each returns one JSON object of figures (see BENCHMARKS.md).

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tools/bench/client.h"

namespace relaytap::tools::bench {

struct RunOptions {
  ClientConfig client;
  std::string ca_file;        // the CA the client trusts (upstream's, relaytap's or mitmproxy's)
  int threads = 1;            // io threads of the load generator
  int sessions = 50;          // realtime / saturate / idle sessions, or HTTP connections
  double duration_s = 10;     // traffic phase
  int interval_ms = 20;       // realtime cadence
  int window = 16;            // saturate: messages in flight per session
  int sse_requests = 20;      // http: sequential SSE requests after the JSON phase
  int open_concurrency = 64;  // handshakes in flight while opening sessions
  double drain_s = 5;         // after the traffic phase, how long to wait for missing echoes
  double settle_s = 1;        // idle: wait before reading the watched RSS
  pid_t watch_pid = 0;        // the proxy under test: RSS and CPU are read from /proc
};

// N sessions, one append every interval per session, echo round trip per message.
nlohmann::json RunRealtime(const RunOptions& options);
// N sessions sending as fast as `window` allows.
nlohmann::json RunSaturate(const RunOptions& options);
// N keep-alive connections posting small JSON for the duration, then SSE time to first event.
nlohmann::json RunHttp(const RunOptions& options);
// N idle sessions held open; RSS of the watched process before and after.
nlohmann::json RunIdle(const RunOptions& options);

}  // namespace relaytap::tools::bench
