#include "tools/fake_upstream/http_session.h"

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tools/fake_upstream/call_answers.h"
#include "tools/fake_upstream/http_answers.h"
#include "tools/fake_upstream/payloads.h"
#include "tools/fake_upstream/realtime_events.h"
#include "tools/fake_upstream/util.h"
#include "tools/fake_upstream/ws_session.h"

namespace relaytap::tools::fake_upstream {
namespace {

constexpr size_t kHeaderLimit = 64 * 1024;
constexpr size_t kBodyChunk = 64 * 1024;
constexpr size_t kMaxKeptBody = 1 << 20;
constexpr size_t kMaxChunk = 1 << 20;
constexpr auto kReadTimeout = std::chrono::seconds(60);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

struct Body {
  uint64_t bytes = 0;
  std::string sha256;
  std::string kept;  // the first kMaxKeptBody bytes, only when asked for
};

RequestRecord MakeRecord(const http::request_header<>& req, uint64_t bytes, std::string sha256) {
  RequestRecord r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
  r.body_bytes = bytes;
  r.body_sha256 = std::move(sha256);
  return r;
}

// Reads the rest of the message in constant memory, hashing as it goes.
net::awaitable<error_code> ReadBody(ErasedStream& stream, beast::flat_buffer& buffer,
                                    http::request_parser<http::buffer_body>& parser, bool keep,
                                    Body& body) {
  std::vector<char> chunk(kBodyChunk);
  Sha256 hasher;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::get_lowest_layer(stream).expires_after(kReadTimeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return ec;
    size_t got = chunk.size() - parser.get().body().size;
    hasher.Update(chunk.data(), got);
    body.bytes += got;
    if (keep && body.kept.size() + got <= kMaxKeptBody) body.kept.append(chunk.data(), got);
  }
  body.sha256 = hasher.FinalHex();
  co_return error_code{};
}

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Waits `wait` (cancelled only by Stop(), which ends the connection anyway).
net::awaitable<void> Delay(std::chrono::milliseconds wait) {
  if (wait.count() <= 0) co_return;
  Timer timer(co_await net::this_coro::executor);
  timer.expires_after(wait);
  auto [ec] = co_await timer.async_wait();
  (void)ec;
}

// With a fault model: waits the configured latency, then draws this request's fault.
net::awaitable<std::optional<StringResponse>> Admit(State& state, Stage stage,
                                                    std::string deployment) {
  const std::shared_ptr<FaultModel>& faults = state.options().faults;
  if (!faults) co_return std::nullopt;
  co_await Delay(faults->params().latency);
  co_return FaultResponse(faults->Decide(stage, deployment), faults->params());
}

net::awaitable<bool> Send(ErasedStream& stream, StringResponse res, bool keep_alive) {
  AddAzureHeaders(res);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  auto [ec, n] = co_await http::async_write(stream, res);
  co_return !ec && keep_alive;
}

// Writes a 200 header; chunked when `content_length` is empty.
net::awaitable<bool> SendHeader(ErasedStream& stream, std::string_view content_type,
                                std::optional<uint64_t> content_length, bool keep_alive) {
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, content_type);
  if (content_type == "text/event-stream") res.set(http::field::cache_control, "no-cache");
  AddAzureHeaders(res);
  res.keep_alive(keep_alive);
  if (content_length) {
    res.content_length(*content_length);
  } else {
    res.chunked(true);
  }
  http::response_serializer<http::empty_body> serializer{res};
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  auto [ec, n] = co_await http::async_write_header(stream, serializer);
  co_return !ec;
}

// N deterministic bytes, raw with Content-Length (chunk == 0) or in chunks of `chunk` bytes.
net::awaitable<bool> SendBytes(ErasedStream& stream, uint64_t n, size_t chunk, bool keep_alive) {
  std::optional<uint64_t> length;
  if (chunk == 0) length = n;
  if (!co_await SendHeader(stream, "application/octet-stream", length, keep_alive)) co_return false;
  std::vector<unsigned char> piece(chunk == 0 ? kBodyChunk : chunk);
  for (uint64_t offset = 0; offset < n;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(piece.size(), n - offset));
    FillDeterministic(offset, piece.data(), len);
    offset += len;
    beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
    error_code ec;
    if (chunk == 0) {
      std::tie(ec, std::ignore) = co_await net::async_write(stream, net::buffer(piece.data(), len));
    } else {
      std::tie(ec, std::ignore) =
          co_await net::async_write(stream, http::make_chunk(net::buffer(piece.data(), len)));
    }
    if (ec) co_return false;
  }
  if (chunk != 0) {
    auto [ec, w] = co_await net::async_write(stream, http::make_chunk_last());
    if (ec) co_return false;
  }
  co_return keep_alive;
}

