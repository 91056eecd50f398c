// The proxy end to end on loopback: a real TLS fake upstream, a real client, CONNECT + TLS
// interception, HTTP/1.1 relay, SSE, uploads, WebSocket byte-identity, tunnels and failures.
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using ::testing::HasSubstr;
using json = nlohmann::json;

http::request<http::string_body> Get(const std::string& target, const std::string& host) {
  http::request<http::string_body> r{http::verb::get, target, 11};
  r.set(http::field::host, host);
  return r;
}

TEST(ProxyIntegrationTest, KeepAliveRequestsReachUpstreamWithBodiesAndHeadersUnchanged) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  for (int i = 0; i < 5; ++i) {
    std::string body = R"({"input":"hello )" + std::to_string(i) + R"("})";
    // Written by hand so the odd spacing of a header value is on the wire.
    std::string raw = "POST /openai/v1/responses HTTP/1.1\r\nHost: contoso.openai.azure.com\r\n"
                      "api-key:   spaced  \r\nProxy-Connection: keep-alive\r\n"
                      "Content-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    // /echo answers with what it received.
    raw.replace(raw.find("/openai/v1/responses"), 20, "/echo");
    c->Write(raw);
    auto res = c->ReadResponse();
    ASSERT_EQ(res.result_int(), 200);
    json echo = json::parse(res.body());
    EXPECT_EQ(echo["body_sha256"], Sha256Hex(body));
    bool saw_key = false;
    for (const auto& kv : echo["headers"]) {
      EXPECT_NE(kv[0].get<std::string>(), "Proxy-Connection");
      if (kv[0] == "api-key") saw_key = true;
    }
    EXPECT_TRUE(saw_key);
    EXPECT_TRUE(res.count("apim-request-id"));
  }
  EXPECT_EQ(h.upstream().request_count(), 5u);
  // Everything went over one proxy connection.
  EXPECT_EQ(h.server().accepted_sessions(), 1u);
}

TEST(ProxyIntegrationTest, RawHeaderBytesReachUpstreamVerbatim) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  c->Write("GET /echo HTTP/1.1\r\nHost: contoso.openai.azure.com\r\nX-Spaces:  a  b  \r\n\r\n");
  auto res = c->ReadResponse();
  ASSERT_EQ(res.result_int(), 200);
  auto reqs = h.upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  bool found = false;
  for (const auto& [name, value] : reqs[0].headers) {
    if (name == "X-Spaces") {
      found = true;
      EXPECT_EQ(value, "a  b");  // inner whitespace kept (Beast trims only the ends when parsing)
    }
  }
  EXPECT_TRUE(found);
}

TEST(ProxyIntegrationTest, ChunkedAndExpectContinueUploadsStream) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  c->Write("POST /echo HTTP/1.1\r\nHost: contoso.openai.azure.com\r\n"
           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  auto res = c->ReadResponse();
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(json::parse(res.body())["body_sha256"], Sha256Hex("hello world"));

  c->Write("POST /echo HTTP/1.1\r\nHost: contoso.openai.azure.com\r\nExpect: 100-continue\r\n"
           "Content-Length: 4\r\n\r\n");
  auto interim = c->ReadResponse();
  EXPECT_EQ(interim.result_int(), 100);
  c->Write("abcd");
  auto final_res = c->ReadResponse();
  ASSERT_EQ(final_res.result_int(), 200);
  EXPECT_EQ(json::parse(final_res.body())["body_sha256"], Sha256Hex("abcd"));
}

long ResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

