#include "tools/fake_upstream/state.h"

#include <algorithm>

namespace relaytap::tools::fake_upstream {

void State::AddRequest(RequestRecord record) {
  std::lock_guard lock(mu_);
  requests_.push_back(std::move(record));
}

std::vector<RequestRecord> State::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

uint64_t State::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

void State::AddToken(std::string token, int64_t expires_at_s) {
  constexpr size_t kMaxTokens = 10000;
  std::lock_guard lock(mu_);
  if (tokens_.size() >= kMaxTokens) tokens_.clear();  // a fake: forgetting is allowed
  tokens_[std::move(token)] = expires_at_s;
}

std::optional<int64_t> State::TokenExpiry(const std::string& token) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

size_t State::BeginWsSession(std::string target, bool deflate_negotiated) {
  std::lock_guard lock(mu_);
  WsTranscript t;
  t.target = std::move(target);
  t.deflate_negotiated = deflate_negotiated;
  ws_sessions_.push_back(std::move(t));
  return ws_sessions_.size() - 1;
}

void State::AddWsReceived(size_t session, std::string sha256) {
  std::lock_guard lock(mu_);
  ws_sessions_[session].received.push_back(std::move(sha256));
}

void State::AddWsSent(size_t session, std::string sha256) {
  std::lock_guard lock(mu_);
  ws_sessions_[session].sent.push_back(std::move(sha256));
}

void State::EndWsSession(size_t session) {
  {
    std::lock_guard lock(mu_);
    if (ws_sessions_[session].closed) return;
    ws_sessions_[session].closed = true;
    ++closed_ws_sessions_;
  }
  cv_.notify_all();
}

std::vector<WsTranscript> State::ws_sessions() const {
  std::lock_guard lock(mu_);
  return ws_sessions_;
}

bool State::WaitForClosedWsSessions(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_ws_sessions_ >= n; });
}

std::shared_ptr<LiveConnection> State::Register(Executor executor) {
  std::lock_guard lock(mu_);
  if (stopping_) return nullptr;
  auto conn = std::make_shared<LiveConnection>();
  conn->executor = std::move(executor);
  connections_.push_back(conn);
  return conn;
}

void State::Unregister(const std::shared_ptr<LiveConnection>& conn) {
  {
    std::lock_guard lock(mu_);
    std::erase(connections_, conn);
  }
  cv_.notify_all();
}

void State::CloseAll() {
  std::vector<std::shared_ptr<LiveConnection>> conns;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    conns = connections_;
  }
  for (auto& conn : conns) {
    net::post(conn->executor, [conn] {
      if (conn->socket != nullptr) {
        error_code ec;
        conn->socket->shutdown(net::socket_base::shutdown_both, ec);
        conn->socket->close(ec);
      }
    });
  }
}

bool State::WaitForNoConnections(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return connections_.empty(); });
}

}  // namespace relaytap::tools::fake_upstream