// How an SSE answer is paced, and whether it breaks (the stream-stage faults).
struct SsePacing {
  std::chrono::milliseconds interval{0};  // between consecutive events
  std::chrono::milliseconds stall{0};     // extra silence after the first event
  std::optional<size_t> reset_after;      // events sent before a TCP RST
};

SsePacing PacingFor(Fault fault, const FaultParams& p, std::chrono::milliseconds interval) {
  SsePacing pacing;
  pacing.interval = interval;
  if (fault == Fault::kSseStall) pacing.stall = p.stall;
  if (fault == Fault::kSseDrip) pacing.interval = p.drip;
  if (fault == Fault::kSseReset) pacing.reset_after = p.sse_reset_after;
  return pacing;
}

// One chunk per event, paced by `pacing`. A reset ends the connection: returns false.
net::awaitable<bool> SendSse(ErasedStream& stream, std::vector<std::string> events,
                             SsePacing pacing, bool keep_alive) {
  if (!co_await SendHeader(stream, "text/event-stream", std::nullopt, keep_alive)) co_return false;
  Timer timer(co_await net::this_coro::executor);
  for (size_t i = 0; i < events.size(); ++i) {
    if (pacing.reset_after && i == *pacing.reset_after) {
      ResetConnection(beast::get_lowest_layer(stream).socket());
      co_return false;
    }
    std::chrono::milliseconds wait{0};
    if (i > 0) wait = pacing.interval;
    if (i == 1) wait += pacing.stall;
    if (wait.count() > 0) {
      timer.expires_after(wait);
      auto [tec] = co_await timer.async_wait();
      if (tec) co_return false;
    }
    beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
    auto [ec, n] = co_await net::async_write(stream, http::make_chunk(net::buffer(events[i])));
    if (ec) co_return false;
  }
  auto [ec, n] = co_await net::async_write(stream, http::make_chunk_last());
  co_return !ec && keep_alive;
}

net::awaitable<bool> SendStatus(ErasedStream& stream, std::string_view code_text, bool keep_alive) {
  unsigned code = 0;
  auto [end, err] = std::from_chars(code_text.data(), code_text.data() + code_text.size(), code);
  if (err != std::errc() || end != code_text.data() + code_text.size() || code < 200 ||
      code > 599) {
    co_return co_await Send(stream, JsonResponse(400, AzureErrorJson(400)), keep_alive);
  }
  StringResponse res = JsonResponse(code, "");
  if (code == 204 || code == 304) {
    res.erase(http::field::content_type);
  } else {
    res.body() = AzureErrorJson(code);
  }
  if (code == 429) {
    res.set(http::field::retry_after, "2");
    res.set("retry-after-ms", "1500");
  }
  co_return co_await Send(stream, std::move(res), keep_alive);
}

