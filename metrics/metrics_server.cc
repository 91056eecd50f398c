#include "metrics/metrics_server.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "base/log.h"
#include "base/str_cat.h"
#include "metrics/exposition.h"
#include "proxy/stream/net.h"

namespace relaytap::metrics {
namespace {

http::response<http::string_body> Answer(const http::request<http::empty_body>& req,
                                         const std::function<std::string()>& render) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "relaytap");
  const bool known = req.target() == "/metrics" || req.target() == "/healthz";
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (known && get) {
    res.result(http::status::ok);
    const bool metrics = req.target() == "/metrics";
    res.set(http::field::content_type, metrics ? kContentType : "text/plain; charset=utf-8");
    res.body() = metrics ? render() : "ok\n";
  } else {
    res.result(known ? http::status::method_not_allowed : http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = known ? "only GET\n" : "not found: /metrics and /healthz only\n";
  }
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

}  // namespace

struct MetricsServer::Impl {
  std::function<std::string()> render;
  ServerLimits limits;
  net::io_context ioc{1};
  Acceptor acceptor{ioc};
  std::thread thread;
  uint16_t port = 0;
  int active = 0;  // the server's thread only
  std::atomic<uint64_t> refused{0};

  Awaitable<void> AcceptLoop();
  Awaitable<void> Serve(TcpStream stream);
  Awaitable<void> Reply(TcpStream& stream, http::response<http::string_body> res);
};

Awaitable<void> MetricsServer::Impl::AcceptLoop() {
  for (;;) {
    TcpStream stream(ioc);
    auto [ec] = co_await acceptor.async_accept(stream.socket());
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;
    }
    if (active >= limits.max_connections) {
      refused++;
      boost::system::error_code ignored;
      stream.socket().close(ignored);
      continue;
    }
    ++active;
    net::co_spawn(ioc, Serve(std::move(stream)), [this](std::exception_ptr e) {
      --active;
      if (e) RELAYTAP_LOG(kWarn, "metrics: a connection ended by an exception");
    });
  }
}

Awaitable<void> MetricsServer::Impl::Reply(TcpStream& stream,
                                           http::response<http::string_body> res) {
  stream.expires_after(std::chrono::milliseconds(limits.idle_timeout_ms));
  (void)co_await http::async_write(stream, res);
}

Awaitable<void> MetricsServer::Impl::Serve(TcpStream stream) {
  beast::flat_buffer buffer(limits.max_head_bytes);
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_head_bytes));
    parser.body_limit(0);
    stream.expires_after(std::chrono::milliseconds(limits.idle_timeout_ms));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser);
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      http::response<http::string_body> res{http::status::request_header_fields_too_large, 11};
      res.keep_alive(false);
      res.prepare_payload();
      co_await Reply(stream, std::move(res));
      break;
    }
    if (ec) break;  // closed, idle, malformed, or a body: nothing more to say
    http::request<http::empty_body> req = parser.release();
    http::response<http::string_body> res = Answer(req, render);
    const bool keep = res.keep_alive();
    co_await Reply(stream, std::move(res));
    if (!keep) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& host, uint16_t port, std::function<std::string()> render,
    ServerLimits limits) {
  boost::system::error_code ec;
  net::ip::address address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("--metrics: '", host, "' is not an IP address (or localhost)"));
  }
  auto impl = std::make_unique<Impl>();
  impl->render = std::move(render);
  impl->limits = limits;
  const tcp::endpoint endpoint(address, port);
  if (impl->acceptor.open(endpoint.protocol(), ec); !ec) {
    impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    impl->acceptor.bind(endpoint, ec);
  }
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("--metrics: cannot listen on ", host, ":", port, ": ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint(ec).port();
  Impl* raw = impl.get();
  net::co_spawn(raw->ioc, raw->AcceptLoop(), [](std::exception_ptr e) {
    if (e) RELAYTAP_LOG(kError, "metrics: the accept loop ended by an exception");
  });
  raw->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t MetricsServer::port() const { return impl_->port; }
uint64_t MetricsServer::refused_connections() const { return impl_->refused.load(); }

}  // namespace relaytap::metrics
