#pragma once
// The proxy as a whole: owns the io threads, the listener, the CA and both TLS contexts. Start()
// returns once it listens; Shutdown() stops accepting, gives in-flight connections a grace period,
// then stops the threads and ends the sessions still open (each records its close).
//
// One io_context per thread (not one shared by all threads): a session lives on one thread from
// accept to close, so its readiness events and completions never wake another thread, and its
// handlers need no strand (the one thread serializes them). A shared context made every relayed
// message cost futex hand-offs between the threads. The listener gives each new session to the
// thread with the fewest active sessions.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/config/config.h"
#include "proxy/context.h"
#include "proxy/session/access.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

class Server {
 public:
  // Loads or creates the CA in config.ca_dir, builds the TLS contexts, binds the listener and
  // starts the threads. `observers` may be null (no WebSocket decoding).
  // `sink` (may be null: relay only) receives every observation and must outlive the Server.
  // `guard` (may be null: guard off) is asked before each upstream attempt; it must outlive too.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ProxyConfig config,
                                                       std::unique_ptr<WsObserverFactory> observers,
                                                       recorder::Sink* sink = nullptr,
                                                       guard::RetryGuard* guard = nullptr);
  ~Server();  // Shutdown(0) if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  tcp::endpoint local_endpoint() const { return endpoint_; }
  uint16_t port() const { return endpoint_.port(); }
  uint64_t active_sessions() const { return active_.load(); }
  uint64_t accepted_sessions() const { return accepted_.load(); }
  // Connections served at once (config max_connections, else from the open-files limit); more
  // are answered 503 and closed.
  int max_connections() const { return max_connections_; }
  uint64_t refused_connections() const { return refused_.load(); }
  tls::CertAuthority& ca() { return *ca_; }
  const tls::CertAuthority& ca() const { return *ca_; }

  // Blocks until SIGINT or SIGTERM, then shuts down with the configured grace period.
  void WaitForSignal();
  // Stops accepting; waits up to `grace` for sessions to finish; stops the threads and destroys
  // the sessions still open, which submit their ConnectionClosed (proxy_shutdown). Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  Server() = default;
  Awaitable<void> AcceptLoop();

  // One io thread and the context only it runs.
  struct Worker {
    net::io_context ioc{1};  // concurrency hint: run by one thread
    std::atomic<uint64_t> active{0};
    std::thread thread;
  };
  Worker& LeastLoadedWorker();
  // Answers a connection over the cap with 503 and closes it (never waits on the app).
  void Refuse(TcpSocket& socket);

  ProxyConfig config_;
  std::unique_ptr<tls::CertAuthority> ca_;
  std::unique_ptr<ssl::context> downstream_tls_;
  std::unique_ptr<ssl::context> upstream_tls_;
  std::unique_ptr<WsObserverFactory> observers_;
  std::unique_ptr<ProxyAccess> access_;
  ProxyContext ctx_;
  std::vector<std::unique_ptr<Worker>> workers_;  // workers_[0] also runs the listener
  std::unique_ptr<Acceptor> acceptor_;
  tcp::endpoint endpoint_;
  std::atomic<uint64_t> active_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  int max_connections_ = 0;
  std::string refusal_;  // the 503 for connections past max_connections_, built once
  std::atomic<uint64_t> next_id_{1};
  std::atomic<bool> stopped_{false};
};

}  // namespace relaytap::proxy
