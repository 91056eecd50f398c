#pragma once
// Shared state of one FakeUpstream: the request log, the WebSocket transcripts and the registry of
// live connections (so Stop() can close them). Thread-safe; the lock is never held across I/O.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tools/fake_upstream/fake_upstream.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream {

// One accepted connection. `socket` is touched only on the connection's strand (`executor`).
struct LiveConnection {
  Executor executor;
  TcpStream::socket_type* socket = nullptr;
};

class State {
 public:
  explicit State(Options options) : options_(std::move(options)) {}

  const Options& options() const { return options_; }

  void AddRequest(RequestRecord record);
  std::vector<RequestRecord> requests() const;
  uint64_t request_count() const;

  // Returns the session's index for the calls below.
  size_t BeginWsSession(std::string target, bool deflate_negotiated);
  void AddWsReceived(size_t session, std::string sha256);
  void AddWsSent(size_t session, std::string sha256);
  void EndWsSession(size_t session);
  std::vector<WsTranscript> ws_sessions() const;
  bool WaitForClosedWsSessions(size_t n, std::chrono::milliseconds timeout) const;

  // Ephemeral tokens issued (client_secrets, sessions) and their expiry (Unix seconds).
  void AddToken(std::string token, int64_t expires_at_s);
  std::optional<int64_t> TokenExpiry(const std::string& token) const;

  // Null once stopping: the caller should drop the connection.
  std::shared_ptr<LiveConnection> Register(Executor executor);
  void Unregister(const std::shared_ptr<LiveConnection>& conn);
  // Posts a close of every live socket to its strand and refuses new registrations.
  void CloseAll();
  bool WaitForNoConnections(std::chrono::milliseconds timeout);

 private:
  const Options options_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<RequestRecord> requests_;
  std::vector<WsTranscript> ws_sessions_;
  size_t closed_ws_sessions_ = 0;
  std::vector<std::shared_ptr<LiveConnection>> connections_;
  std::map<std::string, int64_t> tokens_;  // bounded: forgotten all at once when full
  bool stopping_ = false;
};

// Unregisters on destruction (end of the connection coroutine).
class ConnectionGuard {
 public:
  ConnectionGuard(State& state, std::shared_ptr<LiveConnection> conn)
      : state_(state), conn_(std::move(conn)) {}
  ~ConnectionGuard() {
    if (conn_) {
      conn_->socket = nullptr;
      state_.Unregister(conn_);
    }
  }
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

 private:
  State& state_;
  std::shared_ptr<LiveConnection> conn_;
};

}  // namespace relaytap::tools::fake_upstream
