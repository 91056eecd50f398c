#include "proxy/http/response_relay.h"

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/http/header_rules.h"
#include "proxy/http/local_response.h"
#include "proxy/http/message_relay.h"
#include "proxy/http/raw_parser.h"
#include "proxy/stream/errors.h"

namespace relaytap::proxy::http_relay {
namespace {

using recorder::EndReason;

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

std::string_view FieldOr(const RawParser<false>& res, std::string_view name) {
  const std::string* v = res.Find(name);
  return v != nullptr ? std::string_view(*v) : std::string_view();
}

// No response head arrived (`ec`): answer locally if the app has seen nothing of this
// response yet, else reset the app's connection (a half-relayed answer must not look whole).
Awaitable<void> FailWithoutHead(ResponseRelay& r, error_code ec, ResponseResult& rr) {
  rr.failed = true;
  ReportGuardOutcome(r.ctx, r.guard, 0, "", "");
  if (rr.any_bytes_to_app) {
    r.app.Reset();
    r.stats.EndWith(EndReason::kUpstreamResetMidResponse);
    co_return;
  }
  // if/else, not ?: over class temporaries: g++ 12 miscompiles those in coroutines.
  LocalError e;
  e.stage = "response";
  e.host = std::string(r.host);
  if (r.signals != nullptr && r.signals->request_malformed) {
    // The body relay closed the upstream: the request, not the upstream, was at fault.
    e.status = 400;
    e.stage = "request";
    e.code = "relaytap_bad_request_body";
    e.message =
        "the request body is not valid HTTP/1.1 (bad chunked framing); the upstream "
        "connection was closed";
    r.stats.EndWith(EndReason::kBadRequest400);
  } else if (IsTimeout(ec)) {
    e.status = 504;
    e.code = "relaytap_upstream_timeout";
    e.message = StrCat("upstream ", r.host, " did not answer in time");
    r.stats.EndWith(EndReason::kUpstreamTimeout);
  } else {
    e.status = 502;
    e.code = "relaytap_upstream_reset";
    e.message = StrCat("upstream ", r.host,
                       " closed or broke the connection before answering: ", DescribeError(ec));
    r.stats.EndWith(EndReason::kUpstreamResetBeforeResponse);
  }
  NoteLocalError(r.obs, e);
  r.stats.bytes_down += co_await WriteLocalError(r.app, e);
}

// The guard hears final answers; the recording keeps the final (or 101) head.
void NoteHead(ResponseRelay& r, const RawParser<false>& res) {
  if (res.status >= 200 || res.status == 101) {
    ReportGuardOutcome(r.ctx, r.guard, res.status, FieldOr(res, "retry-after"),
                       FieldOr(res, "retry-after-ms"), FieldOr(res, "x-ms-retry-after-ms"));
  }
  if (r.obs != nullptr && (res.status < 100 || res.status >= 200 || res.status == 101)) {
    r.obs->status = res.status;
    r.obs->response_headers = res.fields;
    r.obs->response_headers_us = NowUnixMicros();
    if (const std::string* ct = res.Find("content-type")) {
      r.obs->response_body.content_type = *ct;
    }
  }
}

// Relays the final response's body; the recording gets the first byte's time, a sample and
// (for text/event-stream) the timed stream.
Awaitable<void> RelayFinalBody(ResponseRelay& r, RawParser<false>& res, ResponseResult& rr) {
  r.up.SetTimeout(r.ctx.config->http_idle_timeout);
  r.app.SetTimeout(r.ctx.config->http_idle_timeout);
  recorder::Exchange* obs = r.obs;
  bool sse = false;
  if (obs != nullptr) {
    res.sample_cap = kBodySampleBytes;
    sse = obs->response_body.content_type.find("text/event-stream") != std::string::npos;
    res.on_body = [obs, sse](std::string_view bytes) {
      int64_t now = NowUnixMicros();
      if (obs->first_body_byte_us == 0 && !bytes.empty()) obs->first_body_byte_us = now;
      if (sse) CaptureSse(obs->sse_capture, bytes, now);
    };
  }
  BodyResult body = co_await RelayBody(r.up, r.up_buf, res, r.app, r.stats.bytes_down);
  if (obs != nullptr) {
    res.on_body = nullptr;
    obs->response_body.total_bytes = res.body_bytes;
    obs->response_body.bytes = std::move(res.body_sample);
    obs->response_body.truncated = res.sample_truncated;
    if (sse) obs->sse_capture.end_us = NowUnixMicros();
  }
  if (body.write_ec) {
    rr.failed = true;
    r.up.Reset();
    r.stats.EndWith(EndReason::kAppClosedMidResponse);
  } else if (!body.complete) {
    rr.failed = true;
    r.app.Reset();
    r.stats.EndWith(IsTimeout(body.read_ec) ? EndReason::kUpstreamTimeoutMidResponse
                                            : EndReason::kUpstreamResetMidResponse);
  }
  rr.keep_alive = !rr.failed && res.keep_alive() && !res.need_eof();
}

}  // namespace

Awaitable<ResponseResult> RelayResponse(ResponseRelay r) {
  ResponseResult rr;
  for (;;) {  // one round per head: 1xx interim heads, then the final one
    RawParser<false> res;
    PrepareParser(res);
    if (r.head_request) res.skip(true);
    r.up.SetTimeout(r.ctx.config->http_idle_timeout);
    size_t hsize = 0;
    if (error_code ec = co_await ReadHeader(r.up, r.up_buf, res, hsize)) {
      co_await FailWithoutHead(r, ec, rr);
      co_return rr;
    }
    if (r.signals != nullptr) r.signals->response_head_seen = true;
    std::string out = RewriteHeaderBlock(HeadView(r.up_buf, hsize));
    r.up_buf.consume(hsize);
    NoteHead(r, res);
    auto [wec, wn] = co_await r.app.WriteAll(net::buffer(out));
    r.stats.bytes_down += wn;
    rr.any_bytes_to_app = true;
    if (wec) {
      rr.failed = true;
      r.stats.EndWith(EndReason::kAppClosedMidResponse);
      co_return rr;
    }
    if (res.status == 101) {
      rr.switched = true;
      rr.extensions = std::string(FieldOr(res, "sec-websocket-extensions"));
      rr.subprotocol = std::string(FieldOr(res, "sec-websocket-protocol"));
      co_return rr;
    }
    if (res.status >= 100 && res.status < 200) continue;  // 100 Continue, 103 Early Hints
    co_await RelayFinalBody(r, res, rr);
    co_return rr;
  }
}

}  // namespace relaytap::proxy::http_relay
