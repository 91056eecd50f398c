#pragma once
// `relaytap replay` serving: recorded sessions and exchanges played back as an upstream on a
// loopback address (plain, or TLS with a leaf from relaytap's CA for the recorded host names).
// It runs its own io_context on its own thread; Start() returns once it listens.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/replay/recording.h"

namespace relaytap::tools::replay {

struct ServerOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;    // 0: pick a free port
  double speed = 1.0;   // recorded delays are divided by this; 0: no delays at all
  bool strict = false;  // a deviating WebSocket client gets close 1008 and its session ends
  bool tls = false;
  std::string ca_dir;  // relaytap's CA (created if missing), used when `tls`
  std::vector<RecordedSession> sessions;
  std::vector<ReplayExchange> exchanges;  // exchanges that opened no session
};

struct ServerStats {
  uint64_t sessions_served = 0;   // WebSocket sessions played to their recorded end
  uint64_t exchanges_served = 0;  // recorded HTTP answers (including refused upgrades)
  uint64_t deviations = 0;        // client messages or requests that differ from the recording
  uint64_t unmatched = 0;         // requests with no recording (answered 404)
};

class ReplayServer {
 public:
  // Errors: InvalidArgument for nothing to replay or a bad address, the CA's errors with --tls,
  // Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ReplayServer>> Start(ServerOptions options);
  ~ReplayServer();  // stops and joins
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  uint16_t port() const;
  void Stop();
  ServerStats stats() const;
  // Waits (bounded) until sessions_served + exchanges_served >= n.
  bool WaitForServed(uint64_t n, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  explicit ReplayServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace relaytap::tools::replay
