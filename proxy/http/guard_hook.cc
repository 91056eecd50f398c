#include "proxy/http/guard_hook.h"

#include <charconv>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/guard/reject_response.h"
#include "proxy/guard/session_cap.h"

namespace relaytap::proxy::http_relay {
namespace {

constexpr uint64_t kMaxPeekBytes = 64 * 1024;

void SubmitDecision(const ProxyContext& ctx, const GuardCheck& c) {
  if (ctx.sink == nullptr) return;
  const guard::Decision& d = c.decision;
  recorder::GuardDecision row;
  row.at_us = d.at_us;
  row.key = d.key;
  row.mode = std::string(guard::GuardModeName(ctx.guard->mode()));
  row.decision = d.verdict == guard::Verdict::kForward ? "forward" : "reject";
  row.reason = std::string(guard::ReasonName(d.reason));
  row.counts = guard::CountsJson(d);
  row.connection_id = c.connection_id;
  row.exchange_sequence = c.exchange_sequence;
  row.retry_after_ms = d.retry_after_ms;
  ctx.sink->TrySubmit(recorder::Observation(std::move(row)));
}

void SubmitEvents(const ProxyContext& ctx, const GuardCheck& c,
                  const std::vector<guard::GuardEvent>& events) {
  if (ctx.sink == nullptr) return;
  for (const guard::GuardEvent& e : events) {
    recorder::GuardDecision row;
    row.at_us = e.at_us;
    row.key = e.key;
    row.mode = std::string(guard::GuardModeName(ctx.guard->mode()));
    row.decision = e.kind;
    row.connection_id = c.connection_id;
    row.exchange_sequence = c.exchange_sequence;
    row.retry_after_ms = e.retry_after_ms;
    ctx.sink->TrySubmit(recorder::Observation(std::move(row)));
  }
}

std::optional<uint64_t> ContentLength(const RawParser<true>& req) {
  const std::string* v = req.Find("content-length");
  if (v == nullptr || req.Find("transfer-encoding")) return std::nullopt;
  uint64_t n = 0;
  auto [end, err] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (err != std::errc() || end != v->data() + v->size()) return std::nullopt;
  return n;
}

// Reads until the whole body of `req` is in `app_buf`, if it is small and the app is not waiting
// for 100-continue. Returns the body, or nullopt (then the fingerprint uses its length only).
Awaitable<std::optional<std::string>> PeekBody(ByteStream& app, beast::flat_buffer& app_buf,
                                               const RawParser<true>& req) {
  if (req.is_done()) co_return std::string();
  // The parser learns the length only when it starts on the body: read the field.
  std::optional<uint64_t> length = ContentLength(req);
  if (!length || *length > kMaxPeekBytes || req.Find("expect")) co_return std::nullopt;
  size_t want = static_cast<size_t>(*length);
  while (app_buf.size() < want) {
    auto [ec, n] = co_await app.ReadSome(app_buf.prepare(want - app_buf.size()));
    app_buf.commit(n);
    if (ec) co_return std::nullopt;  // the relay sees the end of the stream itself
  }
  co_return std::string(static_cast<const char*>(app_buf.data().data()), want);
}

}  // namespace

Awaitable<GuardCheck> CheckGuard(const ProxyContext& ctx, ByteStream& app,
                                 beast::flat_buffer& app_buf, const RawParser<true>& req,
                                 const HostPort& target, uint64_t connection_id,
                                 uint32_t exchange_sequence) {
  GuardCheck c;
  if (ctx.guard == nullptr) co_return c;
  c.active = true;
  c.connection_id = connection_id;
  c.exchange_sequence = exchange_sequence;
  guard::RequestFacts f;
  f.host = target.host;
  f.deployment = guard::DeploymentFromTarget(req.target);
  error_code ec;
  auto ep = app.socket().remote_endpoint(ec);
  if (!ec) f.client = ep.address().to_string();
  f.websocket_upgrade = req.HasToken("connection", "upgrade") && req.Find("upgrade");
  if (const std::string* rc = req.Find("x-stainless-retry-count")) {
    f.stainless_retry_count = guard::ParseRetryCount(*rc).value_or(-1);
  }
  std::optional<std::string> body = co_await PeekBody(app, app_buf, req);
  std::string length_only;
  if (!body) length_only = StrCat("length:", ContentLength(req).value_or(0));
  f.fingerprint = guard::RequestFingerprint(req.method, req.target, body ? *body : length_only,
                                            ctx.guard->policy().volatile_query_params);
  c.decision = ctx.guard->Decide(f);
  c.reject = c.decision.verdict == guard::Verdict::kReject && ctx.guard->enforcing();
  SubmitEvents(ctx, c, c.decision.events);
  SubmitDecision(ctx, c);
  co_return c;
}

Awaitable<uint64_t> AnswerGuardRejection(ByteStream& app, const GuardCheck& check,
                                         recorder::Exchange* obs) {
  const guard::Decision& d = check.decision;
  std::string bytes = guard::BuildRejectResponse(d);
  if (obs) {
    obs->local_error_code = guard::RejectCode(d.reason);
    obs->error_stage = "guard";
    obs->error_reason = StrCat("retry guard: ", guard::ReasonName(d.reason), ", retry after ",
                               d.retry_after_ms, " ms");
    obs->end.reason = recorder::EndReason::kGuardRejected;
    obs->end_us = NowUnixMicros();
  }
  auto [ec, n] = co_await app.WriteAll(net::buffer(bytes));
  co_await app.ShutdownSend();
  co_return n;
}

void ReportGuardSessionEnd(const ProxyContext& ctx, const GuardCheck& check, bool failed) {
  if (!check.active || check.reject) return;
  ctx.guard->RecordSessionEnd(check.decision, failed);
}

void ReportGuardOutcome(const ProxyContext& ctx, const GuardCheck& check, int status,
                        std::string_view retry_after, std::string_view retry_after_ms,
                        std::string_view x_ms_retry_after_ms) {
  if (!check.active || check.reject) return;
  guard::AttemptOutcome o;
  o.status = status;
  o.retry_after_ms = guard::RetryAfterMs({.retry_after_ms = retry_after_ms,
                                          .x_ms_retry_after_ms = x_ms_retry_after_ms,
                                          .retry_after = retry_after},
                                         NowUnixMicros());
  SubmitEvents(ctx, check, ctx.guard->RecordOutcome(check.decision, o));
}

}  // namespace relaytap::proxy::http_relay
