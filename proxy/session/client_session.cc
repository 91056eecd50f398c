#include "proxy/session/client_session.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/config/route.h"
#include "proxy/http/exchange_loop.h"
#include "proxy/http/header_rules.h"
#include "proxy/http/local_response.h"
#include "proxy/http/raw_parser.h"
#include "proxy/http/self_check.h"
#include "proxy/http/websocket_session.h"
#include "proxy/relay/idle_watch.h"
#include "proxy/relay/pump.h"
#include "proxy/session/access.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/dial.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/tls_byte_stream.h"
#include "proxy/stream/upstream_proxy.h"
#include "proxy/tls/contexts.h"
#include "proxy/tls/self_check_host.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;
using recorder::EndReason;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeaderBytes = 64 * 1024;

struct CloseLine {
  uint64_t id;
  std::string client;
  std::string target;
  std::string_view mode = "http";
  Clock::time_point start = Clock::now();
  int64_t open_us = NowUnixMicros();
};

void LogClose(const CloseLine& c, const ConnectionFacts& s) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - c.start).count();
  RELAYTAP_LOG(kInfo, "conn=", c.id, " closed client=", c.client, " target=", c.target,
               " mode=", c.mode, s.websocket ? " websocket" : "", " exchanges=", s.exchanges,
               s.upstream_proxy.empty() ? "" : " via=", s.upstream_proxy, " up_bytes=", s.bytes_up,
               " down_bytes=", s.bytes_down, " duration_ms=", ms,
               " end=", recorder::EndText(s.end));
}

void Record(const ProxyContext& ctx, const CloseLine& c, const ConnectionFacts& s) {
  if (ctx.sink == nullptr) return;
  recorder::ConnectionClosed closed;
  closed.connection_id = c.id;
  closed.close_us = NowUnixMicros();
  closed.upstream_address = s.upstream_address;
  closed.upstream_proxy = s.upstream_proxy;
  closed.proxy_status = s.proxy_status;
  closed.proxy_connect_us = s.proxy_connect_us;
  closed.dns_us = s.dns_us;
  closed.tcp_connect_us = s.connect_us;
  closed.upstream_tls_us = s.tls_us;
  closed.app_tls_us = s.app_tls_us;
  closed.app_tls = s.app_tls;
  closed.upstream_tls = s.upstream_tls;
  closed.bytes_up = s.bytes_up;
  closed.bytes_down = s.bytes_down;
  closed.end = s.end;
  ctx.sink->TrySubmit(recorder::Observation(std::move(closed)));
}

// Writes the close line, and the close record once a target was named, when the session ends:
// also when relaytap stops with it still open (Server::Shutdown destroys the session after its
// grace period), then with the end proxy_shutdown.
struct CloseOnExit {
  const ProxyContext& ctx;
  CloseLine& line;
  ConnectionFacts& stats;
  bool record = false;
  bool finished = false;
  ~CloseOnExit() {
    try {
      if (!finished) stats.EndWith(EndReason::kProxyShutdown);
      LogClose(line, stats);
      if (record) Record(ctx, line, stats);
    } catch (...) {  // out of memory while stopping: the record is lost, the stop goes on
    }
  }
};

void RecordOpen(const ProxyContext& ctx, const CloseLine& c, const HostPort& target,
                bool intercepted, bool tunnel) {
  if (ctx.sink == nullptr) return;
  recorder::ConnectionOpened opened;
  opened.connection_id = c.id;
  opened.open_us = c.open_us;
  opened.client_address = c.client;
  opened.target_host = target.host;
  opened.target_port = target.port;
  opened.intercepted = intercepted;
  opened.tunnel = tunnel;
  ctx.sink->TrySubmit(recorder::Observation(std::move(opened)));
}

