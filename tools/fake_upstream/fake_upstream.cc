#include "tools/fake_upstream/fake_upstream.h"

#include <openssl/ssl.h>

#include <chrono>
#include <exception>
#include <future>
#include <optional>
#include <thread>

#include "base/log.h"
#include "base/str_cat.h"
#include "tools/fake_upstream/http_session.h"
#include "tools/fake_upstream/state.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream {
namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(2);

// ALPN: we speak only HTTP/1.1; with no overlap, continue without ALPN.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof(kHttp11), in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

absl::StatusOr<std::unique_ptr<ssl::context>> MakeTlsContext(const Options& options) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  ctx->use_certificate_chain(net::buffer(options.cert_pem), ec);
  if (ec) return absl::InvalidArgumentError(StrCat("fake upstream certificate: ", ec.message()));
  ctx->use_private_key(net::buffer(options.key_pem), ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("fake upstream private key: ", ec.message()));
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError("fake upstream private key does not match the certificate");
  }
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), SelectAlpn, nullptr);
  return ctx;
}

}  // namespace

struct FakeUpstream::Impl {
  explicit Impl(Options options) : state(std::move(options)) {}

  net::awaitable<void> AcceptLoop();
  net::awaitable<void> RunConnection(TcpStream stream);

  State state;  // declared first: outlives the io_context and every coroutine frame
  std::unique_ptr<ssl::context> tls;
  net::io_context ioc;
  Acceptor acceptor{net::make_strand(ioc)};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::mutex stop_mu;
  bool stopped = false;
};

net::awaitable<void> FakeUpstream::Impl::AcceptLoop() {
  for (;;) {
    TcpStream stream(net::make_strand(ioc));
    auto [ec] = co_await acceptor.async_accept(stream.socket());
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      RELAYTAP_LOG(kWarn, "fake upstream: accept failed: ", ec.message());
      continue;
    }
    auto executor = stream.get_executor();
    net::co_spawn(executor, RunConnection(std::move(stream)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        RELAYTAP_LOG(kError, "fake upstream: connection failed: ", ex.what());
      }
    });
  }
}

net::awaitable<void> FakeUpstream::Impl::RunConnection(TcpStream stream) {
  auto conn = state.Register(stream.get_executor());
  if (!conn) co_return;
  ConnectionGuard guard(state, conn);
  error_code ec;
  stream.socket().set_option(tcp::no_delay(true), ec);
  if (!tls) {
    conn->socket = &stream.socket();
    ErasedStream plain(stream);
    co_await ServeHttp(plain, state);
    co_return;
  }
  SslStream tls_stream(std::move(stream), *tls);
  conn->socket = &beast::get_lowest_layer(tls_stream).socket();
  beast::get_lowest_layer(tls_stream).expires_after(kHandshakeTimeout);
  auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::server);
  if (hec) co_return;
  ErasedStream erased(tls_stream);
  co_await ServeHttp(erased, state);
}

absl::StatusOr<std::unique_ptr<FakeUpstream>> FakeUpstream::Start(Options options) {
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError("fake upstream: threads must be in 1..64");
  }
  if (options.cert_pem.empty() != options.key_pem.empty()) {
    return absl::InvalidArgumentError("fake upstream: cert_pem and key_pem go together");
  }
  error_code ec;
  auto address = net::ip::make_address(options.listen_address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("fake upstream: bad listen address '", options.listen_address, "'"));
  }
  auto impl = std::make_unique<Impl>(options);
  if (!options.cert_pem.empty()) {
    auto ctx = MakeTlsContext(options);
    if (!ctx.ok()) return ctx.status();
    impl->tls = std::move(*ctx);
  }
  tcp::endpoint endpoint(address, options.port);
  auto& acceptor = impl->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    acceptor.bind(endpoint, ec);
  }
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(StrCat("fake upstream: cannot listen on ", options.listen_address,
                                         ":", options.port, ": ", ec.message()));
  }
  impl->port = acceptor.local_endpoint(ec).port();
  Impl* raw = impl.get();
  net::co_spawn(acceptor.get_executor(), raw->AcceptLoop(), [](std::exception_ptr e) {
    if (e) RELAYTAP_LOG(kError, "fake upstream: accept loop ended by an exception");
  });
  impl->work.emplace(impl->ioc.get_executor());
  for (int i = 0; i < options.threads; ++i) {
    impl->threads.emplace_back([raw] { raw->ioc.run(); });
  }
  return std::unique_ptr<FakeUpstream>(new FakeUpstream(std::move(impl)));
}

FakeUpstream::FakeUpstream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakeUpstream::~FakeUpstream() { Stop(); }

void FakeUpstream::Stop() {
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  Impl* raw = impl_.get();
  std::promise<void> closed;
  net::post(raw->acceptor.get_executor(), [raw, &closed] {
    error_code ec;
    raw->acceptor.close(ec);
    closed.set_value();
  });
  closed.get_future().wait_for(kStopGrace);
  raw->state.CloseAll();
  raw->state.WaitForNoConnections(kStopGrace);
  raw->work.reset();
  raw->ioc.stop();
  for (auto& t : raw->threads) t.join();
  raw->threads.clear();
}

uint16_t FakeUpstream::port() const { return impl_->port; }
bool FakeUpstream::tls() const { return impl_->tls != nullptr; }
std::vector<RequestRecord> FakeUpstream::requests() const { return impl_->state.requests(); }
std::vector<WsTranscript> FakeUpstream::ws_sessions() const { return impl_->state.ws_sessions(); }
uint64_t FakeUpstream::request_count() const { return impl_->state.request_count(); }

bool FakeUpstream::WaitForClosedWsSessions(size_t n, std::chrono::milliseconds timeout) const {
  return impl_->state.WaitForClosedWsSessions(n, timeout);
}

}  // namespace relaytap::tools::fake_upstream
