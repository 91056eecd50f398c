// The fake upstream's HTTP side and server: options, echo, bytes, chunked, SSE, chat
// completions, status and reset switches, TLS with ALPN, and several io threads. Its WebSocket
// (realtime) side is in fake_upstream_ws_test.cc.
#include "tools/fake_upstream/fake_upstream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/tools/fake_upstream_client.h"
#include "tests/tools/fake_upstream_fixture.h"
#include "tests/tools/fake_upstream_test_support.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream {
namespace {

namespace websocket = beast::websocket;
using nlohmann::json;
using testing::ClientWs;
using testing::Deterministic;
using ::testing::HasSubstr;
using testing::RunClient;
using testing::Sha256HexForTest;
using testing::WsClient;
using StringRequest = http::request<http::string_body>;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Connect;
using testing::ExpectAzureHeaders;
using testing::kIo;
using testing::MakeRequest;
using testing::RoundTrip;
using testing::TypeOf;
using testing::WsLog;
using testing::WsMessage;
using testing::WsRead;

using FakeUpstreamTest = testing::FakeUpstreamFixture;

TEST_F(FakeUpstreamTest, RejectsBadOptions) {
  Options bad_threads;
  bad_threads.threads = 0;
  EXPECT_FALSE(FakeUpstream::Start(bad_threads).ok());
  Options bad_address;
  bad_address.listen_address = "not-an-ip";
  EXPECT_FALSE(FakeUpstream::Start(bad_address).ok());
  Options bad_cert;
  bad_cert.cert_pem = "garbage";
  bad_cert.key_pem = "garbage";
  EXPECT_FALSE(FakeUpstream::Start(bad_cert).ok());
}

TEST_F(FakeUpstreamTest, EchoReportsBodyHashAndHeadersInOrder) {
  std::string body = Deterministic(300000);
  StringRequest req = MakeRequest(http::verb::post, "/echo?x=1", body);
  req.set("x-first", "1");
  req.set("x-second", "2");
  auto [ec, res] = Fetch(req);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200);
  ExpectAzureHeaders(res);
  json j = json::parse(res.body());
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["target"], "/echo?x=1");
  EXPECT_EQ(j["body_bytes"], body.size());
  EXPECT_EQ(j["body_sha256"], Sha256HexForTest(body));
  std::vector<std::pair<std::string, std::string>> sent;
  for (const auto& f : req) sent.emplace_back(f.name_string(), f.value());
  EXPECT_EQ(j["headers"].get<decltype(sent)>(), sent);

  auto records = server_->requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(server_->request_count(), 1u);
  EXPECT_EQ(records[0].method, "POST");
  EXPECT_EQ(records[0].headers, sent);
  EXPECT_EQ(records[0].body_bytes, body.size());
  EXPECT_EQ(records[0].body_sha256, Sha256HexForTest(body));
}

TEST_F(FakeUpstreamTest, EchoHonoursExpectContinueAndStreamsLargeUpload) {
  constexpr size_t kSize = 50 << 20;
  constexpr size_t kPiece = 1 << 20;
  std::string piece = Deterministic(kPiece);
  std::string expected_hash;
  {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
    for (size_t i = 0; i < kSize / kPiece; ++i) EVP_DigestUpdate(md, piece.data(), piece.size());
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, out, &len);
    EVP_MD_CTX_free(md);
    char hex[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(hex, sizeof(hex), "%02x", out[i]);
      expected_hash += hex;
    }
  }
  RunClient([&]() -> net::awaitable<void> {
    TcpStream tcp(co_await net::this_coro::executor);
    CO_ASSERT_TRUE(!co_await Connect(tcp, server_->port()));
    ErasedStream stream(tcp);
    http::request<http::empty_body> req{http::verb::put, "/echo", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::expect, "100-continue");
    req.content_length(kSize);
    http::request_serializer<http::empty_body> serializer{req};
    tcp.expires_after(kIo);
    auto [hec, h] = co_await http::async_write_header(stream, serializer);
    CO_ASSERT_TRUE(!hec);
    std::string interim;
    auto [iec, i] =
        co_await net::async_read_until(stream, net::dynamic_buffer(interim), "\r\n\r\n");
    CO_ASSERT_TRUE(!iec);
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    for (size_t sent = 0; sent < kSize; sent += kPiece) {
      tcp.expires_after(kIo);
      auto [wec, w] = co_await net::async_write(stream, net::buffer(piece));
      CO_ASSERT_TRUE(!wec);
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    auto [rec, r] = co_await http::async_read(stream, buffer, res);
    CO_ASSERT_TRUE(!rec);
    json j = json::parse(res.body());
    EXPECT_EQ(j["body_bytes"], kSize);
    EXPECT_EQ(j["body_sha256"], expected_hash);
  });
}

