#pragma once
// An Azure-shaped fake upstream for tests and for `relaytap fake-upstream`: HTTP/1.1 (plain or
// TLS) with JSON, streamed uploads, SSE and realtime-style WebSocket endpoints. It runs its own
// io_context on its own threads; Start() returns once it listens. Loopback use only.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/fake_upstream/fault_model.h"
#include "tools/fake_upstream/response_plan.h"

namespace relaytap::tools::fake_upstream {

struct Options {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;               // 0: pick a free port
  std::string cert_pem;            // empty: plain HTTP; else TLS with this leaf...
  std::string key_pem;             // ...and its private key (PEM)
  bool permessage_deflate = true;  // accept permessage-deflate when a client offers it
  bool deflate_no_context_takeover = false;
  int threads = 1;
  // Realtime responses: a burst (Pacing::kBurst) by default; per session `?stream=realtime|burst`,
  // `audio_ms=N` and `delta_ms=N` override it.
  StreamShape stream;
  // Faults to inject; null: none (then only the per-URL switches like ?fail=response apply).
  std::shared_ptr<FaultModel> faults;
};

// One request as the fake upstream received it.
struct RequestRecord {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // in wire order, values as parsed
  uint64_t body_bytes = 0;
  std::string body_sha256;  // lower-case hex
};

// One WebSocket session: SHA-256 (hex) of every data message in order, each direction.
struct WsTranscript {
  std::string target;
  std::vector<std::string> received;  // client -> fake upstream
  std::vector<std::string> sent;      // fake upstream -> client
  bool deflate_negotiated = false;
  bool closed = false;
};

class FakeUpstream {
 public:
  static absl::StatusOr<std::unique_ptr<FakeUpstream>> Start(Options options);
  ~FakeUpstream();  // stops and joins
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  uint16_t port() const;
  bool tls() const;
  void Stop();

  std::vector<RequestRecord> requests() const;
  std::vector<WsTranscript> ws_sessions() const;
  uint64_t request_count() const;

  // Waits (bounded) until at least `n` WebSocket sessions have closed.
  bool WaitForClosedWsSessions(size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  explicit FakeUpstream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace relaytap::tools::fake_upstream
