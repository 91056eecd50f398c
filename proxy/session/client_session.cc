#include "proxy/session/client_session.h"

#include <chrono>
#include <string>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/errors.h"
#include "proxy/http/exchange_loop.h"
#include "proxy/http/header_rules.h"
#include "proxy/http/local_response.h"
#include "proxy/http/raw_parser.h"
#include "proxy/relay/pump.h"
#include "proxy/session/route.h"
#include "proxy/tls/contexts.h"
#include "proxy/stream/tls_byte_stream.h"
#include "proxy/stream/dial.h"

namespace relaytap::proxy {
namespace {

using http_relay::SessionStats;
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

void LogClose(const CloseLine& c, const SessionStats& s) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - c.start).count();
  RELAYTAP_LOG(kInfo, "conn=", c.id, " closed client=", c.client, " target=", c.target,
               " mode=", c.mode, s.websocket ? " websocket" : "", " exchanges=", s.exchanges,
               " up_bytes=", s.bytes_up, " down_bytes=", s.bytes_down, " duration_ms=", ms,
               " end=", s.end);
}

// What the proxy itself knows of how a connection ended, as a DESIGN.md outcome class; the
// recorder refines it from the exchanges and events.
std::string ConnectionOutcome(const SessionStats& s) {
  if (s.end == "client_rejected_ca") return "client_rejected_ca";
  if (s.dial_failure == DialStage::kDns) return "dns_failure";
  if (s.dial_failure == DialStage::kConnect) return s.dial_timed_out ? "timeout" : "connect_failure";
  if (s.dial_failure == DialStage::kTls) return s.dial_timed_out ? "timeout" : "upstream_tls_failure";
  if (s.end.find("timeout") != std::string::npos) return "timeout";
  if (s.end.find("upstream_reset") != std::string::npos || s.end.find("upstream:reset") != std::string::npos)
    return "upstream_reset";
  if (s.end.find("app_closed_mid") != std::string::npos || s.end.find("app:reset") != std::string::npos)
    return "client_abort";
  return "";
}

std::string CloseSide(const SessionStats& s) {
  if (s.end.starts_with("app") || s.end.starts_with("ws app:reset") ||
      s.end == "client_rejected_ca" || s.end.starts_with("bad_request"))
    return "app";
  if (s.end.find("upstream") != std::string::npos) return "upstream";
  if (s.end == "idle_timeout" || s.end == "closed_after_response") return "proxy";
  return "";
}

void Record(const ProxyContext& ctx, const CloseLine& c, const SessionStats& s) {
  if (ctx.sink == nullptr) return;
  recorder::ConnectionClosed closed;
  closed.connection_id = c.id;
  closed.close_us = NowUnixMicros();
  closed.upstream_address = s.upstream_address;
  closed.dns_us = s.dns_us;
  closed.tcp_connect_us = s.connect_us;
  closed.upstream_tls_us = s.tls_us;
  closed.app_tls_us = s.app_tls_us;
  closed.app_tls = s.app_tls;
  closed.upstream_tls = s.upstream_tls;
  closed.bytes_up = s.bytes_up;
  closed.bytes_down = s.bytes_down;
  closed.end = s.end;
  closed.close_side = CloseSide(s);
  closed.outcome = ConnectionOutcome(s);
  ctx.sink->TrySubmit(recorder::Observation(std::move(closed)));
}

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

net::awaitable<void> Answer(ByteStream& app, std::string_view bytes) {
  co_await app.WriteAll(net::buffer(bytes));
  co_await app.ShutdownSend();
}

net::awaitable<void> RunTunnel(const ProxyContext& ctx, ByteStream& app, beast::flat_buffer& buf,
                               HostPort target, SessionStats& stats) {
  DialResult d = co_await DialUpstream(*ctx.config, nullptr, target);
  if (!d.ok()) {
    {
      const std::string answer = http_relay::BuildLocalErrorResponse(
                             {d.timed_out ? 504 : 502,
                              StrCat("relaytap_upstream_", DialStageName(d.failed_stage)),
                              d.reason, std::string(DialStageName(d.failed_stage)), target.host});
      co_await Answer(app, answer);
    }
    stats.end = StrCat("upstream_", DialStageName(d.failed_stage), "_failed");
    stats.dial_failure = d.failed_stage;
    stats.dial_timed_out = d.timed_out;
    co_return;
  }
  stats.upstream_address = d.remote_address;
  stats.dialled = true;
  stats.dns_us = d.dns_us;
  stats.connect_us = d.connect_us;
  co_await app.WriteAll(net::buffer(std::string_view("HTTP/1.1 200 Connection Established\r\n\r\n")));
  std::string initial(static_cast<const char*>(buf.data().data()), buf.size());
  buf.clear();
  buf.shrink_to_fit();  // as in RunIntercept: not held while the tunnel pumps
  const std::string_view no_bytes;
  BiPumpResult r = co_await PumpBoth(app, *d.stream, initial, no_bytes, nullptr, nullptr);
  stats.bytes_up = r.up.bytes;
  stats.bytes_down = r.down.bytes;
  stats.end = StrCat("app:", PumpEndName(r.up.end), " upstream:", PumpEndName(r.down.end));
}

