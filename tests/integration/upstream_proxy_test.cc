// --upstream-proxy against real proxies (tinyproxy and squid from Debian, on loopback): realtime
// WebSocket sessions, streamed HTTP and blind tunnels go through the proxy's CONNECT, with and
// without Basic credentials; a 407, a refused CONNECT and a closed proxy port are recorded as the
// proxy's failures, apart from the upstream's; the credentials reach no file and no log line.

#include "proxy/stream/upstream_proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fstream>
#include <sstream>

#include "tests/testing/proxy_harness.h"
#include "tests/testing/real_proxy.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_recorder.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

constexpr char kUser[] = "corp-user";
constexpr char kPassword[] = "Pr0xyCanary-7c1e";

// Subject of the CA certificate in `pem_file`, as relaytap records an issuer (RFC 2253).
std::string SubjectOf(const std::filesystem::path& pem_file) {
  FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) return "";
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(cert);
  return out;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class UpstreamProxyFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTempDir("upstream_proxy");
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
  }

  // The real proxy, then relaytap through it (`credentials` "user:pass" from an auth file).
  void Start(RealProxyKind kind, RealProxyOptions po, const std::string& credentials) {
    po.kind = kind;
    real_ = RealProxy::Start(po);
    ASSERT_NE(real_, nullptr);
    StartRelay("http://127.0.0.1:" + std::to_string(real_->port()), credentials);
  }

  void StartRelay(const std::string& url, const std::string& credentials,
                  std::vector<std::string> bypass = {}, uint16_t listen_port = 0) {
    auto proxy = proxy::ParseUpstreamProxyUrl(url);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    if (!credentials.empty()) {
      auth_file_ = FreshTempDir("upstream_proxy_auth") / "auth";
      std::ofstream(auth_file_) << credentials << "\n";
    }
    ProxyHarness::Options o;
    o.sink = recorder_.get();
    o.extra_connect_to = {"tunnel.example.test:443:127.0.0.1:0"};  // the port is set below
    const std::filesystem::path auth = auth_file_;
    o.configure = [proxy = *proxy, auth, bypass, listen_port](proxy::ProxyConfig& c) {
      c.listen.port = listen_port;
      c.upstream_proxy = proxy;
      if (!auth.empty()) c.upstream_proxy_auth_file = auth;
      c.no_upstream_proxy_for = bypass;
      ASSERT_TRUE(
          proxy::ResolveUpstreamProxy(c, [](const char*) -> const char* { return nullptr; }).ok());
      // The tunnelled host goes where the intercepted one goes: the fake upstream.
      c.connect_to.back().to_port = c.connect_to.front().to_port;
    };
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

  // A realtime session: session.created, a response, a normal close.
  void RunRealtimeSession() {
    auto c = harness_->InterceptedClient();
    TlsWebSocket ws(c->tls());
    beast::get_lowest_layer(c->tls()).expires_never();
    ws.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
    ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime");
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_THAT(beast::buffers_to_string(b.data()), ::testing::HasSubstr("session.created"));
    ws.write(net::buffer(std::string(R"({"type":"response.create","event_id":"evt_c1"})")));
    bool done = false;
    for (int i = 0; i < 200 && !done; ++i) {
      b.clear();
      ws.read(b);
      done = beast::buffers_to_string(b.data()).find("\"response.done\"") != std::string::npos;
    }
    EXPECT_TRUE(done) << "no response.done through the upstream proxy";
    ws.close(websocket::close_code::normal);
  }

  // A streamed chat completion; returns its status and whether the stream reached [DONE].
  std::pair<int, bool> RunStreamedCompletion(const std::string& host = kAzureHost) {
    const std::string body = R"({"messages":[{"role":"user","content":"hi"}],"stream":true})";
    auto c = harness_->InterceptedClient(host);
    c->Write(
        "POST /openai/deployments/gpt/chat/completions?api-version=2024-10-21 HTTP/1.1\r\n"
        "Host: " +
        host + "\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    auto r = c->ReadResponse();
    if (r.result_int() != 200) last_error_ = r.body();
    return {r.result_int(), r.body().find("data: [DONE]") != std::string::npos};
  }

  // A blind tunnel through relaytap and the upstream proxy: TLS with the fake upstream itself.
  void RunTunnel() {
    ProxyClient c(harness_->proxy_port());
    ASSERT_EQ(c.Connect("tunnel.example.test", 443), 200);
    std::string error;
    ASSERT_TRUE(c.StartTls(kAzureHost, harness_->upstream_ca_pem(), &error)) << error;
    auto r = c.Request([] {
      http::request<http::string_body> q{http::verb::get, "/status/200", 11};
      q.set(http::field::host, kAzureHost);
      return q;
    }());
    EXPECT_EQ(r.result_int(), 200);
  }

  // An intercepted GET answered by relaytap itself (the dial failed): status and error code.
  std::pair<int, std::string> FailedGet() {
    auto c = harness_->InterceptedClient();
    c->Write(std::string("GET /openai/v1/models HTTP/1.1\r\nHost: ") + kAzureHost + "\r\n\r\n");
    auto r = c->ReadResponse();
    return {r.result_int(), std::string(r["x-relaytap-error"])};
  }

  void Finish() {
    harness_.reset();
    ASSERT_TRUE(recorder_->Close().ok());
  }
  std::string Db() const { return TestDbPath(dir_); }
  std::string ProxyAddress() const { return "127.0.0.1:" + std::to_string(real_->port()); }

  // No file relaytap wrote (store, WAL, keys, CA) holds the password or its Basic token.
  void ExpectCredentialsInNoFile() {
    const std::string token = proxy::BasicToken(std::string(kUser) + ":" + kPassword);
    for (const auto& root : {dir_, harness_ ? harness_->proxy_ca_dir() : dir_}) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        const std::string bytes = ReadAll(e.path());
        EXPECT_EQ(bytes.find(kPassword), std::string::npos) << e.path();
        EXPECT_EQ(bytes.find(token), std::string::npos) << e.path();
      }
    }
  }

  std::filesystem::path dir_;
  std::filesystem::path auth_file_;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<RealProxy> real_;
  std::unique_ptr<ProxyHarness> harness_;
  std::string last_error_;
};