TEST(ProxyIntegrationTest, FiftyMegabyteUploadStreamsThrough) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  constexpr size_t kSize = 50u << 20;
  std::string chunk(1 << 20, '\0');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>((i * 31) & 0xff);
  const long rss_before_kib = ResidentKib();
  c->Write("POST /echo HTTP/1.1\r\nHost: contoso.openai.azure.com\r\nContent-Length: " +
           std::to_string(kSize) + "\r\n\r\n");
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  for (size_t sent = 0; sent < kSize; sent += chunk.size()) {
    c->Write(chunk);
    EVP_DigestUpdate(md, chunk.data(), chunk.size());
  }
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md, digest, &len);
  EVP_MD_CTX_free(md);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    static const char* k = "0123456789abcdef";
    hex += k[digest[i] >> 4];
    hex += k[digest[i] & 15];
  }
  auto res = c->ReadResponse();
  ASSERT_EQ(res.result_int(), 200);
  // Proxy, fake upstream and client share this process: 50 MB buffered anywhere would show.
  // (Not under AddressSanitizer: its quarantine keeps freed memory resident on purpose.)
#ifndef __SANITIZE_ADDRESS__
  EXPECT_LT(ResidentKib() - rss_before_kib, 20 * 1024);
#else
  (void)rss_before_kib;
#endif
  json echo = json::parse(res.body());
  EXPECT_EQ(echo["body_bytes"], kSize);
  EXPECT_EQ(echo["body_sha256"], hex);
}

TEST(ProxyIntegrationTest, SseEventsArriveOneByOneBeforeTheStreamEnds) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  c->Write("GET /sse?events=3&interval_ms=300 HTTP/1.1\r\nHost: contoso.openai.azure.com\r\n\r\n");
  http::response_parser<http::buffer_body> p;
  auto& tls = c->tls();
  http::read_header(tls, c->buffer(), p);
  ASSERT_EQ(p.get().result_int(), 200);
  std::string received;
  char buf[4096];
  // Read until the first event is complete; the stream must not be finished yet.
  for (int i = 0; i < 100 && received.find("\n\n") == std::string::npos; ++i) {
    p.get().body().data = buf;
    p.get().body().size = sizeof(buf);
    boost::system::error_code ec;
    http::read_some(tls, c->buffer(), p, ec);
    if (ec == http::error::need_buffer) ec = {};
    ASSERT_FALSE(ec) << ec.message();
    received.append(buf, sizeof(buf) - p.get().body().size);
  }
  EXPECT_THAT(received, HasSubstr("\"i\":0"));
  EXPECT_THAT(received, ::testing::Not(HasSubstr("\"i\":2")));
  EXPECT_FALSE(p.is_done());
  for (int i = 0; i < 1000 && !p.is_done(); ++i) {
    p.get().body().data = buf;
    p.get().body().size = sizeof(buf);
    boost::system::error_code ec;
    http::read_some(tls, c->buffer(), p, ec);
    if (ec == http::error::need_buffer) ec = {};
    ASSERT_FALSE(ec) << ec.message();
    received.append(buf, sizeof(buf) - p.get().body().size);
  }
  EXPECT_THAT(received, HasSubstr("[DONE]"));
}

// Records what the frame taps decoded, for comparing with what the ends saw.
class RecordingFactory : public proxy::WsObserverFactory {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<std::string> client_hashes, server_hashes;
    int errors = 0;
  };
  explicit RecordingFactory(std::shared_ptr<Shared> s) : shared_(std::move(s)) {}
  std::unique_ptr<proxy::ws::MessageObserver> Create(const proxy::WsSessionInfo&) override {
    return std::make_unique<Observer>(shared_);
  }

 private:
  class Observer : public proxy::ws::MessageObserver {
   public:
    explicit Observer(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
    void OnMessage(proxy::ws::Message&& m) override {
      if (m.opcode != proxy::ws::Opcode::kText && m.opcode != proxy::ws::Opcode::kBinary) return;
      std::lock_guard<std::mutex> lock(s_->mu);
      (m.direction == proxy::ws::Direction::kClientToServer ? s_->client_hashes
                                                            : s_->server_hashes)
          .push_back(Sha256Hex(m.payload));
    }
    void OnTapError(proxy::ws::Direction, std::string_view) override {
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->errors++;
    }

   private:
    std::shared_ptr<Shared> s_;
  };
  std::shared_ptr<Shared> shared_;
};