TEST_F(FakeUpstreamTest, BytesAndChunkedOnOneKeepAliveConnection) {
  RunClient([&]() -> net::awaitable<void> {
    TcpStream tcp(co_await net::this_coro::executor);
    CO_ASSERT_TRUE(!co_await Connect(tcp, server_->port()));
    ErasedStream stream(tcp);
    beast::flat_buffer buffer;
    auto [ec, res] =
        co_await RoundTrip(stream, buffer, MakeRequest(http::verb::get, "/bytes?n=100000"));
    CO_ASSERT_TRUE(!ec);
    EXPECT_EQ(res[http::field::content_length], "100000");
    EXPECT_EQ(res.body(), Deterministic(100000));
    ExpectAzureHeaders(res);

    StringRequest req = MakeRequest(http::verb::get, "/chunked?n=10000&chunk=1000");
    tcp.expires_after(kIo);
    auto [wec, w] = co_await http::async_write(stream, req);
    CO_ASSERT_TRUE(!wec);
    http::response_parser<http::string_body> parser;
    std::vector<uint64_t> chunk_sizes;
    auto on_chunk = [&](uint64_t size, std::string_view, error_code&) {
      chunk_sizes.push_back(size);
    };
    parser.on_chunk_header(on_chunk);
    auto [rec, r] = co_await http::async_read(stream, buffer, parser);
    CO_ASSERT_TRUE(!rec);
    EXPECT_TRUE(parser.chunked());
    EXPECT_EQ(parser.get().body(), Deterministic(10000));
    std::vector<uint64_t> expected(10, 1000);
    expected.push_back(0);  // the last chunk
    EXPECT_EQ(chunk_sizes, expected);
  });
  EXPECT_EQ(server_->request_count(), 2u);
}

// Reads a chunked SSE response; returns the chunk payloads with their arrival times.
struct SseResult {
  error_code ec;
  http::response<http::empty_body> header;
  std::vector<std::string> chunks;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
};

net::awaitable<SseResult> ReadSse(ErasedStream& stream, beast::flat_buffer& buffer,
                                  StringRequest req) {
  SseResult result;
  beast::get_lowest_layer(stream).expires_after(kIo);
  auto [wec, w] = co_await http::async_write(stream, req);
  if (wec) {
    result.ec = wec;
    co_return result;
  }
  http::response_parser<http::string_body> parser;
  std::string current;
  auto on_header = [&](uint64_t, std::string_view, error_code&) {
    if (!current.empty()) result.chunks.push_back(std::move(current));
    current.clear();
  };
  auto on_body = [&](uint64_t remain, std::string_view data, error_code&) -> size_t {
    current.append(data);
    if (remain == data.size()) result.arrivals.push_back(std::chrono::steady_clock::now());
    return data.size();
  };
  parser.on_chunk_header(on_header);
  parser.on_chunk_body(on_body);
  auto [rec, r] = co_await http::async_read(stream, buffer, parser);
  result.ec = rec;
  result.header = http::response<http::empty_body>(parser.get().base());
  co_return result;
}