net::awaitable<bool> SendCompletion(ErasedStream& stream, State& state,
                                    const http::request_header<>& req, const Target& t,
                                    const Body& body, bool keep_alive) {
  const std::string& path = t.path;
  if (req.method() != http::verb::post) {
    co_return co_await Send(stream, JsonResponse(405, AzureErrorJson(405)), keep_alive);
  }
  {
    auto fault = co_await Admit(state, Stage::kCompletion, DeploymentFor(t, body.kept));
    if (fault) co_return co_await Send(stream, std::move(*fault), keep_alive);
  }
  // No ?: with class temporaries in coroutines: g++ 12 may destroy them twice.
  bool responses_api = path == "/openai/v1/responses";
  bool streaming = false;
  {
    auto request = nlohmann::json::parse(body.kept, nullptr, /*allow_exceptions=*/false);
    streaming = request.is_object() && request.value("stream", false) == true;
  }
  if (streaming) {
    std::vector<std::string> events;
    if (responses_api) {
      events = ResponsesSseEvents();
    } else {
      events = ChatCompletionSseEvents();
    }
    SsePacing pacing;
    pacing.interval = std::chrono::milliseconds(20);
    if (const std::shared_ptr<FaultModel>& faults = state.options().faults) {
      Fault fault = faults->Decide(Stage::kStream, DeploymentFor(t, body.kept));
      pacing = PacingFor(fault, faults->params(), pacing.interval);
    }
    co_return co_await SendSse(stream, std::move(events), pacing, keep_alive);
  }
  std::string answer;
  if (responses_api) {
    answer = ResponsesJson();
  } else {
    answer = ChatCompletionJson();
  }
  co_return co_await Send(stream, JsonResponse(200, std::move(answer)), keep_alive);
}

net::awaitable<bool> SendSession(ErasedStream& stream, State& state,
                                 const http::request_header<>& req, const Target& t,
                                 const Body& body, bool keep_alive) {
  if (req.method() != http::verb::post) {
    co_return co_await Send(stream, JsonResponse(405, AzureErrorJson(405)), keep_alive);
  }
  std::string model = DeploymentFor(t, body.kept);
  {
    auto fault = co_await Admit(state, Stage::kSession, model);
    if (fault) co_return co_await Send(stream, std::move(*fault), keep_alive);
  }
  if (model.empty()) model = "gpt-realtime";
  std::string answer;
  if (t.path.ends_with("/client_secrets")) {
    answer = ClientSecretJson(model, RequestedTokenTtl(body.kept));
  } else {
    answer = PreviewSessionJson(model);
  }
  if (auto issued = IssuedToken(answer)) state.AddToken(issued->first, issued->second);
  co_return co_await Send(stream, JsonResponse(200, std::move(answer)), keep_alive);
}

// A WebRTC call set-up: the `call` stage's fault (after the common latency), call_slow's wait,
// then the SDP answer or the fault's error (call_answers.h).
net::awaitable<bool> SendCall(ErasedStream& stream, State& state, const http::request_header<>& req,
                              const Target& t, const Body& body, bool keep_alive) {
  if (req.method() != http::verb::post) {
    co_return co_await Send(stream, JsonResponse(405, AzureErrorJson(405)), keep_alive);
  }
  Fault fault = Fault::kNone;
  FaultParams params;
  if (const std::shared_ptr<FaultModel>& faults = state.options().faults) {
    co_await Delay(faults->params().latency);
    fault = faults->Decide(Stage::kCall, DeploymentOf(t));
    params = faults->params();
  }
  if (fault == Fault::kCallSlow) co_await Delay(params.call_slow);
  const std::string content_type(req[http::field::content_type]);
  const std::string authorization(req[http::field::authorization]);
  CallRequest call{body.kept, content_type, authorization};
  const std::optional<int64_t> expiry = state.TokenExpiry(std::string(BearerOf(authorization)));
  call.token_expired = expiry && *expiry <= UnixSeconds();
  co_return co_await Send(stream, CallAnswer(call, fault, params), keep_alive);
}

