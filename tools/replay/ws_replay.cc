// The WebSocket half of the replay server: a recorded session played to a live client.
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "tools/replay/plan.h"
#include "tools/replay/serve.h"

namespace relaytap::tools::replay {
namespace {

namespace websocket = beast::websocket;

constexpr size_t kReadMessageMax = 64 << 20;
constexpr auto kIdleTimeout = std::chrono::seconds(300);

// The type of a client message, for matching against the recording ("" for binary or non-JSON).
std::string TypeOf(const beast::flat_buffer& buffer, bool text) {
  if (!text) return "";
  std::string_view view(static_cast<const char*>(buffer.data().data()), buffer.size());
  auto doc = nlohmann::json::parse(view, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_string()) return "";
  return doc["type"].get<std::string>();
}

// Only identifier-like type names are logged (never message content).
std::string Printable(const std::string& type) {
  if (type.empty()) return "(none)";
  if (type.size() > 64) return "(long)";
  for (char c : type) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return "(unprintable)";
  }
  return type;
}

class SessionPlayer {
 public:
  SessionPlayer(ErasedStream& stream, const RecordedSession& session, const ServeContext& ctx)
      : ws_(stream), session_(session), script_(BuildSessionScript(session)), ctx_(ctx) {}

  net::awaitable<void> Run(http::request<http::empty_body> upgrade);

 private:
  // Reads client messages until `n` have arrived. False when the session is over.
  net::awaitable<bool> ReceiveUntil(size_t n);
  net::awaitable<bool> ReceiveOne();
  net::awaitable<void> End();
  void Deviation(const std::string& what);

  websocket::stream<ErasedStream&> ws_;
  const RecordedSession& session_;
  SessionScript script_;
  const ServeContext& ctx_;
  size_t received_ = 0;
  bool stopped_ = false;
};

void SessionPlayer::Deviation(const std::string& what) {
  ctx_.catalog->NoteDeviation();
  RELAYTAP_LOG(kWarn, "replay: session ", session_.id,
               ": client deviates from the recording: ", what,
               ctx_.strict ? " (--strict: stopping)" : " (continuing)");
}

net::awaitable<bool> SessionPlayer::ReceiveOne() {
  beast::flat_buffer buffer;
  auto [ec, n] = co_await ws_.async_read(buffer);
  if (ec) co_return false;
  std::string type = TypeOf(buffer, ws_.got_text());
  size_t index = received_++;
  if (index >= script_.client_types.size()) {
    Deviation(StrCat("unexpected message #", index + 1, " of type ", Printable(type),
                     " (the recording has ", script_.client_types.size(), ")"));
  } else if (type != script_.client_types[index]) {
    Deviation(StrCat("message #", index + 1, " has type ", Printable(type), ", the recording has ",
                     Printable(script_.client_types[index])));
  } else {
    co_return true;
  }
  if (ctx_.strict) {
    stopped_ = true;
    websocket::close_reason reason(websocket::close_code::policy_error);
    auto [cec] = co_await ws_.async_close(reason);
    (void)cec;
    co_return false;
  }
  co_return true;
}

net::awaitable<bool> SessionPlayer::ReceiveUntil(size_t n) {
  bool ok = true;
  while (ok && received_ < n) ok = co_await ReceiveOne();
  if (!ok && !stopped_) {
    ctx_.catalog->NoteDeviation();
    RELAYTAP_LOG(kWarn, "replay: session ", session_.id, ": the client ended the session after ",
                 received_, " of ", script_.client_types.size(), " recorded messages");
  }
  co_return ok;
}

net::awaitable<void> SessionPlayer::Run(http::request<http::empty_body> upgrade) {
  websocket::permessage_deflate pmd;
  pmd.server_enable = true;
  ws_.set_option(pmd);
  ws_.read_message_max(kReadMessageMax);
  ws_.set_option(websocket::stream_base::timeout{std::chrono::seconds(30), kIdleTimeout, false});
  HeaderList headers;
  if (session_.upgrade) headers = ReplayableHeaders(session_.upgrade->response_headers);
  // The recorded subprotocol is replayed when it was kept in clear ("realtime", beta names).
  std::string subprotocol =
      session_.subprotocol.find("hmac:") == std::string::npos ? session_.subprotocol : "";
  ws_.set_option(
      websocket::stream_base::decorator([headers, subprotocol](websocket::response_type& res) {
        for (const auto& [name, value] : headers) res.set(name, value);
        if (!subprotocol.empty()) res.set(http::field::sec_websocket_protocol, subprotocol);
      }));
  beast::get_lowest_layer(ws_).expires_never();
  auto [ec] = co_await ws_.async_accept(upgrade);
  if (ec) co_return;
  for (size_t i = 0; i < script_.steps.size(); ++i) {
    bool ok = co_await ReceiveUntil(script_.steps[i].after_client_messages);
    if (ok) ok = co_await ReplayDelay(script_.steps[i].delay_us, ctx_.speed);
    if (!ok) co_return;
    ws_.text(script_.steps[i].text);
    auto [wec, wn] = co_await ws_.async_write(net::buffer(script_.steps[i].payload));
    if (wec) co_return;
  }
  co_await End();
}

net::awaitable<void> SessionPlayer::End() {
  const SessionEnding& end = script_.ending;
  bool ok = co_await ReceiveUntil(end.after_client_messages);
  if (ok) ok = co_await ReplayDelay(end.delay_us, ctx_.speed);
  if (!ok) co_return;
  switch (end.kind) {
    case EndKind::kServerClose: {
      websocket::close_reason reason(end.code);
      const size_t n = std::min(end.reason.size(), reason.reason.max_size());
      reason.reason.assign(end.reason.data(), n);
      auto [ec] = co_await ws_.async_close(reason);
      (void)ec;
      break;
    }
    case EndKind::kReset:
      ResetSocket(beast::get_lowest_layer(ws_).socket());
      break;
    case EndKind::kEof: {
      error_code ignored;
      beast::get_lowest_layer(ws_).socket().shutdown(net::socket_base::shutdown_both, ignored);
      break;
    }
    case EndKind::kClientClose:
      // Beast answers the client's close frame inside async_read; anything read before it is
      // more than the recording had.
      while (ok) ok = co_await ReceiveOne();
      break;
  }
  if (!stopped_) ctx_.catalog->NoteSessionServed();
}

}  // namespace

net::awaitable<void> ServeSession(ErasedStream& stream, http::request<http::empty_body> upgrade,
                                  const RecordedSession& session, const ServeContext& ctx) {
  SessionPlayer player(stream, session, ctx);
  co_await player.Run(std::move(upgrade));
}

}  // namespace relaytap::tools::replay
