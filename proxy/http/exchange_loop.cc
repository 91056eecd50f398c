#include "proxy/http/exchange_loop.h"

#include <cerrno>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/http/guard_hook.h"
#include "proxy/http/header_rules.h"
#include "proxy/http/local_response.h"
#include "proxy/http/message_relay.h"
#include "proxy/http/raw_parser.h"
#include "proxy/http/response_relay.h"
#include "proxy/http/self_check.h"
#include "proxy/http/websocket_session.h"
#include "proxy/stream/dial.h"
#include "proxy/stream/errors.h"
#include "proxy/tls/self_check_host.h"

namespace relaytap::proxy::http_relay {
namespace {

using namespace net::experimental::awaitable_operators;
using recorder::EndReason;

// An idle upstream connection is reusable only if it has said nothing since its last response:
// a FIN, a TLS close_notify or any other unsolicited byte means the server is closing it (Azure
// drops idle keep-alive connections). Checked with a non-blocking peek before each reuse, so a
// request is never sent into a connection the server already gave up.
bool IdleUpstreamIsReusable(ByteStream& up, const beast::flat_buffer& up_buf) {
  if (up_buf.size() > 0 || up.HasBufferedInput()) return false;  // TLS read ahead counts too
  auto& sock = up.socket();
  if (!sock.is_open()) return false;
  char byte;
  ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// The bytes a head parse read past the handshake, taken out of `buf`. The head-parse buffers
// grew to 32-64 KiB each (ReadHeader prepares 32 KiB reads) and would stay that size for the
// whole session: the memory goes back before the relay starts.
std::string TakeBuffered(beast::flat_buffer& buf) {
  std::string bytes(static_cast<const char*>(buf.data().data()), buf.size());
  buf.clear();
  buf.shrink_to_fit();
  return bytes;
}

// One request on its way: its parsed head, where it goes, its recording and the guard's word.
struct Request {
  RawParser<true> parser;
  size_t head_size = 0;
  HostPort target;
  std::string head_out;  // the head as sent upstream (hop-by-hop fields removed, origin form)
  std::unique_ptr<recorder::Exchange> obs;  // null when not recording
  GuardCheck guard;
};

// The loop of one app connection. Each step either moves the request on or ends the connection
// (returns false) after answering the app and setting `stats_.end`.
class ExchangeLoop {
 public:
  ExchangeLoop(const ProxyContext& ctx, ByteStream& app, beast::flat_buffer& app_buf,
               ExchangeLoopParams params, ConnectionFacts& stats)
      : ctx_(ctx),
        app_(app),
        app_buf_(app_buf),
        params_(std::move(params)),
        stats_(stats),
        up_tls_(params_.fixed_target ? ctx.upstream_tls : nullptr) {}

  Awaitable<std::unique_ptr<UpgradedSession>> Run() {
    for (;;) {
      Request r;
      if (!co_await ReadRequestHead(r)) co_return nullptr;
      if (!co_await Route(r)) co_return nullptr;
      BeginExchange(r);
      if (IsSelfCheckHost(r.target.host)) {
        if (!co_await AnswerSelfCheckRequest(r)) co_return nullptr;
        continue;
      }
      r.guard = co_await CheckGuard(ctx_, app_, app_buf_, r.parser, r.target, params_.connection_id,
                                    static_cast<uint32_t>(stats_.exchanges));
      if (r.guard.reject) {
        stats_.bytes_down += co_await AnswerGuardRejection(app_, r.guard, r.obs.get());
        stats_.EndWith(EndReason::kGuardRejected);
        Submit(r, stats_.end);
        co_return nullptr;
      }
      if (!co_await ConnectUpstream(r)) co_return nullptr;
      if (!co_await SendHead(r)) co_return nullptr;
      const bool request_keep_alive = r.parser.keep_alive();
      ResponseResult rr = co_await RelayBodyAndResponse(r);
      RecordRequestBody(r);
      if (rr.switched) co_return Upgrade(r, rr);
      if (rr.failed) {
        Submit(r, stats_.end);
        co_return nullptr;
      }
      Submit(r, recorder::EndFacts{.reason = EndReason::kComplete});
      if (!rr.keep_alive || !request_keep_alive) {
        co_await app_.ShutdownSend();
        stats_.EndWith(EndReason::kClosedAfterResponse);
        co_return nullptr;
      }
    }
  }

 private:
  // Reads the next request head. Between requests, the app closing or a keep-alive connection
  // left idle is an ordinary end; an oversized or malformed head is answered 431 / 400.
  Awaitable<bool> ReadRequestHead(Request& r) {
    PrepareParser(r.parser);
    // Idle between requests for up to http_idle_timeout; once a head begins, head_timeout.
    const HeadTimeouts timeouts{ctx_.config->http_idle_timeout, ctx_.config->head_timeout};
    app_.SetTimeout(timeouts.idle);
    error_code ec = co_await ReadHeader(app_, app_buf_, r.parser, r.head_size, timeouts);
    if (!ec) co_return true;
    const HeadFailure failure =
        ClassifyHeadFailure(ec, EndReason::kAppClosed, /*head_begun=*/app_buf_.size() > 0);
    if (failure.answer) stats_.bytes_down += co_await WriteLocalError(app_, *failure.answer);
    stats_.EndWith(failure.end);
    co_return false;
  }

  // Where the request goes: the intercepted host, or the absolute-form target of plain
  // proxying (sent on in origin form).
  Awaitable<bool> Route(Request& r) {
    std::string origin_form;
    if (params_.fixed_target) {
      r.target = *params_.fixed_target;
    } else if (!SplitAbsoluteHttpTarget(r.parser.target, &r.target.host, &r.target.port,
                                        &origin_form)) {
      const LocalError e{
          400, "relaytap_not_a_proxy_request",
          "relaytap is a forward proxy: send absolute-form http:// requests or CONNECT", "request",
          ""};
      co_await AnswerAndEnd(e, EndReason::kBadRequest400);
      co_return false;
    }
    r.head_out = RewriteHeaderBlock(HeadView(app_buf_, r.head_size), origin_form);
    app_buf_.consume(r.head_size);
    co_return true;
  }

  // From here every request is an exchange (a recorded row and one in the close line's count),
  // whether it is forwarded or answered here (guard rejection, failed dial).
  void BeginExchange(Request& r) {
    const uint32_t sequence = static_cast<uint32_t>(++stats_.exchanges);
    if (ctx_.sink == nullptr) return;
    auto obs = std::make_unique<recorder::Exchange>();
    const RawParser<true>& req = r.parser;
    obs->connection_id = params_.connection_id;
    obs->sequence = sequence;
    obs->method = req.method;
    obs->host = r.target.host;
    obs->target = req.target;
    obs->request_headers = req.fields;
    obs->request_start_us = NowUnixMicros();
    obs->websocket_upgrade = req.HasToken("connection", "upgrade") && req.Find("upgrade");
    if (const std::string* ct = req.Find("content-type")) obs->request_body.content_type = *ct;
    r.parser.sample_cap = kBodySampleBytes;
    r.obs = std::move(obs);
  }

  // relaytap's self-check host: answered here, never dialled, recorded like any exchange.
  Awaitable<bool> AnswerSelfCheckRequest(Request& r) {
    if (r.obs) r.obs->self_check = true;
    const std::string* ws_key = r.parser.Find("sec-websocket-key");
    if (ws_key != nullptr && r.parser.HasToken("connection", "upgrade")) {
      const SelfCheckResult res = co_await AnswerSelfCheckUpgrade(ctx_, app_, *ws_key, r.obs.get());
      stats_.bytes_down += res.bytes;
      Submit(r, recorder::EndFacts{.reason = EndReason::kComplete});
      co_await app_.ShutdownSend();
      stats_.EndWith(res.ok ? EndReason::kClosedAfterResponse : EndReason::kAppClosed);
      co_return false;
    }
    const bool keep_alive = r.parser.keep_alive() && r.parser.is_done();
    const SelfCheckResult res = co_await AnswerSelfCheck(ctx_, app_, keep_alive, r.obs.get());
    stats_.bytes_down += res.bytes;
    Submit(r, recorder::EndFacts{.reason = EndReason::kComplete});
    if (res.ok && keep_alive) co_return true;
    co_await app_.ShutdownSend();
    stats_.EndWith(res.ok ? EndReason::kClosedAfterResponse : EndReason::kAppClosed);
    co_return false;
  }

  // Reuses the idle upstream connection when it goes to the same place and is still open, else
  // dials. A failed dial is answered 502 / 504 naming the stage that failed.
  Awaitable<bool> ConnectUpstream(Request& r) {
    if (up_ && (up_target_.host != r.target.host || up_target_.port != r.target.port ||
                !IdleUpstreamIsReusable(*up_, up_buf_))) {
      up_->Close();
      up_.reset();
      up_buf_.clear();
    }
    if (up_) co_return true;
    DialResult d = co_await DialUpstream(*ctx_.config, up_tls_, r.target);
    if (!d.ok()) {
      const std::string stage(DialStageName(d.failed_stage));
      RELAYTAP_LOG(kWarn, "conn=", params_.connection_id, " upstream ", r.target.host, ":",
                   r.target.port, " failed at ", stage, ": ", d.reason);
      const LocalError e = DialLocalError(d, r.target.host);
      NoteLocalError(r.obs.get(), e);
      stats_.bytes_down += co_await WriteLocalError(app_, e);
      stats_.end = DialEnd(d);
      NoteDialFacts(d, stats_);
      ReportGuardOutcome(ctx_, r.guard, 0, "", "");
      Submit(r, stats_.end);
      co_return false;
    }
    NoteDialFacts(d, stats_);
    up_ = std::move(d.stream);
    up_target_ = r.target;
    co_return true;
  }

  Awaitable<bool> SendHead(Request& r) {
    auto [wec, wn] = co_await up_->WriteAll(net::buffer(r.head_out));
    stats_.bytes_up += wn;
    if (!wec) co_return true;
    const LocalError e{502, "relaytap_upstream_reset",
                       StrCat("upstream closed the connection: ", DescribeError(wec)), "request",
                       r.target.host};
    NoteLocalError(r.obs.get(), e);
    co_await AnswerAndEnd(e, EndReason::kUpstreamResetBeforeResponse);
    ReportGuardOutcome(ctx_, r.guard, 0, "", "");
    Submit(r, stats_.end);
    co_return false;
  }

  // The request body (if any) and the response run together: a server may answer (100 Continue,
  // or an early error) before the body is complete.
  Awaitable<ResponseResult> RelayBodyAndResponse(Request& r) {
    ExchangeSignals signals;
    ResponseRelay relay{ctx_,    *up_,          up_buf_,
                        app_,    stats_,        r.obs.get(),
                        r.guard, r.target.host, r.parser.method == "HEAD"};
    if (r.parser.is_done()) co_return co_await RelayResponse(relay);
    relay.signals = &signals;
    auto body_task = [&]() -> Awaitable<BodyResult> {
      BodyResult body = co_await RelayBody(app_, app_buf_, r.parser, *up_, stats_.bytes_up);
      // A malformed body (an overflowing chunk size, bad framing) leaves the upstream waiting
      // for the rest of a request that will never come: close it, so that the response relay
      // stops waiting and the app hears 400 at once rather than a timeout much later.
      if (body.malformed) {
        signals.request_malformed = true;
        if (!signals.response_head_seen) up_->Close();
      }
      co_return body;
    };
    auto response_task = [&]() -> Awaitable<ResponseResult> {
      ResponseResult rr = co_await RelayResponse(relay);
      // The app may still be waiting to send a body nobody reads (a final answer to
      // Expect: 100-continue): end our side so the app stops and the body relay ends.
      if (!r.parser.is_done()) co_await app_.ShutdownSend();
      co_return rr;
    };
    auto [body, rr] = co_await (body_task() && response_task());
    if (!body.complete) rr.keep_alive = false;
    co_return rr;
  }

  void RecordRequestBody(Request& r) {
    if (!r.obs) return;
    r.obs->request_body.total_bytes = r.parser.body_bytes;
    r.obs->request_body.bytes = std::move(r.parser.body_sample);
    r.obs->request_body.truncated = r.parser.sample_truncated;
  }

  // After a 101: the exchange is recorded, and both sockets leave the loop for the WebSocket
  // relay (the session can last hours; nothing of the request head is kept for it).
  std::unique_ptr<UpgradedSession> Upgrade(Request& r, const ResponseResult& rr) {
    const uint32_t exchange_sequence = r.obs ? r.obs->sequence : 0;
    Submit(r, recorder::EndFacts{.reason = EndReason::kSwitched});
    auto s = std::make_unique<UpgradedSession>();
    s->up = std::move(up_);
    s->app_initial = TakeBuffered(app_buf_);
    s->up_initial = TakeBuffered(up_buf_);
    s->negotiated = NegotiatedWebSocket{rr.extensions, rr.subprotocol};
    s->info = WsSessionInfo{params_.connection_id, r.target.host, r.parser.target, {}};
    s->info.exchange_sequence = exchange_sequence;
    if (r.guard.active) s->guard = std::make_unique<GuardCheck>(r.guard);
    return s;
  }

  // Records the exchange (if recording) with its end: the connection's end when this exchange
  // ended the connection, else complete or switched.
  void Submit(Request& r, const recorder::EndFacts& end) {
    if (!r.obs) return;
    r.obs->switched = end.reason == EndReason::kSwitched;
    if (r.obs->end_us == 0) r.obs->end_us = NowUnixMicros();
    r.obs->end = end;
    ctx_.sink->TrySubmit(recorder::Observation(std::move(*r.obs)));
    r.obs.reset();
  }

  Awaitable<void> AnswerAndEnd(const LocalError& e, EndReason reason) {
    stats_.bytes_down += co_await WriteLocalError(app_, e);
    stats_.EndWith(reason);
  }

  const ProxyContext& ctx_;
  ByteStream& app_;
  beast::flat_buffer& app_buf_;
  const ExchangeLoopParams params_;
  ConnectionFacts& stats_;
  ssl::context* const up_tls_;  // null: plain upstream (absolute-form http:// proxying)
  std::unique_ptr<ByteStream> up_;
  HostPort up_target_;
  beast::flat_buffer up_buf_;
};

}  // namespace

Awaitable<std::unique_ptr<UpgradedSession>> RunExchangeLoop(const ProxyContext& ctx,
                                                            ByteStream& app,
                                                            beast::flat_buffer& app_buffer,
                                                            ExchangeLoopParams params,
                                                            ConnectionFacts& stats) {
  ExchangeLoop loop(ctx, app, app_buffer, std::move(params), stats);
  co_return co_await loop.Run();
}

}  // namespace relaytap::proxy::http_relay