// Answers one fully read request. Returns whether the connection stays open.
net::awaitable<bool> Respond(ErasedStream& stream, State& state, const http::request_header<>& req,
                             const Target& t, const RequestRecord& record, const Body& body,
                             bool keep_alive) {
  const std::string& p = t.path;
  if (p == "/echo")
    co_return co_await Send(stream, JsonResponse(200, EchoJson(record)), keep_alive);
  if (p == "/bytes") co_return co_await SendBytes(stream, QueryUint(t, "n", 0), 0, keep_alive);
  if (p == "/chunked") {
    size_t chunk =
        static_cast<size_t>(std::clamp<uint64_t>(QueryUint(t, "chunk", 4096), 1, kMaxChunk));
    co_return co_await SendBytes(stream, QueryUint(t, "n", 0), chunk, keep_alive);
  }
  if (p == "/sse") {
    std::vector<std::string> events;
    uint64_t n = std::min<uint64_t>(QueryUint(t, "events", 5), 100000);
    for (uint64_t i = 0; i < n; ++i) events.push_back(SseTestEvent(i));
    events.push_back("data: [DONE]\n\n");
    auto interval =
        std::chrono::milliseconds(std::min<uint64_t>(QueryUint(t, "interval_ms", 0), 60000));
    SsePacing pacing;
    pacing.interval = interval;
    co_return co_await SendSse(stream, std::move(events), pacing, keep_alive);
  }
  if (p.starts_with("/status/")) {
    co_return co_await SendStatus(stream, std::string_view(p).substr(8), keep_alive);
  }
  if (IsCompletionsPath(p)) {
    co_return co_await SendCompletion(stream, state, req, t, body, keep_alive);
  }
  if (IsSessionPath(p)) co_return co_await SendSession(stream, state, req, t, body, keep_alive);
  if (IsCallPath(p)) co_return co_await SendCall(stream, state, req, t, body, keep_alive);
  co_return co_await Send(stream, JsonResponse(404, AzureErrorJson(404)), keep_alive);
}

net::awaitable<void> CloseGracefully(ErasedStream& stream) {
  if (SslStream* tls = stream.tls()) {
    beast::get_lowest_layer(*tls).expires_after(std::chrono::seconds(2));
    auto [ec] = co_await tls->async_shutdown();
    (void)ec;
    co_return;
  }
  error_code ec;
  stream.next_layer().socket().shutdown(net::socket_base::shutdown_send, ec);
}

}  // namespace

void ResetConnection(TcpStream::socket_type& socket) {
  error_code ec;
  socket.set_option(net::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

net::awaitable<void> ServeHttp(ErasedStream& stream, State& state) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(kHeaderLimit);
    header_parser.body_limit(boost::none);
    beast::get_lowest_layer(stream).expires_after(kReadTimeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, header_parser);
    if (ec) co_return;  // eof, reset, timeout or garbage: the connection just ends
    Target target = ParseTarget(header_parser.get().target());
    if (beast::websocket::is_upgrade(header_parser.get()) && IsWebSocketPath(target.path)) {
      state.AddRequest(MakeRecord(header_parser.get(), 0, Sha256Hex("")));
      auto refusal = co_await Admit(state, Stage::kUpgrade, DeploymentOf(target));
      if (refusal) {
        co_await Send(stream, std::move(*refusal), /*keep_alive=*/false);
        co_await CloseGracefully(stream);
        co_return;
      }
      co_await ServeWebSocket(stream, header_parser.release(), std::move(target), state);
      co_return;
    }
    http::request_parser<http::buffer_body> parser(std::move(header_parser));
    parser.body_limit(boost::none);
    if (!parser.is_done() && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
      auto [wec, w] = co_await net::async_write(stream, net::buffer(kContinue));
      if (wec) co_return;
    }
    Body body;
    if (co_await ReadBody(stream, buffer, parser, KeepsBody(target.path), body)) co_return;
    RequestRecord record = MakeRecord(parser.get(), body.bytes, body.sha256);
    state.AddRequest(record);
    if (target.path == "/reset") {
      ResetConnection(beast::get_lowest_layer(stream).socket());
      co_return;
    }
    bool keep_alive = parser.get().keep_alive();
    if (!co_await Respond(stream, state, parser.get(), target, record, body, keep_alive)) {
      co_await CloseGracefully(stream);
      co_return;
    }
  }
}

}  // namespace relaytap::tools::fake_upstream
