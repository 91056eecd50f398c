#pragma once
// Client-side helpers shared by the fake upstream's loopback tests: plain HTTP round trips and a
// realtime WebSocket client that logs the hash of every message each way.

#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/tools/fake_upstream_test_support.h"
#include "tools/stream/erased_stream.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream::testing {

namespace websocket = beast::websocket;
using StringRequest = http::request<http::string_body>;
using StringResponse = http::response<http::string_body>;
using std::chrono::seconds;

constexpr auto kIo = seconds(10);

inline StringRequest MakeRequest(http::verb verb, std::string target, std::string body = "") {
  StringRequest req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::user_agent, "fake-upstream-test");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

inline net::awaitable<error_code> Connect(TcpStream& stream, uint16_t port) {
  stream.expires_after(kIo);
  auto [ec] = co_await stream.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
  co_return ec;
}

inline net::awaitable<std::pair<error_code, StringResponse>> RoundTrip(ErasedStream& stream,
                                                                       beast::flat_buffer& buffer,
                                                                       StringRequest req) {
  beast::get_lowest_layer(stream).expires_after(kIo);
  auto [wec, w] = co_await http::async_write(stream, req);
  if (wec) co_return std::pair{wec, StringResponse{}};
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  auto [rec, r] = co_await http::async_read(stream, buffer, parser);
  co_return std::pair{rec, parser.release()};
}

// One request on a fresh plain connection to 127.0.0.1:`port` (bounded by RunClient).
inline std::pair<error_code, StringResponse> FetchOnce(uint16_t port, StringRequest req) {
  std::pair<error_code, StringResponse> result;
  RunClient([&]() -> net::awaitable<void> {
    TcpStream tcp(co_await net::this_coro::executor);
    CO_ASSERT_TRUE(!co_await Connect(tcp, port));
    ErasedStream stream(tcp);
    beast::flat_buffer buffer;
    result = co_await RoundTrip(stream, buffer, std::move(req));
  });
  return result;
}

inline void ExpectAzureHeaders(const http::fields& fields) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(std::string(fields["apim-request-id"]), uuid));
  EXPECT_TRUE(std::regex_match(std::string(fields["x-request-id"]), uuid));
  EXPECT_EQ(fields["x-ms-region"], "Sweden Central");
  EXPECT_FALSE(fields["x-ratelimit-remaining-requests"].empty());
  EXPECT_FALSE(fields["x-ratelimit-remaining-tokens"].empty());
}
// Client side of a WebSocket session: hashes of what went each way.
struct WsLog {
  std::vector<std::string> sent;
  std::vector<std::string> received;
};

struct WsMessage {
  error_code ec;
  std::string payload;
  bool text = false;
};

template <class Ws>
net::awaitable<error_code> WsSend(Ws& ws, WsLog& log, std::string payload, bool text) {
  ws.text(text);
  auto [ec, n] = co_await ws.async_write(net::buffer(payload));
  if (!ec) log.sent.push_back(Sha256HexForTest(payload));
  co_return ec;
}

template <class Ws>
net::awaitable<WsMessage> WsRead(Ws& ws, WsLog& log) {
  beast::flat_buffer buffer;
  auto [ec, n] = co_await ws.async_read(buffer);
  WsMessage m{ec, beast::buffers_to_string(buffer.data()), ws.got_text()};
  if (!ec) log.received.push_back(Sha256HexForTest(m.payload));
  co_return m;
}

// A client WebSocket over plain TCP, through ErasedStream so that the TCP operations under
// Beast's WebSocket algorithms are compiled once (in tools/stream) rather than in every test.
struct WsClient {
  explicit WsClient(const Executor& ex) : tcp(ex), erased(tcp), ws(erased) {}
  TcpStream tcp;
  ErasedStream erased;
  websocket::stream<ErasedStream&> ws;
};
using ClientWs = websocket::stream<ErasedStream&>;

// Connects and upgrades `ws` (a WsClient's) to `target`, offering the
// `protocols` subprotocols (add `openai-beta.realtime-v1` for the preview dialect).
inline net::awaitable<error_code> WsOpen(
    ClientWs& ws, uint16_t port, const std::string& target, websocket::response_type& res,
    bool offer_deflate = false,
    std::string protocols = "realtime, openai-insecure-api-key.sk-test") {
  if (auto ec = co_await Connect(ws.next_layer().next_layer(), port)) co_return ec;
  ws.next_layer().next_layer().expires_never();
  ws.set_option(websocket::stream_base::timeout{kIo, kIo, false});
  websocket::permessage_deflate pmd;
  pmd.client_enable = offer_deflate;
  ws.set_option(pmd);
  ws.set_option(websocket::stream_base::decorator([protocols](websocket::request_type& req) {
    req.set(http::field::sec_websocket_protocol, protocols);
  }));
  auto [ec] = co_await ws.async_handshake(res, "127.0.0.1", target);
  co_return ec;
}

inline std::string TypeOf(const std::string& payload) {
  return nlohmann::json::parse(payload, nullptr, false).value("type", "");
}
}  // namespace relaytap::tools::fake_upstream::testing
