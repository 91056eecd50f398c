#include "tools/fake_upstream/ws_session.h"

#include <algorithm>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/ascii.h"
#include "tools/fake_upstream/conversation.h"
#include "tools/fake_upstream/dialect.h"
#include "tools/fake_upstream/http_session.h"
#include "tools/fake_upstream/payloads.h"
#include "tools/fake_upstream/response_plan.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {
namespace {

namespace websocket = beast::websocket;
using namespace net::experimental::awaitable_operators;

constexpr size_t kReadMessageMax = 64 << 20;

bool OffersSubprotocol(const http::request<http::empty_body>& req, std::string_view wanted) {
  for (auto it = req.find(http::field::sec_websocket_protocol);
       it != req.end() && beast::iequals(it->name_string(), "sec-websocket-protocol"); ++it) {
    for (std::string_view item : SplitHttpList(it->value())) {
      if (item == wanted) return true;
    }
  }
  return false;
}

// The byte-echo endpoint: `/ws...` paths, or `echo=1` on any path. There every client message
// the fake does not act on (response.create, close.request, invalid.event) comes back
// byte-identical, for the relay tests; elsewhere the session answers like the service.
bool IsEchoTarget(const Target& t) {
  auto it = t.query.find("echo");
  return t.path.starts_with("/ws") || (it != t.query.end() && it->second == "1");
}

Dialect DialectOfUpgrade(const Target& t, const http::request<http::empty_body>& req) {
  return DialectOf(t.path, req["OpenAI-Beta"], OffersSubprotocol(req, "openai-beta.realtime-v1"));
}

std::string ModelOf(const Target& t) {
  std::string d = DeploymentOf(t);
  return d.empty() ? "gpt-realtime" : d;
}

std::string_view View(const beast::flat_buffer& buffer) {
  return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

// The per-session stream shape: the server's default, overridden by ?stream=, audio_ms=, delta_ms=.
StreamShape ShapeFor(const Target& t, StreamShape shape) {
  if (auto it = t.query.find("stream"); it != t.query.end()) {
    if (it->second == "realtime") shape.pacing = Pacing::kRealtime;
    if (it->second == "burst") shape.pacing = Pacing::kBurst;
  }
  shape.audio = std::chrono::milliseconds(
      std::min<uint64_t>(QueryUint(t, "audio_ms", shape.audio.count()), 600000));
  shape.delta = std::chrono::milliseconds(
      std::clamp<uint64_t>(QueryUint(t, "delta_ms", shape.delta.count()), 1, 10000));
  return shape;
}

class Session {
 public:
  Session(ErasedStream& stream, State& state, Target target, Dialect dialect)
      : ws_(stream),
        state_(state),
        target_(std::move(target)),
        deployment_(DeploymentOf(target_)),
        shape_(ShapeFor(target_, state.options().stream)),
        echo_(IsEchoTarget(target_)),
        conversation_(dialect, session_id_, ModelOf(target_)) {}

  net::awaitable<void> Run(http::request<http::empty_body> upgrade);

 private:
  net::awaitable<void> ReadLoop();
  net::awaitable<void> IdleWatch(std::chrono::milliseconds idle, unsigned code);
  net::awaitable<bool> Send(std::string_view payload, bool text);
  // Sends a server event, renamed for a preview session.
  net::awaitable<bool> SendEvent(const std::string& event);
  net::awaitable<bool> SendResponse(bool text_only);
  // Returns false when the session is over.
  net::awaitable<bool> Handle(const beast::flat_buffer& message, bool text);
  net::awaitable<bool> HandleEcho(const beast::flat_buffer& message, bool text);
  net::awaitable<bool> Close();

  websocket::stream<ErasedStream&> ws_;
  State& state_;
  Target target_;
  std::string deployment_;
  StreamShape shape_;
  size_t index_ = 0;
  std::string session_id_ = RandomId("sess_");
  const bool echo_;
  Conversation conversation_;
  bool busy_ = false;  // a client message is being answered (no close may interleave)
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

net::awaitable<void> Session::Run(http::request<http::empty_body> upgrade) {
  const Options& options = state_.options();
  websocket::permessage_deflate pmd;
  pmd.server_enable = options.permessage_deflate;
  pmd.server_no_context_takeover = options.deflate_no_context_takeover;
  ws_.set_option(pmd);
  ws_.read_message_max(kReadMessageMax);
  ws_.set_option(websocket::stream_base::timeout{std::chrono::seconds(10),
                                                 websocket::stream_base::none(), false});
  bool realtime = OffersSubprotocol(upgrade, "realtime");
  bool deflate = false;
  ws_.set_option(
      websocket::stream_base::decorator([realtime, &deflate](websocket::response_type& res) {
        AddAzureHeaders(res);
        if (realtime) res.set(http::field::sec_websocket_protocol, "realtime");
        deflate = res[http::field::sec_websocket_extensions].find("permessage-deflate") !=
                  std::string_view::npos;
      }));
  beast::get_lowest_layer(ws_).expires_never();
  auto [ec] = co_await ws_.async_accept(upgrade);
  if (ec) co_return;
  index_ = state_.BeginWsSession(std::string(upgrade.target()), deflate);
  bool idle_close = false;
  if (options.faults) {
    idle_close = options.faults->Decide(Stage::kWsSession, deployment_) == Fault::kIdleClose;
  }
  std::string created = echo_ ? SessionCreatedEvent(session_id_) : conversation_.SessionCreated();
  if (co_await Send(created, true)) {
    last_activity_ = std::chrono::steady_clock::now();
    if (idle_close) {
      const FaultParams& p = options.faults->params();
      co_await (ReadLoop() || IdleWatch(p.idle_close, p.idle_close_code));
    } else {
      co_await ReadLoop();
    }
  }
  state_.EndWsSession(index_);
}

net::awaitable<void> Session::ReadLoop() {
  uint64_t reset_after = QueryUint(target_, "reset_after", 0);
  uint64_t received = 0;
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [rec, n] = co_await ws_.async_read(buffer);
    if (rec) co_return;  // client close, eof, reset or Stop(): all end the session
    busy_ = true;
    state_.AddWsReceived(index_, Sha256Hex(View(buffer)));
    if (reset_after != 0 && ++received >= reset_after) {
      ResetConnection(beast::get_lowest_layer(ws_).socket());
      co_return;
    }
    if (!co_await Handle(buffer, ws_.got_text())) co_return;
    busy_ = false;
    last_activity_ = std::chrono::steady_clock::now();
  }
}

// The idle_close fault: once the client has been silent for `idle` (and no answer is being
// sent), close the session with `code`.
net::awaitable<void> Session::IdleWatch(std::chrono::milliseconds idle, unsigned code) {
  Timer timer(co_await net::this_coro::executor);
  for (;;) {
    timer.expires_at(last_activity_ + idle);
    if (busy_) timer.expires_after(idle);
    auto [ec] = co_await timer.async_wait();
    if (ec) co_return;  // cancelled: the read loop ended first
    if (busy_ || std::chrono::steady_clock::now() - last_activity_ < idle) continue;
    auto reason = websocket::close_reason(static_cast<websocket::close_code>(code), "idle timeout");
    auto [cec] = co_await ws_.async_close(reason);
    (void)cec;  // the read loop sees the end either way
    co_return;
  }
}

net::awaitable<bool> Session::Handle(const beast::flat_buffer& message, bool text) {
  if (echo_) co_return co_await HandleEcho(message, text);
  ClientAnswer answer = conversation_.Answer(View(message), text);
  for (const std::string& event : answer.events) {
    if (!co_await SendEvent(event)) co_return false;
  }
  if (answer.close) co_return co_await Close();
  if (answer.respond) co_return co_await SendResponse(answer.text_only);
  co_return true;
}

net::awaitable<bool> Session::HandleEcho(const beast::flat_buffer& message, bool text) {
  if (text) {
    auto json = nlohmann::json::parse(View(message), nullptr, /*allow_exceptions=*/false);
    std::string type;
    if (json.is_object() && json.contains("type") && json["type"].is_string()) {
      type = json["type"].template get<std::string>();
    }
    if (type == "response.create") co_return co_await SendResponse(false);
    if (type == "invalid.event") {
      std::string event_id;
      if (json.contains("event_id") && json["event_id"].is_string()) {
        event_id = json["event_id"].template get<std::string>();
      }
      co_return co_await Send(InvalidEventError(type, event_id), true);
    }
    if (type == "close.request") co_return co_await Close();
  }
  co_return co_await Send(View(message), text);
}

net::awaitable<bool> Session::Close() {
  co_await ws_.async_close(websocket::close_reason(websocket::close_code::normal, "bye"));
  co_return false;
}

net::awaitable<bool> Session::SendEvent(const std::string& event) {
  if (conversation_.dialect() == Dialect::kPreview && !echo_) {
    co_return co_await Send(ToPreview(event), true);
  }
  co_return co_await Send(event, true);
}

net::awaitable<bool> Session::Send(std::string_view payload, bool text) {
  ws_.text(text);
  auto [ec, n] = co_await ws_.async_write(net::buffer(payload.data(), payload.size()));
  if (ec) co_return false;
  state_.AddWsSent(index_, Sha256Hex(payload));
  co_return true;
}

net::awaitable<bool> Session::SendResponse(bool text_only) {
  ResponseRequest request;
  request.ids = {session_id_, RandomId("resp_"), RandomId("item_"), RandomId("conv_")};
  request.shape = shape_;
  request.text_only = text_only;
  conversation_.set_last_item_id(request.ids.item_id);
  // `say=TEXT` in the URL makes the assistant say TEXT (tests plant canaries in server content).
  if (target_.query.contains("say")) request.say = target_.query.at("say");
  const auto& faults = state_.options().faults;
  if (faults) {
    request.fault = faults->Decide(Stage::kResponse, deployment_);
    request.params = faults->params();
  }
  if (target_.query.contains("fail") && target_.query.at("fail") == "response") {
    request.fault = Fault::kResponseFailed;
  }
  std::vector<PlanStep> steps = PlanResponse(request);
  Timer timer(co_await net::this_coro::executor);
  for (const PlanStep& step : steps) {
    if (step.delay.count() > 0) {
      timer.expires_after(step.delay);
      auto [tec] = co_await timer.async_wait();
      if (tec) co_return false;
    }
    if (step.kind == PlanStep::Kind::kReset) {
      ResetConnection(beast::get_lowest_layer(ws_).socket());
      co_return false;
    }
    if (!co_await SendEvent(step.payload)) co_return false;
  }
  co_return true;
}

}  // namespace

bool IsWebSocketPath(const std::string& path) {
  return path.starts_with("/openai/") || path.starts_with("/v1/realtime") ||
         path.starts_with("/ws");
}

net::awaitable<void> ServeWebSocket(ErasedStream& stream, http::request<http::empty_body> upgrade,
                                    Target target, State& state) {
  Dialect dialect = DialectOfUpgrade(target, upgrade);
  Session session(stream, state, std::move(target), dialect);
  co_await session.Run(std::move(upgrade));
}

}  // namespace relaytap::tools::fake_upstream