net::awaitable<void> RunIntercept(const ProxyContext& ctx, std::unique_ptr<ByteStream> app_tcp,
                                  beast::flat_buffer& buf, HostPort target, uint64_t id,
                                  SessionStats& stats) {
  auto [wec, wn] = co_await app_tcp->WriteAll(
      net::buffer(std::string_view("HTTP/1.1 200 Connection Established\r\n\r\n")));
  if (wec) {
    stats.end = "app_closed";
    co_return;
  }
  // Bytes the app sent right after CONNECT (its ClientHello, if it did not wait) go in first.
  std::string early(static_cast<const char*>(buf.data().data()), buf.size());
  buf.clear();
  buf.shrink_to_fit();  // the CONNECT head's 32 KiB read buffer, else held for the session
  auto made = TlsByteStream::Create(std::move(app_tcp->tcp()), *ctx.downstream_tls,
                                    TlsRole::kServer, std::move(early));
  absl::Status st = made.ok() ? tls::PrepareDownstreamSsl((*made)->native_handle(), *ctx.ca,
                                                          target.host)
                              : made.status();
  if (!st.ok()) {
    RELAYTAP_LOG(kError, "conn=", id, " cannot mint a certificate for ", target.host, ": ",
                 std::string(st.message()));
    stats.end = "certificate_error";
    co_return;
  }
  std::unique_ptr<TlsByteStream> app = *std::move(made);
  app_tcp.reset();  // the moved-from TCP stream's state (Beast's impl), else held for the session
  auto handshake_start = Clock::now();
  error_code hec = co_await app->Handshake(ctx.config->handshake_timeout);
  if (hec) {
    if (IsClientRejectedCa(hec)) {
      RELAYTAP_LOG(kWarn, "conn=", id, " the app rejected relaytap's certificate for ",
                   target.host, " (", DescribeError(hec),
                   "): it does not trust relaytap's CA; see `relaytap ca env` and the README");
      stats.end = "client_rejected_ca";
    } else {
      RELAYTAP_LOG(kWarn, "conn=", id, " TLS handshake with the app for ", target.host,
                   " failed: ", DescribeError(hec),
                   " (if the app closed silently, it may not trust relaytap's CA)");
      stats.end = "app_tls_handshake_failed";
    }
    co_return;
  }
  stats.app_tls_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - handshake_start).count();
  stats.app_tls = TlsFactsOf(app->native_handle());
  beast::flat_buffer tls_buf;
  http_relay::ExchangeLoopParams params{id, target};
  co_await http_relay::RunExchangeLoop(ctx, *app, tls_buf, std::move(params), stats);
  app->Close();
}

}  // namespace

net::awaitable<void> RunClientSession(const ProxyContext& ctx, TcpStream app_stream, uint64_t id) {
  CloseLine line{id, "", "", "http"};
  {
    error_code ec;
    auto ep = app_stream.socket().remote_endpoint(ec);
    if (!ec) line.client = StrCat(ep.address().to_string(), ":", ep.port());
    app_stream.socket().set_option(tcp::no_delay(true), ec);
  }
  std::unique_ptr<ByteStream> app = MakeTcpByteStream(std::move(app_stream));
  SessionStats stats;
  beast::flat_buffer buf;
  http_relay::RawParser<true> head;
  size_t hsize = 0;
  app->SetTimeout(ctx.config->http_idle_timeout);
  // The first request head (CONNECT or absolute-form) stays in `buf` for the exchange loop.
  head.header_limit(kMaxHeaderBytes);
  head.eager(false);
  error_code ec = co_await http_relay::ReadHeader(*app, buf, head, hsize);
  if (ec) {
    if (ec == http::error::header_limit) {
      {
      const std::string answer = http_relay::BuildLocalErrorResponse(
                                {431, "relaytap_header_too_large", "request header exceeds 64 KiB",
                                 "request", ""});
      co_await Answer(*app, answer);
    }
      stats.end = "bad_request_431";
    } else if (ec.category() == error_code(http::error::bad_method).category() &&
               ec != http::error::partial_message) {
      {
      const std::string answer = http_relay::BuildLocalErrorResponse(
                                {400, "relaytap_bad_request",
                                 StrCat("malformed HTTP request: ", ec.message()), "request", ""});
      co_await Answer(*app, answer);
    }
      stats.end = "bad_request_400";
    } else {
      stats.end = IsTimeout(ec) ? "idle_timeout" : "app_closed_before_request";
    }
    line.target = "-";
    LogClose(line, stats);
    co_return;  // nothing recorded: no target was ever named
  }

  if (head.method == "CONNECT") {
    auto target = ParseHostPort(head.target);
    buf.consume(hsize);
    if (!target.ok()) {
      {
      const std::string answer = http_relay::BuildLocalErrorResponse(
                                {400, "relaytap_bad_connect",
                                 "CONNECT needs an authority-form target HOST:PORT", "request",
                                 ""});
      co_await Answer(*app, answer);
    }
      stats.end = "bad_request_400";
    } else {
      line.target = StrCat(target->host, ":", target->port);
      Route route = Decide(target->host, ctx.config->intercept);
      line.mode = RouteName(route);
      RecordOpen(ctx, line, *target, route == Route::kIntercept, route == Route::kTunnel);
      if (route == Route::kTunnel) {
        co_await RunTunnel(ctx, *app, buf, *target, stats);
      } else {
        co_await RunIntercept(ctx, std::move(app), buf, *target, id, stats);
      }
    }
  } else {
    std::string host, origin;
    uint16_t port = 0;
    if (http_relay::SplitAbsoluteHttpTarget(head.target, &host, &port, &origin)) {
      line.target = StrCat(host, ":", port);
    } else {
      line.target = "-";
    }
    RecordOpen(ctx, line, HostPort{host, port}, false, false);
    http_relay::ExchangeLoopParams params{id, std::nullopt};
    co_await http_relay::RunExchangeLoop(ctx, *app, buf, std::move(params), stats);
  }
  LogClose(line, stats);
  Record(ctx, line, stats);
}

}  // namespace relaytap::proxy
