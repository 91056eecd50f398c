// The HTTP half of the replay server: a recorded status, headers and body shape, or a recorded
// SSE stream with its recorded spacing.
#include <boost/beast/websocket/ssl.hpp>

#include "base/log.h"
#include "tools/replay/filler.h"
#include "tools/replay/plan.h"
#include "tools/replay/serve.h"

namespace relaytap::tools::replay {
namespace {

bool EndedByReset(const ReplayExchange& x) {
  return x.end_reason.find("reset") != std::string::npos;
}

template <class Header>
void SetRecordedHeaders(Header& res, const ReplayExchange& x) {
  for (const auto& [name, value] : ReplayableHeaders(x.response_headers)) res.insert(name, value);
}

net::awaitable<bool> SendSse(ErasedStream& stream, const ReplayExchange& x, bool keep_alive,
                             const ServeContext& ctx) {
  http::response<http::empty_body> res{static_cast<http::status>(x.status), 11};
  SetRecordedHeaders(res, x);
  res.chunked(true);
  res.keep_alive(keep_alive);
  http::response_serializer<http::empty_body> sr{res};
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  auto [hec, hn] = co_await http::async_write_header(stream, sr);
  if (hec) co_return false;
  std::vector<SseStep> steps = BuildSseSteps(x);
  int64_t previous_us = x.response_headers_us ? x.response_headers_us : x.request_start_us;
  for (const SseStep& step : steps) {
    if (!co_await ReplayDelay(step.at_us - previous_us, ctx.speed)) co_return false;
    previous_us = step.at_us;
    beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
    auto [ec, n] = co_await net::async_write(stream, http::make_chunk(net::buffer(step.text)));
    if (ec) co_return false;
  }
  if (EndedByReset(x)) {
    ResetSocket(beast::get_lowest_layer(stream).socket());
    co_return false;
  }
  auto [ec, n] = co_await net::async_write(stream, http::make_chunk_last());
  co_return !ec && keep_alive;
}

}  // namespace

void ResetSocket(TcpStream::socket_type& socket) {
  error_code ec;
  socket.set_option(net::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

net::awaitable<bool> ReplayDelay(int64_t recorded_us, double speed) {
  if (speed <= 0 || recorded_us <= 0) co_return true;
  Timer timer(co_await net::this_coro::executor);
  timer.expires_after(
      std::chrono::microseconds(static_cast<int64_t>(static_cast<double>(recorded_us) / speed)));
  auto [ec] = co_await timer.async_wait();
  co_return !ec;
}

net::awaitable<bool> ServeExchange(ErasedStream& stream, const ReplayExchange& x, bool keep_alive,
                                   const ServeContext& ctx) {
  // No recorded response (reset, timeout, relaytap's own dial error): the connection just ends.
  if (x.status < 100 || x.status > 599 || x.status == 101) {
    ResetSocket(beast::get_lowest_layer(stream).socket());
    ctx.catalog->NoteExchangeServed();
    co_return false;
  }
  int64_t wait_us = x.response_headers_us ? x.response_headers_us - x.request_start_us : 0;
  if (!co_await ReplayDelay(wait_us, ctx.speed)) co_return false;
  if (x.transport == "sse" && !x.sse_events.empty()) {
    bool more = co_await SendSse(stream, x, keep_alive, ctx);
    ctx.catalog->NoteExchangeServed();
    co_return more;
  }
  http::response<http::string_body> res{static_cast<http::status>(x.status), 11};
  SetRecordedHeaders(res, x);
  res.body() = x.response_body.empty() ? std::string() : ExpandStoredText(x.response_body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  auto [ec, n] = co_await http::async_write(stream, res);
  ctx.catalog->NoteExchangeServed();
  if (EndedByReset(x)) {
    ResetSocket(beast::get_lowest_layer(stream).socket());
    co_return false;
  }
  co_return !ec && keep_alive;
}

}  // namespace relaytap::tools::replay