TEST_F(FakeUpstreamTest, SseEventsArriveAsSeparateChunksOverTime) {
  SseResult sse;
  RunClient([&]() -> net::awaitable<void> {
    TcpStream tcp(co_await net::this_coro::executor);
    CO_ASSERT_TRUE(!co_await Connect(tcp, server_->port()));
    ErasedStream stream(tcp);
    beast::flat_buffer buffer;
    sse = co_await ReadSse(stream, buffer,
                           MakeRequest(http::verb::get, "/sse?events=4&interval_ms=60"));
  });
  ASSERT_FALSE(sse.ec) << sse.ec.message();
  EXPECT_EQ(sse.header[http::field::content_type], "text/event-stream");
  ASSERT_EQ(sse.chunks.size(), 5u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(sse.chunks[i], "data: {\"i\":" + std::to_string(i) +
                                 ",\"type\":\"response.output_text.delta\"}\n\n");
  }
  EXPECT_EQ(sse.chunks[4], "data: [DONE]\n\n");
  ASSERT_EQ(sse.arrivals.size(), 5u);
  EXPECT_GE(sse.arrivals[4] - sse.arrivals[0], milliseconds(200));
}

TEST_F(FakeUpstreamTest, ChatCompletionsStreamAndJson) {
  const std::string target = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
  StringRequest streaming = MakeRequest(http::verb::post, target, R"({"stream":true})");
  streaming.set(http::field::content_type, "application/json");
  SseResult sse;
  RunClient([&]() -> net::awaitable<void> {
    TcpStream tcp(co_await net::this_coro::executor);
    CO_ASSERT_TRUE(!co_await Connect(tcp, server_->port()));
    ErasedStream stream(tcp);
    beast::flat_buffer buffer;
    sse = co_await ReadSse(stream, buffer, streaming);
  });
  ASSERT_FALSE(sse.ec) << sse.ec.message();
  ASSERT_EQ(sse.chunks.size(), 6u);
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(sse.chunks[i].starts_with("data: ")) << sse.chunks[i];
    json chunk = json::parse(sse.chunks[i].substr(6));
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  }
  EXPECT_EQ(sse.chunks[5], "data: [DONE]\n\n");

  auto [ec, res] = Fetch(MakeRequest(http::verb::post, target, R"({"messages":[]})"));
  ASSERT_FALSE(ec);
  json j = json::parse(res.body());
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["usage"]["total_tokens"], 19);

  auto [rec, responses] = Fetch(MakeRequest(http::verb::post, "/openai/v1/responses", "{}"));
  ASSERT_FALSE(rec);
  EXPECT_EQ(json::parse(responses.body())["status"], "completed");
}

TEST_F(FakeUpstreamTest, Status429CarriesRetryHeadersAndAzureError) {
  auto [ec, res] = Fetch(MakeRequest(http::verb::get, "/status/429"));
  ASSERT_FALSE(ec);
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(res[http::field::retry_after], "2");
  EXPECT_EQ(res["retry-after-ms"], "1500");
  ExpectAzureHeaders(res);
  json j = json::parse(res.body());
  EXPECT_EQ(j["error"]["code"], "429");
  EXPECT_THAT(j["error"]["message"].get<std::string>(), HasSubstr("retry after 2 seconds"));

  auto [nec, not_found] = Fetch(MakeRequest(http::verb::get, "/nope"));
  ASSERT_FALSE(nec);
  EXPECT_EQ(not_found.result_int(), 404);
  EXPECT_TRUE(json::parse(not_found.body()).contains("error"));
}

TEST_F(FakeUpstreamTest, ResetAbortsTheConnection) {
  auto [ec, res] = Fetch(MakeRequest(http::verb::post, "/reset", "bye"));
  EXPECT_TRUE(ec == net::error::connection_reset || ec == http::error::end_of_stream ||
              ec == net::error::eof)
      << ec.message();
  ASSERT_EQ(server_->request_count(), 1u);
  EXPECT_EQ(server_->requests()[0].body_bytes, 3u);
}