void RunRealtimeConversation(bool deflate) {
  auto shared = std::make_shared<RecordingFactory::Shared>();
  ProxyHarness::Options o;
  o.observers = std::make_unique<RecordingFactory>(shared);
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient();
  websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws(c->tls());
  websocket::permessage_deflate pmd;
  pmd.client_enable = deflate;
  ws.set_option(pmd);
  ws.read_message_max(64u << 20);
  beast::get_lowest_layer(c->tls()).expires_never();
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                std::chrono::seconds(30), false});
  ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime");
  std::vector<std::string> sent, received;
  auto read_one = [&] {
    beast::flat_buffer b;
    ws.read(b);
    received.push_back(Sha256Hex(beast::buffers_to_string(b.data())));
    return beast::buffers_to_string(b.data());
  };
  auto send = [&](const std::string& msg, bool binary) {
    ws.binary(binary);
    ws.write(net::buffer(msg));
    sent.push_back(Sha256Hex(msg));
  };
  EXPECT_THAT(read_one(), HasSubstr("session.created"));
  std::string audio(200'000, 'A');  // a 16-bit+ length; 64-bit once framed with headers
  send(R"({"type":"input_audio_buffer.append","audio":")" + audio + "\"}", false);
  send(R"({"type":"response.create"})", false);
  // response.created, audio and transcript deltas, ..., response.done (bounded)
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) done = read_one().find("\"response.done\"") != std::string::npos;
  ASSERT_TRUE(done);
  std::string bin(70'000, '\0');
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>(i % 251);
  send(bin, true);
  read_one();  // echoed
  send(R"({"type":"echo.request","n":1})", false);
  read_one();
  ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
  ASSERT_TRUE(h.upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
  auto sessions = h.upstream().ws_sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].received, sent);
  EXPECT_EQ(sessions[0].sent, received);
  EXPECT_EQ(sessions[0].deflate_negotiated, deflate);
  // The taps decoded the same messages as the two ends saw (after the pump finished).
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      if (shared->client_hashes.size() == sent.size() &&
          shared->server_hashes.size() == received.size())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard<std::mutex> lock(shared->mu);
  EXPECT_EQ(shared->client_hashes, sent);
  EXPECT_EQ(shared->server_hashes, received);
  EXPECT_EQ(shared->errors, 0);
}

TEST(ProxyIntegrationTest, WebSocketMessagesAreIdenticalAndInOrderWithDeflate) {
  RunRealtimeConversation(true);
}

TEST(ProxyIntegrationTest, WebSocketMessagesAreIdenticalAndInOrderWithoutDeflate) {
  RunRealtimeConversation(false);
}

using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

void OpenRealtime(ProxyClient& c, TlsWebSocket& ws, const std::string& target) {
  beast::get_lowest_layer(c.tls()).expires_never();
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                std::chrono::seconds(30), false});
  ws.handshake(kAzureHost, target);
  beast::flat_buffer b;
  ws.read(b);  // session.created
}

TEST(ProxyIntegrationTest, UpstreamResetMidSessionClosesTheAppSocket) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime&reset_after=1");
  ws.write(net::buffer(std::string(R"({"type":"input_audio_buffer.commit"})")));
  beast::flat_buffer b;
  boost::system::error_code ec;
  for (int i = 0; i < 10 && !ec; ++i) ws.read(b, ec);  // the reset ends the read, not the timeout
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, beast::error::timeout);
}

