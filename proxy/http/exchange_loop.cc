#include "proxy/http/exchange_loop.h"

#include <cerrno>
#include <limits>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/http/guard_hook.h"
#include "proxy/http/header_rules.h"
#include "proxy/http/local_response.h"
#include "proxy/http/raw_parser.h"
#include "proxy/http/websocket_session.h"
#include "proxy/relay/pump.h"
#include "proxy/stream/dial.h"
#include "proxy/stream/errors.h"

namespace relaytap::proxy::http_relay {
namespace {

using namespace net::experimental::awaitable_operators;
using recorder::EndReason;

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kReadChunk = 32 * 1024;
// Bodies are sampled for their redacted shape; realtime session configs and chat requests fit.
constexpr size_t kBodySampleBytes = 256 * 1024;

template <bool isRequest>
void PrepareParser(RawParser<isRequest>& p) {
  p.header_limit(kMaxHeaderBytes);
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  p.eager(false);
}

// SSE bodies are copied with their arrival times and parsed on the recorder's writer thread.
constexpr size_t kSseCaptureBytes = 16 * 1024 * 1024;

void CaptureSse(recorder::SseCapture& c, std::string_view bytes, int64_t now_us) {
  if (bytes.empty() || c.truncated) return;
  if (c.bytes.size() + bytes.size() > kSseCaptureBytes) {
    c.truncated = true;
    return;
  }
  c.bytes.append(bytes);
  c.chunk_ends.emplace_back(c.bytes.size(), now_us);
}

std::string_view View(const beast::flat_buffer& b, size_t n) {
  return {static_cast<const char*>(b.data().data()), n};
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
  bool switched = false;  // 101 relayed
  bool keep_alive = false;
  bool failed = false;      // connection must end
  std::string extensions;   // Sec-WebSocket-Extensions of a 101
  std::string subprotocol;  // Sec-WebSocket-Protocol of a 101 (one token the server chose)
};

net::awaitable<ResponseResult> RelayResponse(const ProxyContext& ctx, ByteStream& up,
                                             beast::flat_buffer& up_buf, ByteStream& app,
                                             bool head_request, const std::string& host,
                                             ConnectionFacts& stats, recorder::Exchange* obs,
                                             const GuardCheck& guard_check) {
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
      ReportGuardOutcome(ctx, guard_check, 0, "", "");
      if (!rr.any_bytes_to_app) {
        // if/else, not ?: over class temporaries: g++ 12 miscompiles those in coroutines.
        LocalError e;
        e.stage = "response";
        e.host = host;
        if (IsTimeout(ec)) {
          e.status = 504;
          e.code = "relaytap_upstream_timeout";
          e.message = StrCat("upstream ", host, " did not answer in time");
          stats.EndWith(EndReason::kUpstreamTimeout);
        } else {
          e.status = 502;
          e.code = "relaytap_upstream_reset";
          e.message =
              StrCat("upstream ", host,
                     " closed or broke the connection before answering: ", DescribeError(ec));
          stats.EndWith(EndReason::kUpstreamResetBeforeResponse);
        }
        if (obs) {
          obs->local_error_code = e.code;
          obs->error_stage = e.stage;
          obs->error_reason = e.message;
        }
        std::string bytes = BuildLocalErrorResponse(e);
        co_await app.WriteAll(net::buffer(bytes));
      } else {
        app.Reset();
        stats.EndWith(EndReason::kUpstreamResetMidResponse);
      }
      if (obs) obs->end = stats.end;
      co_return rr;
    }
    std::string out = RewriteHeaderBlock(View(up_buf, hsize));
    up_buf.consume(hsize);
    if (res.status >= 200 || res.status == 101) {
      const std::string* ra = res.Find("retry-after");
      const std::string* ra_ms = res.Find("retry-after-ms");
      const std::string* x_ms = res.Find("x-ms-retry-after-ms");
      ReportGuardOutcome(ctx, guard_check, res.status, ra ? *ra : "", ra_ms ? *ra_ms : "",
                         x_ms ? *x_ms : "");
    }
    if (obs && (res.status < 100 || res.status >= 200 || res.status == 101)) {
      obs->status = res.status;
      obs->response_headers = res.fields;
      obs->response_headers_us = NowUnixMicros();
      if (const std::string* ct = res.Find("content-type")) obs->response_body.content_type = *ct;
    }
    auto [wec, wn] = co_await app.WriteAll(net::buffer(out));
    stats.bytes_down += wn;
    rr.any_bytes_to_app = true;
    if (wec) {
      rr.failed = true;
      stats.EndWith(EndReason::kAppClosedMidResponse);
      if (obs) obs->end = stats.end;
      co_return rr;
    }
    if (res.status == 101) {
      rr.switched = true;
      if (const std::string* e = res.Find("sec-websocket-extensions")) rr.extensions = *e;
      if (const std::string* p = res.Find("sec-websocket-protocol")) rr.subprotocol = *p;
      co_return rr;
    }
    if (res.status >= 100 && res.status < 200) continue;  // 100 Continue, 103 Early Hints
    up.SetTimeout(ctx.config->http_idle_timeout);
    app.SetTimeout(ctx.config->http_idle_timeout);
    bool sse = false;
    if (obs) {
      res.sample_cap = kBodySampleBytes;
      sse = obs->response_body.content_type.find("text/event-stream") != std::string::npos;
      res.on_body = [obs, sse](std::string_view bytes) {
        int64_t now = NowUnixMicros();
        if (obs->first_body_byte_us == 0 && !bytes.empty()) obs->first_body_byte_us = now;
        if (sse) CaptureSse(obs->sse_capture, bytes, now);
      };
    }
    BodyResult body = co_await RelayBody(up, up_buf, res, app, stats.bytes_down);
    if (obs) {
      res.on_body = nullptr;
      obs->response_body.total_bytes = res.body_bytes;
      obs->response_body.bytes = std::move(res.body_sample);
      obs->response_body.truncated = res.sample_truncated;
      if (sse) obs->sse_capture.end_us = NowUnixMicros();
    }
    if (body.write_ec) {
      rr.failed = true;
      up.Reset();
      stats.EndWith(EndReason::kAppClosedMidResponse);
    } else if (!body.complete) {
      rr.failed = true;
      app.Reset();
      stats.EndWith(IsTimeout(body.read_ec) ? EndReason::kUpstreamTimeoutMidResponse
                                            : EndReason::kUpstreamResetMidResponse);
    }
    if (obs && rr.failed) obs->end = stats.end;
    rr.keep_alive = !rr.failed && res.keep_alive() && !res.need_eof();
    co_return rr;
  }
}

void Submit(const ProxyContext& ctx, std::unique_ptr<recorder::Exchange> obs) {
  ctx.sink->TrySubmit(recorder::Observation(std::move(*obs)));
}

// An idle upstream connection is reusable only if it has said nothing since its last response:
// a FIN, a TLS close_notify or any other unsolicited byte means the server is closing it (Azure
// drops idle keep-alive connections). Checked with a non-blocking peek before each reuse, so a
// request is never sent into a connection the server already gave up.
bool IdleUpstreamIsReusable(ByteStream& up, const beast::flat_buffer& up_buf) {
  if (up_buf.size() > 0 || up.HasBufferedInput()) return false;  // TLS read ahead counts too
  auto& sock = up.tcp().socket();
  if (!sock.is_open()) return false;
  char byte;
  ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

net::awaitable<void> WriteLocalError(ByteStream& app, const LocalError& e, ConnectionFacts& stats) {
  std::string bytes = BuildLocalErrorResponse(e);
  auto [ec, n] = co_await app.WriteAll(net::buffer(bytes));
  stats.bytes_down += n;
  co_await app.ShutdownSend();
}

}  // namespace

net::awaitable<void> RunExchangeLoop(const ProxyContext& ctx, ByteStream& app,
                                     beast::flat_buffer& app_buf, ExchangeLoopParams params,
                                     ConnectionFacts& stats) {
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
        stats.EndWith(EndReason::kBadRequest431);
      } else if (ec.category() == error_code(http::error::bad_method).category() &&
                 ec != http::error::partial_message) {
        {
          const LocalError local_error{400, "relaytap_bad_request",
                                       StrCat("malformed HTTP request: ", ec.message()), "request",
                                       ""};
          co_await WriteLocalError(app, local_error, stats);
        }
        stats.EndWith(EndReason::kBadRequest400);
      } else {
        // Between requests: the app closing, or a keep-alive connection left idle, is an
        // ordinary end.
        stats.EndWith(IsTimeout(ec) ? EndReason::kIdleTimeout : EndReason::kAppClosed);
      }
      co_return;
    }

    HostPort target;
    std::string origin_form;
    if (params.fixed_target) {
      target = *params.fixed_target;
    } else if (!SplitAbsoluteHttpTarget(req.target, &target.host, &target.port, &origin_form)) {
      const LocalError local_error{
          400, "relaytap_not_a_proxy_request",
          "relaytap is a forward proxy: send absolute-form http:// requests or CONNECT", "request",
          ""};
      co_await WriteLocalError(app, local_error, stats);
      stats.EndWith(EndReason::kBadRequest400);
      co_return;
    }
    std::string out = RewriteHeaderBlock(View(app_buf, hsize), origin_form);
    app_buf.consume(hsize);
    // From here every request is an exchange (a recorded row and one in the close line's count),
    // whether it is forwarded or answered here (guard rejection, failed dial).
    const uint32_t sequence = static_cast<uint32_t>(++stats.exchanges);
    std::unique_ptr<recorder::Exchange> obs;
    if (ctx.sink != nullptr) {
      obs = std::make_unique<recorder::Exchange>();
      obs->connection_id = params.connection_id;
      obs->sequence = sequence;
      obs->method = req.method;
      obs->host = target.host;
      obs->target = req.target;
      obs->request_headers = req.fields;
      obs->request_start_us = NowUnixMicros();
      obs->websocket_upgrade = req.HasToken("connection", "upgrade") && req.Find("upgrade");
      if (const std::string* ct = req.Find("content-type")) obs->request_body.content_type = *ct;
      req.sample_cap = kBodySampleBytes;
    }
    GuardCheck guard_check =
        co_await CheckGuard(ctx, app, app_buf, req, target, params.connection_id, sequence);
    if (guard_check.reject) {
      stats.bytes_down += co_await AnswerGuardRejection(app, guard_check, obs.get());
      stats.EndWith(EndReason::kGuardRejected);
      if (obs) Submit(ctx, std::move(obs));
      co_return;
    }

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
        const LocalError local_error{status, code, d.reason,
                                     std::string(DialStageName(d.failed_stage)), target.host};
        co_await WriteLocalError(app, local_error, stats);
        stats.end = DialEnd(d);
        ReportGuardOutcome(ctx, guard_check, 0, "", "");
        if (obs) {
          obs->local_error_code = code;
          obs->error_stage = std::string(DialStageName(d.failed_stage));
          obs->error_reason = d.reason;
          obs->end = stats.end;
          Submit(ctx, std::move(obs));
        }
        co_return;
      }
      up = std::move(d.stream);
      up_target = target;
      stats.upstream_address = d.remote_address;
      if (!stats.dialled) {
        stats.dialled = true;
        stats.dns_us = d.dns_us;
        stats.connect_us = d.connect_us;
        stats.tls_us = d.tls_us;
        stats.upstream_tls = d.tls;
      }
    }

    auto [wec, wn] = co_await up->WriteAll(net::buffer(out));
    stats.bytes_up += wn;
    if (wec) {
      const LocalError local_error{502, "relaytap_upstream_reset",
                                   StrCat("upstream closed the connection: ", DescribeError(wec)),
                                   "request", target.host};
      co_await WriteLocalError(app, local_error, stats);
      stats.EndWith(EndReason::kUpstreamResetBeforeResponse);
      ReportGuardOutcome(ctx, guard_check, 0, "", "");
      if (obs) {
        obs->local_error_code = local_error.code;
        obs->error_stage = "request";
        obs->error_reason = local_error.message;
        obs->end = stats.end;
        Submit(ctx, std::move(obs));
      }
      co_return;
    }
    bool head = req.method == "HEAD";
    bool request_keep_alive = req.keep_alive();
    ResponseResult rr;
    if (req.is_done()) {
      rr = co_await RelayResponse(ctx, *up, up_buf, app, head, target.host, stats, obs.get(),
                                  guard_check);
    } else {
      // Body and response run together: a server may answer (100 Continue, or an early error)
      // before the body is complete.
      auto body_task = [&]() -> net::awaitable<BodyResult> {
        co_return co_await RelayBody(app, app_buf, req, *up, stats.bytes_up);
      };
      auto response_task = [&]() -> net::awaitable<ResponseResult> {
        ResponseResult r = co_await RelayResponse(ctx, *up, up_buf, app, head, target.host, stats,
                                                  obs.get(), guard_check);
        // The app may still be waiting to send a body nobody reads (a final answer to
        // Expect: 100-continue): end our side so the app stops and the body relay ends.
        if (!req.is_done()) co_await app.ShutdownSend();
        co_return r;
      };
      auto [body, r] = co_await (body_task() && response_task());
      rr = r;
      if (!body.complete) rr.keep_alive = false;
    }
    if (obs) {
      obs->request_body.total_bytes = req.body_bytes;
      obs->request_body.bytes = std::move(req.body_sample);
      obs->request_body.truncated = req.sample_truncated;
      obs->switched = rr.switched;
      obs->end_us = NowUnixMicros();
      if (obs->end.reason == EndReason::kNone) {
        obs->end.reason = rr.switched ? EndReason::kSwitched : EndReason::kComplete;
      }
    }
    if (rr.switched) {
      uint32_t exchange_sequence = obs ? obs->sequence : 0;
      if (obs) Submit(ctx, std::move(obs));
      WsSessionInfo info{params.connection_id, target.host, req.target, {}};
      info.exchange_sequence = exchange_sequence;
      // Nothing of the request head is needed while the session runs (it can last hours).
      std::string().swap(out);
      std::vector<RawParser<true>::Field>().swap(req.fields);
      // A named local, not a braced temporary in the call: g++ 12 mishandles class temporaries
      // that live across a co_await.
      NegotiatedWebSocket negotiated{rr.extensions, rr.subprotocol};
      co_await RunWebSocket(ctx, app, app_buf, *up, up_buf, negotiated, info, guard_check, stats);
      co_return;
    }
    if (obs) Submit(ctx, std::move(obs));
    if (rr.failed) co_return;
    if (!rr.keep_alive || !request_keep_alive) {
      co_await app.ShutdownSend();
      stats.EndWith(EndReason::kClosedAfterResponse);
      co_return;
    }
  }
}

}  // namespace relaytap::proxy::http_relay