// Each test runs against tinyproxy and against squid.
class UpstreamProxyTest : public UpstreamProxyFixture,
                          public ::testing::WithParamInterface<RealProxyKind> {
 protected:
  void Start(RealProxyOptions po, const std::string& credentials) {
    UpstreamProxyFixture::Start(GetParam(), std::move(po), credentials);
  }
};

TEST_P(UpstreamProxyTest, RealtimeStreamedHttpAndTunnelsGoThroughTheProxy) {
  ASSERT_NO_FATAL_FAILURE(Start({}, ""));
  RunRealtimeSession();
  auto [status, done] = RunStreamedCompletion();
  EXPECT_EQ(status, 200) << last_error_ << real_->Log();
  EXPECT_TRUE(done);
  RunTunnel();
  const std::string issuer = SubjectOf(harness_->upstream_ca_pem());
  ASSERT_NO_FATAL_FAILURE(Finish());
  EXPECT_EQ(Query(Db(), "SELECT group_concat(outcome, ',') FROM ws_sessions"), "ok");
  EXPECT_THAT(QueryRows(Db(), "SELECT status, end_reason FROM exchanges ORDER BY connection_id"),
              ::testing::ElementsAre("101|switched", "200|complete"));
  EXPECT_EQ(Query(Db(), "SELECT COUNT(*) FROM exchanges WHERE sse_events IS NOT NULL"), "1");
  // Every connection names the proxy, its 200 and a CONNECT time; the intercepted ones the
  // issuer of the upstream chain (here the test's upstream CA).
  EXPECT_THAT(QueryRows(Db(),
                        "SELECT tunnel, upstream_proxy, upstream_proxy_status, "
                        "proxy_connect_us >= 0, COALESCE(upstream_tls_issuer, '-') FROM "
                        "connections ORDER BY connection_id"),
              ::testing::ElementsAre("0|" + ProxyAddress() + "|200|1|" + issuer,
                                     "0|" + ProxyAddress() + "|200|1|" + issuer,
                                     "1|" + ProxyAddress() + "|200|1|-"));
  EXPECT_FALSE(issuer.empty());
  EXPECT_EQ(Query(Db(),
                  "SELECT COUNT(*) FROM v_failures WHERE upstream_proxy_status IS NOT NULL "
                  "OR outcome = 'upstream_proxy_failure'"),
            "0");
}

TEST_P(UpstreamProxyTest, BasicCredentialsGoThroughAndReachNoFileOrLog) {
  ::testing::internal::CaptureStderr();
  Start({.user = kUser, .password = kPassword}, std::string(kUser) + ":" + kPassword);
  if (harness_) {
    RunRealtimeSession();
    auto [status, done] = RunStreamedCompletion();
    EXPECT_EQ(status, 200) << last_error_;
    EXPECT_TRUE(done);
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(harness_, nullptr) << log;
  ExpectCredentialsInNoFile();
  ASSERT_NO_FATAL_FAILURE(Finish());
  ExpectCredentialsInNoFile();
  EXPECT_EQ(log.find(kPassword), std::string::npos);
  EXPECT_EQ(Query(Db(),
                  "SELECT group_concat(outcome || '/' || upstream_proxy_status, ',') FROM "
                  "connections"),
            "ok/200,ok/200");
}

TEST_P(UpstreamProxyTest, MissingCredentialsAreTheProxys407) {
  ASSERT_NO_FATAL_FAILURE(Start({.user = kUser, .password = kPassword}, ""));
  auto [status, code] = FailedGet();
  EXPECT_EQ(status, 502);
  EXPECT_EQ(code, "relaytap_upstream_proxy");
  ASSERT_NO_FATAL_FAILURE(Finish());
  EXPECT_EQ(Query(Db(),
                  "SELECT outcome || ' ' || error_stage || ' ' || upstream_proxy_status || "
                  "' ' || end_reason FROM exchanges"),
            "upstream_proxy_failure proxy 407 upstream_proxy_failed");
  EXPECT_EQ(Query(Db(),
                  "SELECT outcome || ' ' || error_code || ' ' || upstream_proxy || ' ' || "
                  "upstream_proxy_status FROM v_failures"),
            "upstream_proxy_failure relaytap_upstream_proxy " + ProxyAddress() + " 407");
  EXPECT_EQ(Query(Db(), "SELECT outcome || ' ' || upstream_proxy_status FROM connections"),
            "upstream_proxy_failure 407");
}

TEST_P(UpstreamProxyTest, ARefusedConnectIsTheProxysAnswer) {
  ASSERT_NO_FATAL_FAILURE(Start({.connect_port = 1}, ""));  // any port but 1 is refused
  auto [status, code] = FailedGet();
  EXPECT_EQ(status, 502);
  EXPECT_EQ(code, "relaytap_upstream_proxy");
  ASSERT_NO_FATAL_FAILURE(Finish());
  EXPECT_EQ(Query(Db(), "SELECT outcome || ' ' || upstream_proxy_status FROM v_failures"),
            "upstream_proxy_failure 403");
  EXPECT_THAT(Query(Db(), "SELECT error_reason FROM exchanges"),
              ::testing::HasSubstr("answered 403 Forbidden to CONNECT 127.0.0.1:"));
}

INSTANTIATE_TEST_SUITE_P(RealProxies, UpstreamProxyTest,
                         ::testing::Values(RealProxyKind::kTinyproxy, RealProxyKind::kSquid),
                         [](const auto& p) { return RealProxyName(p.param); });

// Without a real proxy: the failures and choices that do not need one.
using UpstreamProxyNoServerTest = UpstreamProxyFixture;

TEST_F(UpstreamProxyNoServerTest, AClosedProxyPortIsAProxyFailure) {
  const uint16_t closed = FreeLoopbackPort();
  StartRelay("http://127.0.0.1:" + std::to_string(closed), "");
  auto [status, code] = FailedGet();
  EXPECT_EQ(status, 502);
  EXPECT_EQ(code, "relaytap_upstream_proxy");
  ASSERT_NO_FATAL_FAILURE(Finish());
  EXPECT_EQ(Query(Db(),
                  "SELECT outcome || ' ' || COALESCE(upstream_proxy_status, '-') || ' ' || "
                  "upstream_proxy FROM v_failures"),
            "upstream_proxy_failure - 127.0.0.1:" + std::to_string(closed));
  EXPECT_THAT(Query(Db(), "SELECT error_reason FROM exchanges"),
              ::testing::HasSubstr("upstream proxy: connecting to 127.0.0.1:"));
}

TEST_F(UpstreamProxyNoServerTest, ABypassedHostIsDialledDirectly) {
  StartRelay("http://127.0.0.1:" + std::to_string(FreeLoopbackPort()), "", {"*.openai.azure.com"});
  auto [status, done] = RunStreamedCompletion();
  EXPECT_EQ(status, 200) << last_error_;
  EXPECT_TRUE(done);
  ASSERT_NO_FATAL_FAILURE(Finish());
  EXPECT_EQ(Query(Db(), "SELECT outcome || ' ' || (upstream_proxy IS NULL) FROM connections"),
            "ok 1");
}

// relaytap -> tinyproxy -> relaytap: the CONNECT comes back with relaytap's Via marker, the
// second hop refuses it with 508 (logged; no connection of the app is recorded for it), and the
// first records the proxy's 508, named as a loop.
using UpstreamProxyChainTest = UpstreamProxyFixture;

TEST_F(UpstreamProxyChainTest, ALoopThroughAnotherProxyIsRefusedAndNamed) {
  const uint16_t relay_port = FreeLoopbackPort();
  real_ = RealProxy::Start({.upstream_port = relay_port});
  ASSERT_NE(real_, nullptr);
  StartRelay("http://127.0.0.1:" + std::to_string(real_->port()), "", {}, relay_port);
  ASSERT_EQ(harness_->proxy_port(), relay_port);
  auto [status, code] = FailedGet();
  EXPECT_EQ(status, 502);
  EXPECT_EQ(code, "relaytap_upstream_proxy");
  ASSERT_NO_FATAL_FAILURE(Finish());
  EXPECT_EQ(Query(Db(), "SELECT outcome || ' ' || upstream_proxy_status FROM exchanges"),
            "upstream_proxy_failure 508");
  EXPECT_THAT(Query(Db(), "SELECT error_reason FROM exchanges"),
              ::testing::HasSubstr("leads back to this relaytap (a proxy loop)"));
  EXPECT_EQ(Query(Db(), "SELECT COUNT(*) FROM connections"), "1");
}

TEST_F(UpstreamProxyNoServerTest, ACONNECTCarryingItsOwnMarkerIsRefusedAsALoop) {
  StartRelay("http://127.0.0.1:" + std::to_string(FreeLoopbackPort()), "");
  ProxyClient c(harness_->proxy_port());
  c.Write(std::string("CONNECT ") + kAzureHost + ":443 HTTP/1.1\r\nHost: " + kAzureHost +
          ":443\r\nVia: 1.1 " + std::string(proxy::LoopMarker()) + "\r\n\r\n");
  auto r = c.ReadResponse();
  EXPECT_EQ(r.result_int(), 508);
  EXPECT_EQ(r["x-relaytap-error"], "relaytap_proxy_loop");
}

}  // namespace
}  // namespace relaytap::testing
