#include "tools/bench/client.h"

#include <openssl/ssl.h>

#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <string_view>

#include "base/str_cat.h"

namespace relaytap::tools::bench {
namespace {

namespace websocket = beast::websocket;

constexpr auto kStepTimeout = std::chrono::seconds(30);
constexpr size_t kConnectReplyMax = 8192;

absl::Status NetError(std::string_view what, const error_code& ec) {
  return absl::UnavailableError(StrCat(what, ": ", ec.message()));
}

// Sends CONNECT and reads the reply head; anything but 200 is an error.
net::awaitable<absl::Status> ProxyConnect(TcpStream& stream, const Endpoint& target) {
  const std::string authority = StrCat(target.host, ":", target.port);
  const std::string request =
      StrCat("CONNECT ", authority, " HTTP/1.1\r\nHost: ", authority, "\r\n\r\n");
  stream.expires_after(kStepTimeout);
  auto [wec, wn] = co_await net::async_write(stream, net::buffer(request));
  if (wec) co_return NetError("write CONNECT", wec);
  // Read byte-wise up to the blank line so no TLS byte is consumed here.
  std::string reply;
  char c = 0;
  while (!reply.ends_with("\r\n\r\n")) {
    if (reply.size() > kConnectReplyMax) co_return absl::UnavailableError("CONNECT reply too long");
    auto [rec, rn] = co_await net::async_read(stream, net::buffer(&c, 1));
    if (rec) co_return NetError("read CONNECT reply", rec);
    reply += c;
  }
  if (!reply.starts_with("HTTP/1.1 200") && !reply.starts_with("HTTP/1.0 200")) {
    co_return absl::UnavailableError(
        StrCat("proxy refused CONNECT: ", reply.substr(0, reply.find('\r'))));
  }
  co_return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(StrCat("'", text, "' is not HOST:PORT"));
  }
  Endpoint e;
  e.host = text.substr(0, colon);
  try {
    int port = std::stoi(text.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    e.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(StrCat("'", text, "': bad port"));
  }
  return e;
}

absl::StatusOr<std::unique_ptr<ssl::context>> MakeClientContext(const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->load_verify_file(ca_file, ec);
  if (ec)
    return absl::InvalidArgumentError(StrCat("cannot load CA file ", ca_file, ": ", ec.message()));
  ctx->set_verify_mode(ssl::verify_peer);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx->native_handle(), kAlpn, sizeof(kAlpn));
  return ctx;
}

net::awaitable<absl::StatusOr<std::unique_ptr<SslStream>>> ConnectTls(Executor ex,
                                                                      ssl::context& ctx,
                                                                      const ClientConfig& config) {
  const Endpoint& first_hop = config.proxy ? *config.proxy : config.target;
  Resolver resolver(ex);
  auto [rec, results] =
      co_await resolver.async_resolve(first_hop.host, std::to_string(first_hop.port));
  if (rec) co_return NetError(StrCat("resolve ", first_hop.host), rec);
  auto stream = std::make_unique<SslStream>(TcpStream(ex), ctx);
  TcpStream& tcp_stream = stream->next_layer();
  tcp_stream.expires_after(kStepTimeout);
  auto [cec, ep] = co_await tcp_stream.async_connect(results);
  if (cec) co_return NetError(StrCat("connect ", first_hop.host), cec);
  tcp_stream.socket().set_option(tcp::no_delay(true));
  if (config.proxy) {
    if (absl::Status st = co_await ProxyConnect(tcp_stream, config.target); !st.ok()) co_return st;
  }
  SSL_set_tlsext_host_name(stream->native_handle(), config.target.host.c_str());
  stream->set_verify_callback(ssl::host_name_verification(config.target.host));
  tcp_stream.expires_after(kStepTimeout);
  auto [hec] = co_await stream->async_handshake(ssl::stream_base::client);
  if (hec) co_return NetError("TLS handshake", hec);
  tcp_stream.expires_never();
  co_return stream;
}

net::awaitable<absl::StatusOr<std::unique_ptr<Ws>>> ConnectWs(Executor ex, ssl::context& ctx,
                                                              const ClientConfig& config) {
  auto tls = co_await ConnectTls(ex, ctx, config);
  if (!tls.ok()) co_return tls.status();
  auto ws = std::make_unique<Ws>(std::move(**tls));
  ws->read_message_max(64 << 20);
  ws->auto_fragment(false);
  ws->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(http::field::sec_websocket_protocol, "realtime");
    req.set("api-key", "bench-not-a-secret");
  }));
  beast::get_lowest_layer(*ws).expires_after(kStepTimeout);
  const std::string host = StrCat(config.target.host, ":", config.target.port);
  auto [ec] = co_await ws->async_handshake(host, config.ws_path);
  if (ec) co_return NetError("WebSocket handshake", ec);
  beast::get_lowest_layer(*ws).expires_never();
  co_return ws;
}

}  // namespace relaytap::tools::bench
