#include "tools/replay/server.h"

#include <boost/beast/websocket/rfc6455.hpp>
#include <exception>
#include <thread>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/config/config.h"
#include "proxy/tls/cert_authority.h"
#include "proxy/tls/contexts.h"
#include "tools/replay/catalog.h"
#include "tools/replay/filler.h"
#include "tools/replay/plan.h"
#include "tools/replay/serve.h"

namespace relaytap::tools::replay {
namespace {

constexpr size_t kHeaderLimit = 64 * 1024;
constexpr uint64_t kBodyLimit = 64ull << 20;
constexpr auto kReadTimeout = std::chrono::seconds(300);

// The first recorded host name, for a TLS client that sends no SNI.
std::string FirstHost(const ServerOptions& o) {
  for (const RecordedSession& s : o.sessions) {
    if (s.upgrade && !s.upgrade->host.empty()) return s.upgrade->host;
  }
  for (const ReplayExchange& x : o.exchanges) {
    if (!x.host.empty()) return x.host;
  }
  return "localhost";
}

net::awaitable<bool> SendNoMatch(ErasedStream& stream, bool keep_alive) {
  http::response<http::string_body> res{http::status::not_found, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = R"({"error":{"code":"relaytap_replay_no_recording",)"
               R"("message":"relaytap replay has no recorded answer for this request"}})";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  auto [ec, n] = co_await http::async_write(stream, res);
  co_return !ec && keep_alive;
}

net::awaitable<void> ServeHttp(ErasedStream& stream, const ServeContext& ctx) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::empty_body> header;
    header.header_limit(kHeaderLimit);
    header.body_limit(kBodyLimit);
    beast::get_lowest_layer(stream).expires_after(kReadTimeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, header);
    if (ec) co_return;
    const std::string target(header.get().target());
    if (beast::websocket::is_upgrade(header.get())) {
      Catalog::Pick pick = ctx.catalog->ForUpgrade(target);
      if (pick.session != nullptr) {
        co_await ServeSession(stream, header.release(), *pick.session, ctx);
        co_return;
      }
      if (pick.exchange != nullptr) {
        co_await ServeExchange(stream, *pick.exchange, false, ctx);
        co_return;
      }
    }
    // Read (and drop) the request body before answering.
    http::request_parser<http::string_body> parser(std::move(header));
    parser.body_limit(kBodyLimit);
    if (!parser.is_done()) {
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser);
      if (bec) co_return;
    }
    const bool keep_alive = parser.get().keep_alive();
    const std::string method(parser.get().method_string());
    Catalog::Pick pick = ctx.catalog->ForRequest(method, target);
    bool more = false;
    if (pick.exchange == nullptr) {
      ctx.catalog->NoteUnmatched();
      RELAYTAP_LOG(kWarn, "replay: no recording for ", method, " ", PathOf(target),
                   " (answered 404)");
      more = co_await SendNoMatch(stream, keep_alive);
    } else {
      more = co_await ServeExchange(stream, *pick.exchange, keep_alive, ctx);
    }
    if (!more) co_return;
  }
}

}  // namespace

struct ReplayServer::Impl {
  ServerOptions options;
  std::unique_ptr<Catalog> catalog;
  ServeContext ctx;
  std::unique_ptr<proxy::tls::CertAuthority> ca;
  std::unique_ptr<ssl::context> tls;
  std::string fallback_host;
  net::io_context ioc{1};  // after everything the connection coroutines use: destroyed first
  std::unique_ptr<Acceptor> acceptor;
  uint16_t port = 0;
  std::thread thread;

  net::awaitable<void> Connection(TcpStream stream);
  net::awaitable<void> Accept();
};

net::awaitable<void> ReplayServer::Impl::Connection(TcpStream stream) {
  if (!tls) {
    ErasedStream plain(stream);
    co_await ServeHttp(plain, ctx);
    co_return;
  }
  SslStream ssl_stream(std::move(stream), *tls);
  if (!proxy::tls::PrepareDownstreamSsl(ssl_stream.native_handle(), *ca, fallback_host,
                                        proxy::tls::SniPolicy::kSelectsLeaf)
           .ok()) {
    co_return;
  }
  beast::get_lowest_layer(ssl_stream).expires_after(kWriteTimeout);
  auto [ec] = co_await ssl_stream.async_handshake(ssl::stream_base::server);
  if (ec) {
    RELAYTAP_LOG(kWarn, "replay: TLS handshake failed (", ec.message(),
                 "): does the app trust relaytap's CA?");
    co_return;
  }
  ErasedStream erased(ssl_stream);
  co_await ServeHttp(erased, ctx);
}

net::awaitable<void> ReplayServer::Impl::Accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(net::make_strand(ioc));
    if (ec) co_return;  // closed by Stop()
    TcpStream stream(std::move(socket));
    auto exec = stream.get_executor();
    net::co_spawn(exec, Connection(std::move(stream)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        RELAYTAP_LOG(kError, "replay: connection ended by an exception: ", ex.what());
      }
    });
  }
}

ReplayServer::ReplayServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReplayServer::~ReplayServer() { Stop(); }

absl::StatusOr<std::unique_ptr<ReplayServer>> ReplayServer::Start(ServerOptions options) {
  if (options.sessions.empty() && options.exchanges.empty()) {
    return absl::InvalidArgumentError("nothing to replay (no sessions or exchanges selected)");
  }
  error_code ec;
  auto address = net::ip::make_address(options.listen_address, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("bad listen address ", options.listen_address));
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->catalog = std::make_unique<Catalog>(impl->options.sessions, impl->options.exchanges);
  impl->ctx = ServeContext{impl->catalog.get(), impl->options.speed, impl->options.strict};
  if (impl->options.tls) {
    auto ca = proxy::tls::CertAuthority::LoadOrCreate(
        impl->options.ca_dir,
        {.patterns = proxy::ProxyConfig::DefaultInterceptPatterns(), .follow_patterns = false});
    if (!ca.ok()) return ca.status();
    impl->ca = std::move(*ca);
    auto ctx = proxy::tls::MakeDownstreamContext(*impl->ca);
    if (!ctx.ok()) return ctx.status();
    impl->tls = std::move(*ctx);
    impl->fallback_host = FirstHost(impl->options);
  }
  impl->acceptor = std::make_unique<Acceptor>(impl->ioc);
  tcp::endpoint endpoint(address, impl->options.port);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(StrCat("cannot listen on ", impl->options.listen_address, ":",
                                         impl->options.port, ": ", ec.message()));
  }
  impl->port = impl->acceptor->local_endpoint().port();
  Impl* raw = impl.get();
  net::co_spawn(raw->ioc, raw->Accept(), [](std::exception_ptr e) {
    if (e) RELAYTAP_LOG(kError, "replay: the accept loop ended by an exception");
  });
  raw->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<ReplayServer>(new ReplayServer(std::move(impl)));
}

uint16_t ReplayServer::port() const { return impl_->port; }

void ReplayServer::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  net::post(impl_->ioc, [this] {
    error_code ignored;
    impl_->acceptor->close(ignored);
  });
  impl_->ioc.stop();
  impl_->thread.join();
}

ServerStats ReplayServer::stats() const { return impl_->catalog->stats(); }

bool ReplayServer::WaitForServed(uint64_t n, std::chrono::milliseconds timeout) const {
  return impl_->catalog->WaitForServed(n, timeout);
}

}  // namespace relaytap::tools::replay
