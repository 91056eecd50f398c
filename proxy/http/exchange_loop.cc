#include "proxy/http/exchange_loop.h"

#include <sys/socket.h>

#include <cerrno>
#include <limits>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/errors.h"
#include "proxy/http/header_rules.h"
#include "proxy/http/local_response.h"
#include "proxy/http/raw_parser.h"
#include "proxy/pump.h"
#include "proxy/upstream.h"

namespace relaytap::proxy::http_relay {
namespace {

using namespace net::experimental::awaitable_operators;

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kReadChunk = 32 * 1024;

template <bool isRequest>
void PrepareParser(RawParser<isRequest>& p) {
  p.header_limit(kMaxHeaderBytes);
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  p.eager(false);
}

std::string_view View(const beast::flat_buffer& b, size_t n) {
  return {static_cast<const char*>(b.data().data()), n};
}

// Reads from `s` until `parser` holds a complete header; the header's bytes stay at the front of
// `buf`, and their count is stored in `header_size`.
template <bool isRequest>
net::awaitable<error_code> ReadHeader(ByteStream& s, beast::flat_buffer& buf,
                                      RawParser<isRequest>& parser, size_t& header_size) {
  for (;;) {
    if (buf.size() > 0) {
      error_code ec;
      size_t used = parser.put(buf.data(), ec);
      if (!ec && parser.is_header_done()) {
        header_size = used;
        co_return error_code{};
      }
      if (ec && ec != http::error::need_more) co_return ec;
    }
    auto [ec, n] = co_await s.ReadSome(buf.prepare(kReadChunk));
    buf.commit(n);
    if (ec) {
      if (ec == net::error::eof && buf.size() > 0) co_return http::error::partial_message;
      co_return ec;
    }
  }
}

struct BodyResult {
  error_code read_ec;   // reading from the source failed (or the message was malformed)
  error_code write_ec;  // writing to the sink failed
  bool complete = false;
};

// Forwards the body of the message whose header `parser` just parsed, exactly as it arrives.
template <bool isRequest>
net::awaitable<BodyResult> RelayBody(ByteStream& from, beast::flat_buffer& buf,
                                     RawParser<isRequest>& parser, ByteStream& to,
                                     uint64_t& counter) {
  BodyResult r;
  parser.eager(true);
  while (!parser.is_done()) {
    if (buf.size() > 0) {
      error_code pec;
      size_t used = parser.put(buf.data(), pec);
      if (pec && pec != http::error::need_more) {
        r.read_ec = pec;
        co_return r;
      }
      if (used > 0) {
        if (!r.write_ec) {
          auto [wec, wn] = co_await to.WriteAll(net::buffer(buf.data().data(), used));
          r.write_ec = wec;
          counter += wn;
        }
        buf.consume(used);
        continue;
      }
    }
    auto [ec, n] = co_await from.ReadSome(buf.prepare(kReadChunk));
    buf.commit(n);
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) {
      if (buf.size() > 0) continue;  // let the parser see the last bytes first
      error_code eec;
      parser.put_eof(eec);  // completes a body delimited by the end of the connection
      if (eec) r.read_ec = eec;
      break;
    }
    if (ec) {
      r.read_ec = ec;
      co_return r;
    }
  }
  r.complete = parser.is_done();
  co_return r;
}

struct ResponseResult {
  bool any_bytes_to_app = false;
  bool switched = false;   // 101 relayed
  bool keep_alive = false;
  bool failed = false;     // connection must end
  std::string extensions;  // Sec-WebSocket-Extensions of a 101
};

net::awaitable<ResponseResult> RelayResponse(const ProxyContext& ctx, ByteStream& up,
                                             beast::flat_buffer& up_buf, ByteStream& app,
                                             bool head_request, const std::string& host,
                                             SessionStats& stats) {
  ResponseResult rr;
  for (;;) {
    RawParser<false> res;
    PrepareParser(res);
    if (head_request) res.skip(true);
    up.SetTimeout(ctx.config->http_idle_timeout);
    size_t hsize = 0;
    error_code ec = co_await ReadHeader(up, up_buf, res, hsize);
    if (ec) {
      rr.failed = true;
      if (!rr.any_bytes_to_app) {
        bool timeout = IsTimeout(ec);
        std::string msg = StrCat("upstream ", host, " ",
                                 timeout ? "did not answer in time"
                                         : StrCat("closed or broke the connection before "
                                                  "answering: ", DescribeError(ec)));
        std::string bytes = BuildLocalErrorResponse(
            {timeout ? 504 : 502, timeout ? "relaytap_upstream_timeout" : "relaytap_upstream_reset",
             msg, "response", host});
        co_await app.WriteAll(net::buffer(bytes));
        stats.end = timeout ? "upstream_timeout" : "upstream_reset_before_response";
      } else {
        app.Reset();
        stats.end = "upstream_reset";
      }
      co_return rr;
    }
    std::string out = RewriteHeaderBlock(View(up_buf, hsize));
    up_buf.consume(hsize);
    auto [wec, wn] = co_await app.WriteAll(net::buffer(out));
    stats.bytes_down += wn;
    rr.any_bytes_to_app = true;
    if (wec) {
      rr.failed = true;
      stats.end = "app_closed";
      co_return rr;
    }
    if (res.status == 101) {
      rr.switched = true;
      if (const std::string* e = res.Find("sec-websocket-extensions")) rr.extensions = *e;
      co_return rr;
    }
    if (res.status >= 100 && res.status < 200) continue;  // 100 Continue, 103 Early Hints
    up.SetTimeout(ctx.config->http_idle_timeout);
    app.SetTimeout(ctx.config->http_idle_timeout);
    BodyResult body = co_await RelayBody(up, up_buf, res, app, stats.bytes_down);
    if (body.write_ec) {
      rr.failed = true;
      up.Reset();
      stats.end = "app_closed_mid_response";
    } else if (!body.complete) {
      rr.failed = true;
      app.Reset();
      stats.end = StrCat("upstream_reset_mid_response");
    }
    rr.keep_alive = !rr.failed && res.keep_alive() && !res.need_eof();
    co_return rr;
  }
}

// An idle upstream connection is reusable only if it has said nothing since its last response:
// a FIN, a TLS close_notify or any other unsolicited byte means the server is closing it (Azure
// drops idle keep-alive connections). Checked with a non-blocking peek before each reuse, so a
// request is never sent into a connection the server already gave up.
bool IdleUpstreamIsReusable(ByteStream& up, const beast::flat_buffer& up_buf) {
  if (up_buf.size() > 0) return false;
  auto& sock = up.tcp().socket();
  if (!sock.is_open()) return false;
  char byte;
  ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

net::awaitable<void> WriteLocalError(ByteStream& app, const LocalError& e, SessionStats& stats) {
  std::string bytes = BuildLocalErrorResponse(e);
  auto [ec, n] = co_await app.WriteAll(net::buffer(bytes));
  stats.bytes_down += n;
  co_await app.ShutdownSend();
}

net::awaitable<void> RunWebSocket(const ProxyContext& ctx, ByteStream& app,
                                  beast::flat_buffer& app_buf, ByteStream& up,
                                  beast::flat_buffer& up_buf, const ResponseResult& rr,
                                  const std::string& host, const std::string& path,
                                  uint64_t id, SessionStats& stats) {
  stats.websocket = true;
  // WebSocket sessions have no idle limit, but dead peers are found by TCP keepalive.
  error_code ignored;
  app.tcp().socket().set_option(net::socket_base::keep_alive(true), ignored);
  up.tcp().socket().set_option(net::socket_base::keep_alive(true), ignored);

  std::unique_ptr<ws::MessageObserver> observer;
  std::unique_ptr<ws::FrameTap> up_tap, down_tap;
  auto deflate = ws::ParseNegotiatedExtensions(rr.extensions);
  if (!deflate.ok()) {
    RELAYTAP_LOG(kWarn, "conn=", id, " cannot read negotiated WebSocket extensions (",
                 std::string(deflate.status().message()), "); relaying without decoding");
  } else if (ctx.ws_observers != nullptr) {
    observer = ctx.ws_observers->Create(WsSessionInfo{id, host, path, *deflate});
    up_tap = std::make_unique<ws::FrameTap>(ws::Direction::kClientToServer, *deflate, *observer);
    down_tap = std::make_unique<ws::FrameTap>(ws::Direction::kServerToClient, *deflate, *observer);
  }
  std::string app_initial(View(app_buf, app_buf.size()));
  std::string up_initial(View(up_buf, up_buf.size()));
  app_buf.consume(app_buf.size());
  up_buf.consume(up_buf.size());
  BiPumpResult r = co_await PumpBoth(app, up, app_initial, up_initial, up_tap.get(),
                                     down_tap.get());
  stats.bytes_up += r.up.bytes;
  stats.bytes_down += r.down.bytes;
  stats.end = StrCat("ws app:", PumpEndName(r.up.end), " upstream:", PumpEndName(r.down.end));
}

}  // namespace

net::awaitable<void> RunExchangeLoop(const ProxyContext& ctx, ByteStream& app,
                                     beast::flat_buffer& app_buf, ExchangeLoopParams params,
                                     SessionStats& stats) {
  std::unique_ptr<ByteStream> up;
  HostPort up_target;
  beast::flat_buffer up_buf;
  ssl::context* up_tls = params.fixed_target ? ctx.upstream_tls : nullptr;

  for (;;) {
    RawParser<true> req;
    PrepareParser(req);
    app.SetTimeout(ctx.config->http_idle_timeout);
    size_t hsize = 0;
    error_code ec = co_await ReadHeader(app, app_buf, req, hsize);
    if (ec) {
      if (ec == http::error::header_limit) {
        {
          const LocalError local_error{431, "relaytap_header_too_large",
                                       "request header exceeds 64 KiB", "request", ""};
          co_await WriteLocalError(app, local_error, stats);
        }
        stats.end = "bad_request_431";
      } else if (ec.category() == error_code(http::error::bad_method).category() &&
                 ec != http::error::partial_message) {
        {
          const LocalError local_error{400, "relaytap_bad_request",
                                       StrCat("malformed HTTP request: ", ec.message()),
                                       "request", ""};
          co_await WriteLocalError(app, local_error, stats);
        }
        stats.end = "bad_request_400";
      } else {
        stats.end = IsTimeout(ec) ? "idle_timeout" : "app_closed";
      }
      co_return;
    }

    HostPort target;
    std::string origin_form;
    if (params.fixed_target) {
      target = *params.fixed_target;
    } else if (!SplitAbsoluteHttpTarget(req.target, &target.host, &target.port, &origin_form)) {
      co_await WriteLocalError(
          app, {400, "relaytap_not_a_proxy_request",
                "relaytap is a forward proxy: send absolute-form http:// requests or CONNECT",
                "request", ""}, stats);
      stats.end = "bad_request_400";
      co_return;
    }
    std::string out = RewriteHeaderBlock(View(app_buf, hsize), origin_form);
    app_buf.consume(hsize);

    if (up && (up_target.host != target.host || up_target.port != target.port ||
               !IdleUpstreamIsReusable(*up, up_buf))) {
      up->Close();
      up.reset();
      up_buf.clear();
    }
    if (!up) {
      DialResult d = co_await DialUpstream(*ctx.config, up_tls, target);
      if (!d.ok()) {
        int status = d.timed_out ? 504 : 502;
        std::string code = StrCat("relaytap_upstream_", DialStageName(d.failed_stage),
                                  d.timed_out ? "_timeout" : "");
        RELAYTAP_LOG(kWarn, "conn=", params.connection_id, " upstream ", target.host, ":",
                     target.port, " failed at ", DialStageName(d.failed_stage), ": ", d.reason);
        {
          const LocalError local_error{status, code, d.reason,
                                       std::string(DialStageName(d.failed_stage)), target.host};
          co_await WriteLocalError(app, local_error, stats);
        }
        stats.end = code;
        co_return;
      }
      up = std::move(d.stream);
      up_target = target;
      stats.upstream_address = d.remote_address;
    }

    stats.exchanges++;
    auto [wec, wn] = co_await up->WriteAll(net::buffer(out));
    stats.bytes_up += wn;
    if (wec) {
      {
          const LocalError local_error{502, "relaytap_upstream_reset",
                                     StrCat("upstream closed the connection: ", DescribeError(wec)),
                                     "request", target.host};
          co_await WriteLocalError(app, local_error, stats);
        }
      stats.end = "upstream_reset_before_response";
      co_return;
    }
    bool head = req.method == "HEAD";
    bool request_keep_alive = req.keep_alive();
    ResponseResult rr;
    if (req.is_done()) {
      rr = co_await RelayResponse(ctx, *up, up_buf, app, head, target.host, stats);
    } else {
      // Body and response run together: a server may answer (100 Continue, or an early error)
      // before the body is complete.
      auto body_task = [&]() -> net::awaitable<BodyResult> {
        co_return co_await RelayBody(app, app_buf, req, *up, stats.bytes_up);
      };
      auto response_task = [&]() -> net::awaitable<ResponseResult> {
        ResponseResult r = co_await RelayResponse(ctx, *up, up_buf, app, head, target.host, stats);
        // The app may still be waiting to send a body nobody reads (a final answer to
        // Expect: 100-continue): end our side so the app stops and the body relay ends.
        if (!req.is_done()) co_await app.ShutdownSend();
        co_return r;
      };
      auto [body, r] = co_await (body_task() && response_task());
      rr = r;
      if (!body.complete) rr.keep_alive = false;
    }
    if (rr.switched) {
      co_await RunWebSocket(ctx, app, app_buf, *up, up_buf, rr, target.host, req.target,
                            params.connection_id, stats);
      co_return;
    }
    if (rr.failed) co_return;
    if (!rr.keep_alive || !request_keep_alive) {
      co_await app.ShutdownSend();
      stats.end = "closed_after_response";
      co_return;
    }
  }
}

}  // namespace relaytap::proxy::http_relay