TEST(ProxyIntegrationTest, AppAbortClosesTheUpstreamSession) {
  ProxyHarness h;
  {
    auto c = h.InterceptedClient();
    TlsWebSocket ws(c->tls());
    OpenRealtime(*c, ws, "/openai/v1/realtime?model=gpt-realtime");
    boost::system::error_code ignored;
    auto& sock = beast::get_lowest_layer(c->tls()).socket();
    sock.set_option(net::socket_base::linger(true, 0), ignored);
    sock.close(ignored);  // RST, no close frame
  }
  EXPECT_TRUE(h.upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
}

TEST(ProxyIntegrationTest, IdleHttpConnectionsAreClosed) {
  ProxyHarness::Options o;
  o.http_idle_timeout = std::chrono::milliseconds(200);
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient();
  auto res = c->Request(Get("/echo", kAzureHost));
  EXPECT_EQ(res.result_int(), 200);
  char byte;
  boost::system::error_code ec;
  beast::get_lowest_layer(c->tls()).expires_after(std::chrono::seconds(30));
  c->tls().read_some(net::buffer(&byte, 1), ec);  // ends when the proxy closes, long before 30 s
  EXPECT_TRUE(ec == net::error::eof || ec == net::ssl::error::stream_truncated) << ec.message();
}

TEST(ProxyIntegrationTest, NonUpgradeAnswerToAnUpgradeIsRelayed) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  c->Write("GET /status/429 HTTP/1.1\r\nHost: contoso.openai.azure.com\r\nConnection: Upgrade\r\n"
           "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  auto res = c->ReadResponse();
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(res["retry-after-ms"], "1500");
}

TEST(ProxyIntegrationTest, TunnelledHostShowsTheUpstreamsOwnCertificate) {
  ProxyHarness::Options o;
  o.intercept = {"*.openai.azure.com"};
  ProxyHarness h(std::move(o));
  // Reach the fake upstream by its port directly: 127.0.0.1 is not intercepted.
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect("127.0.0.1", h.upstream_port()), 200);
  std::string err;
  // The upstream's leaf is for kAzureHost; SNI/host check for that name, trust the upstream CA.
  ASSERT_TRUE(c.StartTls(kAzureHost, h.upstream_ca_pem(), &err)) << err;
  auto res = c.Request(Get("/echo", kAzureHost));
  EXPECT_EQ(res.result_int(), 200);
}

TEST(ProxyIntegrationTest, InterceptedHostPresentsAProxyMintedCertificate) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  EXPECT_THAT(c->PeerIssuerCommonName(), HasSubstr("relaytap"));
}

TEST(ProxyIntegrationTest, RefusedUpstreamGivesA502WithJson) {
  // A port with nothing listening: bind, note, close.
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  uint16_t dead = a.local_endpoint().port();
  a.close();
  ProxyHarness::Options o;
  o.extra_connect_to = {"dead.openai.azure.com:443:127.0.0.1:" + std::to_string(dead)};
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient("dead.openai.azure.com");
  auto res = c->Request(Get("/openai/v1/models", "dead.openai.azure.com"));
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_connect");
  json body = json::parse(res.body());
  EXPECT_EQ(body["error"]["stage"], "connect");
  EXPECT_EQ(body["error"]["host"], "dead.openai.azure.com");
  EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("refused"));
}

TEST(ProxyIntegrationTest, UntrustedUpstreamCertificateGivesA502) {
  // The fake upstream's certificate is for kAzureHost, not for this name.
  ProxyHarness::Options o;
  ProxyHarness h0;  // only its upstream is used: a server whose CA `h` does not trust
  o.extra_connect_to = {"other.openai.azure.com:443:127.0.0.1:" +
                        std::to_string(h0.upstream_port())};
  ProxyHarness h(std::move(o));
  // h's connect-to sends other.openai.azure.com to h0's upstream, whose CA h does not trust.
  auto c = h.InterceptedClient("other.openai.azure.com");
  auto res = c->Request(Get("/echo", "other.openai.azure.com"));
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_tls");
  EXPECT_THAT(res.body(), HasSubstr("certificate verify failed"));
}

TEST(ProxyIntegrationTest, UpstreamThatNeverHandshakesGivesA504) {
  net::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  ProxyHarness::Options o;
  o.handshake_timeout = std::chrono::milliseconds(300);
  o.extra_connect_to = {"slow.openai.azure.com:443:127.0.0.1:" +
                        std::to_string(silent.local_endpoint().port())};
  ProxyHarness h(std::move(o));
  auto c = h.InterceptedClient("slow.openai.azure.com");
  auto res = c->Request(Get("/", "slow.openai.azure.com"));
  EXPECT_EQ(res.result_int(), 504);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_tls_timeout");
}