Awaitable<void> RunTunnel(const ProxyContext& ctx, ByteStream& app, beast::flat_buffer& buf,
                          HostPort target, uint64_t id, ConnectionFacts& stats) {
  DialResult d = co_await DialUpstream(*ctx.config, nullptr, target);
  if (!d.ok()) {
    RELAYTAP_LOG(kWarn, "conn=", id, " tunnel to ", target.host, ":", target.port, " failed at ",
                 DialStageName(d.failed_stage), ": ", d.reason);
    const http_relay::LocalError e = http_relay::DialLocalError(d, target.host);
    stats.bytes_down += co_await http_relay::WriteLocalError(app, e);
    stats.end = DialEnd(d);
    NoteDialFacts(d, stats);
    co_return;
  }
  NoteDialFacts(d, stats);
  co_await app.WriteAll(
      net::buffer(std::string_view("HTTP/1.1 200 Connection Established\r\n\r\n")));
  std::string initial(static_cast<const char*>(buf.data().data()), buf.size());
  buf.clear();
  buf.shrink_to_fit();  // as in RunIntercept: not held while the tunnel pumps
  // A tunnel is closed after tunnel_idle_timeout with no byte either way; TCP keepalive finds a
  // peer that vanished sooner.
  EnableKeepAlive(app);
  EnableKeepAlive(*d.stream);
  IdleWatch watch(co_await net::this_coro::executor, ctx.config->tunnel_idle_timeout);
  ActivityRelay up(*d.stream, watch), down(app, watch);
  auto pumps = [&]() -> Awaitable<BiPumpResult> {
    BiPumpResult r = co_await PumpBoth(app, *d.stream, initial, std::string_view(), up, down);
    watch.Stop();
    co_return r;
  };
  auto [r, idle] = co_await (pumps() && watch.Run(app, *d.stream));
  stats.bytes_up = r.up.bytes;
  stats.bytes_down = r.down.bytes;
  stats.end = idle ? recorder::EndFacts{.reason = EndReason::kTunnelIdleTimeout}
                   : RelayEnd(r, /*websocket=*/false);
}

// Logs why the app's TLS handshake failed, with the fix when it is a trust problem, and returns
// the connection's end.
EndReason LogAppHandshakeFailure(const ProxyContext& ctx, TlsByteStream& app, error_code hec,
                                 const std::string& host, uint64_t id) {
  if (std::string sni = tls::RefusedSniOf(app.native_handle()); !sni.empty()) {
    RELAYTAP_LOG(kWarn, "conn=", id, " refused the app's TLS handshake: its SNI '", sni,
                 "' is not its CONNECT host ", host,
                 "; relaytap presents a certificate only for the CONNECT host");
    return EndReason::kAppSniMismatch;
  }
  if (IsSelfCheckHost(host)) {
    // The self-check exists to find exactly this: say so plainly, with the fix.
    RELAYTAP_LOG(kWarn, "conn=", id, " ",
                 http_relay::SelfCheckTrustAdvice(ctx.ca->cert_path().string()),
                 " (TLS: ", DescribeError(hec), ")");
    return IsClientRejectedCa(hec) ? EndReason::kClientRejectedCa
                                   : EndReason::kAppTlsHandshakeFailed;
  }
  if (IsClientRejectedCa(hec)) {
    RELAYTAP_LOG(kWarn, "conn=", id, " the app rejected relaytap's certificate for ", host, " (",
                 DescribeError(hec),
                 "): it does not trust relaytap's CA; see `relaytap ca env` and the README");
    return EndReason::kClientRejectedCa;
  }
  RELAYTAP_LOG(kWarn, "conn=", id, " TLS handshake with the app for ", host,
               " failed: ", DescribeError(hec),
               " (if the app closed silently, it may not trust relaytap's CA)");
  return IsTimeout(hec) ? EndReason::kAppTlsHandshakeTimeout : EndReason::kAppTlsHandshakeFailed;
}

using Upgraded = std::unique_ptr<http_relay::UpgradedSession>;

// The app's TLS (a leaf minted for the host), then the exchange loop inside it. Returns the
// WebSocket session (with the app's stream) when an exchange switched, else null.
Awaitable<Upgraded> RunIntercept(const ProxyContext& ctx, std::unique_ptr<ByteStream> app_tcp,
                                 beast::flat_buffer& buf, HostPort target, uint64_t id,
                                 ConnectionFacts& stats) {
  auto [wec, wn] = co_await app_tcp->WriteAll(
      net::buffer(std::string_view("HTTP/1.1 200 Connection Established\r\n\r\n")));
  if (wec) {
    stats.EndWith(EndReason::kAppClosed);
    co_return nullptr;
  }
  // Bytes the app sent right after CONNECT (its ClientHello, if it did not wait) go in first.
  std::string early(static_cast<const char*>(buf.data().data()), buf.size());
  buf.clear();
  buf.shrink_to_fit();  // the CONNECT head's 32 KiB read buffer, else held for the session
  auto made = TlsByteStream::Create(std::move(app_tcp->socket()), *ctx.downstream_tls,
                                    TlsRole::kServer, std::move(early));
  absl::Status st = made.ok()
                        ? tls::PrepareDownstreamSsl((*made)->native_handle(), *ctx.ca, target.host)
                        : made.status();
  if (!st.ok()) {
    RELAYTAP_LOG(kError, "conn=", id, " cannot mint a certificate for ", target.host, ": ",
                 std::string(st.message()));
    stats.EndWith(EndReason::kCertificateError);
    co_return nullptr;
  }
  std::unique_ptr<TlsByteStream> app = *std::move(made);
  app_tcp.reset();
  auto handshake_start = Clock::now();
  error_code hec = co_await app->Handshake(ctx.config->handshake_timeout);
  if (hec) {
    stats.EndWith(LogAppHandshakeFailure(ctx, *app, hec, target.host, id));
    co_return nullptr;
  }
  stats.app_tls_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - handshake_start).count();
  stats.app_tls = TlsFactsOf(app->native_handle());
  tls::ReleaseDownstreamName(app->native_handle());
  beast::flat_buffer tls_buf;
  http_relay::ExchangeLoopParams params{id, target};
  Upgraded upgraded =
      co_await http_relay::RunExchangeLoop(ctx, *app, tls_buf, std::move(params), stats);
  if (upgraded) {
    upgraded->app = std::move(app);
    co_return upgraded;
  }
  app->Close();
  co_return nullptr;
}

// CONNECT: intercept (TLS terminated here, then the exchange loop) or tunnel (bytes relayed
// blind), as the configuration routes the host. Returns the intercepted WebSocket session, if an
// exchange switched to one.
Awaitable<Upgraded> RunConnect(const ProxyContext& ctx, std::unique_ptr<ByteStream> app,
                               beast::flat_buffer& buf, std::string_view authority, CloseLine& line,
                               ConnectionFacts& stats) {
  auto target = ParseHostPort(authority);
  if (!target.ok()) {
    const http_relay::LocalError e{400, "relaytap_bad_connect",
                                   "CONNECT needs an authority-form target HOST:PORT", "request",
                                   ""};
    stats.bytes_down += co_await http_relay::WriteLocalError(*app, e);
    stats.EndWith(EndReason::kBadRequest400);
    co_return nullptr;
  }
  line.target = StrCat(target->host, ":", target->port);
  Route route = Decide(target->host, ctx.config->intercept);
  line.mode = RouteName(route);
  RecordOpen(ctx, line, *target, route == Route::kIntercept, route == Route::kTunnel);
  if (route == Route::kTunnel) {
    co_await RunTunnel(ctx, *app, buf, *target, line.id, stats);
    co_return nullptr;
  }
  co_return co_await RunIntercept(ctx, std::move(app), buf, *target, line.id, stats);
}

// Plain proxying: absolute-form http:// requests, each naming its target; the first head stays
// in `buf` for the exchange loop. Returns the WebSocket session, if an exchange switched to one.
Awaitable<Upgraded> RunPlainProxy(const ProxyContext& ctx, std::unique_ptr<ByteStream> app,
                                  beast::flat_buffer& buf, std::string_view first_target,
                                  CloseLine& line, ConnectionFacts& stats) {
  std::string host, origin;
  uint16_t port = 0;
  if (http_relay::SplitAbsoluteHttpTarget(first_target, &host, &port, &origin)) {
    line.target = StrCat(host, ":", port);
  } else {
    line.target = "-";
  }
  RecordOpen(ctx, line, HostPort{host, port}, false, false);
  http_relay::ExchangeLoopParams params{line.id, std::nullopt};
  Upgraded upgraded =
      co_await http_relay::RunExchangeLoop(ctx, *app, buf, std::move(params), stats);
  if (upgraded) upgraded->app = std::move(app);
  co_return upgraded;
}

// The client's address (empty when the socket has none), and TCP_NODELAY on its socket.
net::ip::address PeerOf(TcpSocket& app_socket, CloseLine& line) {
  error_code ec;
  net::ip::address address;
  auto ep = app_socket.remote_endpoint(ec);
  if (!ec) {
    line.client = StrCat(ep.address().to_string(), ":", ep.port());
    address = ep.address();
  }
  app_socket.set_option(tcp::no_delay(true), ec);
  return address;
}

// The connection's first head, read into `buf`/`head` within head_timeout of the accept. On
// failure the app gets the answer its failure deserves (if any) and `stats` its end.
Awaitable<bool> ReadFirstHead(const ProxyContext& ctx, ByteStream& app, beast::flat_buffer& buf,
                              http_relay::RawParser<true>& head, size_t& hsize,
                              ConnectionFacts& stats) {
  head.header_limit(kMaxHeaderBytes);
  head.eager(false);
  const http_relay::HeadTimeouts timeouts{ctx.config->http_idle_timeout, ctx.config->head_timeout,
                                          /*total_from_call=*/true};
  app.SetTimeout(timeouts.idle);
  error_code ec = co_await http_relay::ReadHeader(app, buf, head, hsize, timeouts);
  if (!ec) co_return true;
  const http_relay::HeadFailure failure = http_relay::ClassifyHeadFailure(
      ec, EndReason::kAppClosedBeforeRequest, /*head_begun=*/buf.size() > 0);
  if (failure.answer) {
    stats.bytes_down += co_await http_relay::WriteLocalError(app, *failure.answer);
  }
  stats.EndWith(failure.end);
  co_return false;
}

// Why the first head is refused before any target is named, if it is: the remote mode's missing
// or wrong proxy credentials, or a request this relaytap sent itself (a proxy loop).
std::optional<std::pair<http_relay::LocalError, EndReason>> RefusalOf(
    const ProxyContext& ctx, const http_relay::RawParser<true>& head, uint64_t id) {
  if (ctx.access != nullptr && ctx.access->requires_auth()) {
    const std::string* credentials = head.Find("proxy-authorization");
    if (!ctx.access->Authorized(credentials != nullptr ? *credentials : std::string_view())) {
      http_relay::LocalError e{407, "relaytap_proxy_auth_required",
                               "relaytap needs proxy credentials (Proxy-Authorization: Basic)",
                               "request", ""};
      e.extra_headers = "Proxy-Authenticate: Basic realm=\"relaytap\"\r\n";
      return std::pair{std::move(e), EndReason::kProxyAuthRequired};
    }
  }
  if (CarriesLoopMarker(head.fields)) {
    RELAYTAP_LOG(kError, "conn=", id,
                 " refused a request that this relaytap sent itself (its Via "
                 "marker): --upstream-proxy leads back to relaytap, a proxy loop");
    http_relay::LocalError e{508, std::string(kProxyLoopErrorCode),
                             "this request went out of relaytap and came back to it: the upstream "
                             "proxy leads back to relaytap (a loop)",
                             "request", ""};
    return std::pair{std::move(e), EndReason::kProxyLoop};
  }
  return std::nullopt;
}

// The connection up to its end, or up to a switch to WebSocket: the first head, the checks on
// it, then CONNECT or plain proxying. Sets `close.record` once a target is named.
// `app_socket` (the caller's) is moved into the app's stream at once.
Awaitable<Upgraded> ServeHttp(const ProxyContext& ctx, TcpSocket& app_socket, CloseLine& line,
                              ConnectionFacts& stats, CloseOnExit& close) {
  const net::ip::address client_address = PeerOf(app_socket, line);
  std::unique_ptr<ByteStream> app = MakeTcpByteStream(std::move(app_socket));
  // Until a target is named the connection is logged but not recorded (close.record stays false).
  line.target = "-";
  // Remote mode: a client outside --allow-client is closed without a word.
  if (ctx.access != nullptr && !ctx.access->ClientAllowed(client_address)) {
    stats.EndWith(EndReason::kClientNotAllowed);
    co_return nullptr;
  }
  beast::flat_buffer buf;
  http_relay::RawParser<true> head;
  size_t hsize = 0;
  if (!co_await ReadFirstHead(ctx, *app, buf, head, hsize, stats)) co_return nullptr;
  // Remote mode with --proxy-auth-file: the connection's first head carries the credentials
  // (CONNECT, or the first absolute-form request).
  if (auto refusal = RefusalOf(ctx, head, line.id)) {
    stats.bytes_down += co_await http_relay::WriteLocalError(*app, refusal->first);
    stats.EndWith(refusal->second);
    co_return nullptr;
  }
  close.record = true;
  if (head.method == "CONNECT") {
    buf.consume(hsize);
    co_return co_await RunConnect(ctx, std::move(app), buf, head.target, line, stats);
  }
  co_return co_await RunPlainProxy(ctx, std::move(app), buf, head.target, line, stats);
}

}  // namespace

// The frame of this coroutine is what a WebSocket session keeps of its connection while it
// relays (the close line and the facts): everything that led to the 101 lives in ServeHttp's
// frames, which are gone by then.
Awaitable<void> RunClientSession(const ProxyContext& ctx, TcpSocket app_socket, uint64_t id) {
  CloseLine line{id, "", "", "http"};
  ConnectionFacts stats;
  CloseOnExit close{ctx, line, stats};
  Upgraded upgraded = co_await ServeHttp(ctx, app_socket, line, stats, close);
  if (upgraded) {
    co_await http_relay::RunWebSocket(ctx, *upgraded, stats);
    upgraded->app->Close();
    upgraded.reset();
  }
  close.finished = true;
}

}  // namespace relaytap::proxy
