#include "proxy/server.h"

#include <csignal>

#include "base/log.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/session/admission.h"
#include "proxy/session/client_session.h"
#include "proxy/tls/contexts.h"

namespace relaytap::proxy {

namespace {

// The listen address; a name such as "localhost" is resolved synchronously once, at startup.
absl::StatusOr<net::ip::address> ListenAddress(net::io_context& ioc, const std::string& host) {
  error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (!ec) return address;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(StrCat("cannot resolve listen address ", host));
  }
  return results.begin()->endpoint().address();
}

// Opens, binds and listens; errors name the address as configured.
template <class Acceptor>
absl::Status Listen(Acceptor& acc, const tcp::endpoint& ep, const HostPort& configured) {
  error_code ec;
  if (acc.open(ep.protocol(), ec); ec) {
    return absl::InternalError(StrCat("opening listener: ", ec.message()));
  }
  acc.set_option(net::socket_base::reuse_address(true), ec);
  if (acc.bind(ep, ec); ec) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", configured.host, ":", configured.port, ": ", ec.message()));
  }
  if (acc.listen(net::socket_base::max_listen_connections, ec); ec) {
    return absl::UnavailableError(StrCat("listen: ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ProxyConfig config,
                                                      std::unique_ptr<WsObserverFactory> observers,
                                                      recorder::Sink* sink,
                                                      guard::RetryGuard* guard) {
  RELAYTAP_RETURN_IF_ERROR(ValidateConfig(config));
  std::unique_ptr<Server> s(new Server());
  s->config_ = std::move(config);
  s->max_connections_ = s->config_.max_connections > 0 ? s->config_.max_connections
                                                       : MaxConnectionsFor(CurrentOpenFileLimit());
  s->refusal_ = TooManyConnectionsResponse(s->max_connections_);
  RELAYTAP_ASSIGN_OR_RETURN(s->ca_, tls::CertAuthority::LoadOrCreate(
                                        s->config_.ca_dir, {.patterns = s->config_.intercept}));
  RELAYTAP_ASSIGN_OR_RETURN(s->downstream_tls_, tls::MakeDownstreamContext(*s->ca_));
  RELAYTAP_ASSIGN_OR_RETURN(s->upstream_tls_, tls::MakeUpstreamContext(s->config_.upstream_ca));
  s->observers_ = std::move(observers);
  RELAYTAP_ASSIGN_OR_RETURN(ProxyAccess access, ProxyAccess::Load(s->config_));
  s->access_ = std::make_unique<ProxyAccess>(std::move(access));
  s->ctx_ = ProxyContext{&s->config_,
                         s->ca_.get(),
                         s->downstream_tls_.get(),
                         s->upstream_tls_.get(),
                         s->observers_.get(),
                         sink,
                         guard,
                         s->access_.get()};

  int threads = s->config_.threads > 0 ? s->config_.threads
                                       : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  for (int i = 0; i < threads; ++i) s->workers_.push_back(std::make_unique<Worker>());
  net::io_context& main_ioc = s->workers_.front()->ioc;

  RELAYTAP_ASSIGN_OR_RETURN(net::ip::address address,
                            ListenAddress(main_ioc, s->config_.listen.host));
  // Like the sessions: main_ioc's one thread serializes the listener (Shutdown posts to it).
  s->acceptor_ = std::make_unique<Acceptor>(main_ioc.get_executor());
  auto& acc = *s->acceptor_;
  RELAYTAP_RETURN_IF_ERROR(
      Listen(acc, tcp::endpoint(address, s->config_.listen.port), s->config_.listen));
  s->endpoint_ = acc.local_endpoint();

  net::co_spawn(acc.get_executor(), s->AcceptLoop(), [](std::exception_ptr e) {
    if (e) RELAYTAP_LOG(kError, "accept loop ended by an exception");
  });
  for (auto& w : s->workers_) {
    // run() returns only on stop(): a worker with no session yet waits for one.
    w->thread = std::thread([ioc = &w->ioc] {
      auto work = net::make_work_guard(*ioc);
      ioc->run();
    });
  }
  return s;
}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

Server::Worker& Server::LeastLoadedWorker() {
  Worker* best = workers_.front().get();
  for (auto& w : workers_) {
    if (w->active.load(std::memory_order_relaxed) < best->active.load(std::memory_order_relaxed))
      best = w.get();
  }
  return *best;
}

void Server::Refuse(TcpSocket& socket) {
  const std::string& answer = refusal_;
  error_code ec;
  // The answer fits in an empty socket buffer: write what goes at once, never block the loop.
  socket.non_blocking(true, ec);
  socket.write_some(net::buffer(answer), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

Awaitable<void> Server::AcceptLoop() {
  LogThrottle accept_errors(std::chrono::seconds(5)), refusals(std::chrono::seconds(5));
  for (;;) {
    Worker& worker = LeastLoadedWorker();
    // The io_context's own executor, not a strand: only its one thread runs it, so the session's
    // handlers are serialized already (a strand added a lock and a queue hand-off per handler).
    TcpSocket socket(worker.ioc.get_executor());
    auto [ec] = co_await acceptor_->async_accept(socket);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_->is_open()) co_return;
      if (uint64_t n = accept_errors.Note(LogThrottle::Clock::now())) {
        RELAYTAP_LOG(kWarn, "accept failed: ", ec.message(), " (", n,
                     " times since the last such line; ", active_.load(),
                     " connections open; open-files limit ", CurrentOpenFileLimit(), ")");
      }
      // Out of file descriptors and the like: back off briefly instead of spinning.
      Timer t(co_await net::this_coro::executor);
      t.expires_after(std::chrono::milliseconds(50));
      co_await t.async_wait();
      continue;
    }
    if (active_.load() >= static_cast<uint64_t>(max_connections_)) {
      refused_.fetch_add(1);
      Refuse(socket);
      if (uint64_t n = refusals.Note(LogThrottle::Clock::now())) {
        RELAYTAP_LOG(kWarn, "refused ", n, " connection(s) with 503: ", max_connections_,
                     " connections open, the limit (max_connections; raise it or the open-files "
                     "limit)");
      }
      continue;
    }
    uint64_t id = next_id_.fetch_add(1);
    accepted_.fetch_add(1);
    active_.fetch_add(1);
    worker.active.fetch_add(1, std::memory_order_relaxed);
    // The session's coroutine is spawned directly: no frame of the server's stays alive beneath
    // it, and the socket moves once (a Beast stream moved would leave an allocated husk behind).
    net::co_spawn(worker.ioc, RunClientSession(ctx_, std::move(socket), id),
                  [this, id, &worker](std::exception_ptr e) {
                    worker.active.fetch_sub(1, std::memory_order_relaxed);
                    active_.fetch_sub(1);
                    if (e) {
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& err) {
                        RELAYTAP_LOG(kError, "conn=", id,
                                     " ended by an unexpected exception: ", err.what());
                      } catch (...) {
                        RELAYTAP_LOG(kError, "conn=", id, " ended by an unexpected exception");
                      }
                    }
                  });
  }
}

void Server::WaitForSignal() {
  net::io_context sig_ioc;
  net::signal_set signals(sig_ioc, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const error_code& ec, int sig) {
    if (!ec) received = sig;
  });
  sig_ioc.run();
  RELAYTAP_LOG(kInfo, "received ", received == SIGINT ? "SIGINT" : "SIGTERM", ", stopping (",
               active_.load(), " connections in flight, grace ", config_.shutdown_grace.count(),
               " ms)");
  Shutdown(config_.shutdown_grace);
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (stopped_.exchange(true) || !acceptor_) return;
  net::post(acceptor_->get_executor(), [this] {
    error_code ignored;
    acceptor_->close(ignored);
  });
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (active_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  uint64_t left = active_.load();
  if (left > 0)
    RELAYTAP_LOG(kInfo, "closing ", left, " connections still open after the grace period");
  for (auto& w : workers_) w->ioc.stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  // Destroying the contexts destroys the sessions still open (their coroutine frames, with their
  // sockets): each writes its close line and submits its ConnectionClosed (end proxy_shutdown)
  // as it goes, while the sink still runs. The listener belongs to the first context: first.
  acceptor_.reset();
  workers_.clear();
}

}  // namespace relaytap::proxy