TEST(ProxyIntegrationTest, UpstreamResetBeforeAnswerGivesA502) {
  ProxyHarness h;
  auto c = h.InterceptedClient();
  auto res = c->Request(Get("/reset", kAzureHost));
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res["x-relaytap-error"], "relaytap_upstream_reset");
}

TEST(ProxyIntegrationTest, MalformedAndOversizedRequestsAreRejectedOthersCarryOn) {
  ProxyHarness h;
  auto healthy = h.InterceptedClient();
  {
    ProxyClient bad(h.proxy_port());
    bad.Write("THIS IS NOT HTTP\r\n\r\n");
    auto res = bad.ReadResponse();
    EXPECT_EQ(res.result_int(), 400);
  }
  {
    ProxyClient big(h.proxy_port());
    big.Write("GET http://127.0.0.1/ HTTP/1.1\r\nX-Big: " + std::string(70'000, 'x') + "\r\n\r\n");
    auto res = big.ReadResponse();
    EXPECT_EQ(res.result_int(), 431);
  }
  {
    auto inner = h.InterceptedClient();
    inner->Write("GARBAGE\r\n\r\n");
    EXPECT_EQ(inner->ReadResponse().result_int(), 400);
  }
  auto res = healthy->Request(Get("/echo", kAzureHost));
  EXPECT_EQ(res.result_int(), 200);
}

TEST(ProxyIntegrationTest, PlainHttpAbsoluteFormIsProxied) {
  tools::fake_upstream::Options fo;  // plain HTTP
  auto plain = tools::fake_upstream::FakeUpstream::Start(fo);
  ASSERT_TRUE(plain.ok());
  ProxyHarness h;
  ProxyClient c(h.proxy_port());
  std::string url = "http://127.0.0.1:" + std::to_string((*plain)->port()) + "/echo?x=1";
  c.Write("GET " + url + " HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Authorization: Basic eA==\r\n\r\n");
  auto res = c.ReadResponse();
  ASSERT_EQ(res.result_int(), 200);
  json echo = json::parse(res.body());
  EXPECT_EQ(echo["target"], "/echo?x=1");
  for (const auto& kv : echo["headers"]) EXPECT_NE(kv[0], "Proxy-Authorization");
}

TEST(ProxyIntegrationTest, UpstreamThatClosedAnIdleKeepAliveConnectionIsRedialled) {
  // A server that answers one request per connection with a keep-alive response, then closes.
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::atomic<int> served{0};
  std::thread server([&] {
    for (int i = 0; i < 2; ++i) {
      tcp::socket s(ioc);
      boost::system::error_code ec;
      acceptor.accept(s, ec);
      if (ec) return;
      beast::flat_buffer b;
      http::request<http::string_body> req;
      http::read(s, b, req, ec);
      net::write(s, net::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")), ec);
      s.shutdown(tcp::socket::shutdown_both, ec);
      s.close();
      served++;
    }
  });
  ProxyHarness h;
  ProxyClient c(h.proxy_port());
  std::string url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
  for (int i = 0; i < 2; ++i) {
    c.Write("GET " + url + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto res = c.ReadResponse();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "ok");
    for (int w = 0; w < 500 && served.load() <= i; ++w) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Let the FIN reach the proxy's socket before the next request is sent.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server.join();
  EXPECT_EQ(served.load(), 2);
}

TEST(ProxyIntegrationTest, ClientThatDistrustsTheCaIsRejectedAndOthersCarryOn) {
  ProxyHarness h;
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect(kAzureHost, 443), 200);
  std::string err;
  EXPECT_FALSE(c.StartTls(kAzureHost, h.upstream_ca_pem(), &err));  // the wrong CA
  auto ok = h.InterceptedClient();
  auto res = ok->Request(Get("/echo", kAzureHost));
  EXPECT_EQ(res.result_int(), 200);
}

}  // namespace
}  // namespace relaytap::testing