TEST_F(FakeUpstreamTest, TlsWithAlpnForHttpAndWebSocket) {
  testing::TestLeaf leaf = testing::MakeSelfSignedLeaf();
  Options options;
  options.cert_pem = leaf.cert_pem;
  options.key_pem = leaf.key_pem;
  StartServer(options);
  ASSERT_TRUE(server_->tls());
  ssl::context client_ctx(ssl::context::tls_client);
  client_ctx.add_certificate_authority(net::buffer(leaf.cert_pem));
  client_ctx.set_verify_mode(ssl::verify_peer);
  auto prepare = [&](SslStream& stream) {
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.set_verify_callback(ssl::host_name_verification("localhost"));
    static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(stream.native_handle(), kAlpn, sizeof(kAlpn));
  };
  RunClient([&]() -> net::awaitable<void> {
    SslStream stream(co_await net::this_coro::executor, client_ctx);
    prepare(stream);
    CO_ASSERT_TRUE(!co_await Connect(stream.next_layer(), server_->port()));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client);
    CO_ASSERT_TRUE(!hec);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(stream.native_handle(), &alpn, &alpn_len);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_len), "http/1.1");
    beast::flat_buffer buffer;
    ErasedStream erased(stream);
    auto [ec, res] =
        co_await RoundTrip(erased, buffer, MakeRequest(http::verb::post, "/echo", "secret body"));
    CO_ASSERT_TRUE(!ec);
    EXPECT_EQ(json::parse(res.body())["body_sha256"], Sha256HexForTest("secret body"));

    WsLog log;
    SslStream ws_tls(co_await net::this_coro::executor, client_ctx);
    prepare(ws_tls);
    CO_ASSERT_TRUE(!co_await Connect(ws_tls.next_layer(), server_->port()));
    auto [wec] = co_await ws_tls.async_handshake(ssl::stream_base::client);
    CO_ASSERT_TRUE(!wec);
    ws_tls.next_layer().expires_never();
    ErasedStream ws_erased(ws_tls);
    ClientWs ws(ws_erased);
    ws.set_option(websocket::stream_base::timeout{kIo, kIo, false});
    auto [uec] = co_await ws.async_handshake("localhost", "/openai/v1/realtime?model=m");
    CO_ASSERT_TRUE(!uec);
    WsMessage created = co_await WsRead(ws, log);
    EXPECT_EQ(TypeOf(created.payload), "session.created");
    auto [cec] = co_await ws.async_close(websocket::close_code::normal);
    EXPECT_FALSE(cec);
  });
  EXPECT_TRUE(server_->WaitForClosedWsSessions(1, seconds(5)));
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(FakeUpstreamTest, ServesConcurrentClientsOnSeveralThreads) {
  Options options;
  options.threads = 3;
  StartServer(options);
  constexpr int kClients = 8;
  int ok = 0;
  RunClient([&]() -> net::awaitable<void> {
    auto executor = co_await net::this_coro::executor;
    Timer timer(executor);
    for (int i = 0; i < kClients; ++i) {
      net::co_spawn(
          executor,
          [](uint16_t port, int* ok_count, int n) -> net::awaitable<void> {
            TcpStream tcp(co_await net::this_coro::executor);
            if (co_await Connect(tcp, port)) co_return;
            ErasedStream stream(tcp);
            beast::flat_buffer buffer;
            std::string body = Deterministic(static_cast<size_t>(n) * 10000 + 1);
            auto [ec, res] =
                co_await RoundTrip(stream, buffer, MakeRequest(http::verb::post, "/echo", body));
            if (!ec && json::parse(res.body())["body_sha256"] == Sha256HexForTest(body)) {
              ++*ok_count;
            }
          }(server_->port(), &ok, i),
          net::detached);
    }
    // Bounded in count here and in time by RunClient.
    for (int i = 0; i < 6000 && ok < kClients; ++i) {
      timer.expires_after(milliseconds(5));
      co_await timer.async_wait();
    }
  });
  EXPECT_EQ(ok, kClients);
  EXPECT_EQ(server_->request_count(), static_cast<uint64_t>(kClients));
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream
