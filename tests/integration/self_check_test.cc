// relaytap's self-check host: https://check.relaytap.invalid/ (and plain http://) through the
// proxy is answered by relaytap itself with JSON naming the client and the CA's fingerprint,
// intercepted even when not in the intercept list, never dialled, and recorded like any exchange.
#include "proxy/http/self_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/cert_file.h"
#include "tests/integration/relay_test_support.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/recording_sink.h"
#include "tests/testing/store_answers.h"
#include "tests/testing/test_recorder.h"

namespace relaytap::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
constexpr char kCheckHost[] = "check.relaytap.invalid";

// SHA-256 of the PEM file's certificate DER, computed here independently of the proxy.
std::string FingerprintOfFile(const std::filesystem::path& pem_file) {
  UniqueX509 cert = ReadCertFile(pem_file);
  if (!cert) return "";
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  std::string hex =
      Sha256Hex(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i > 0) out.push_back(':');
    out.push_back(static_cast<char>(std::toupper(hex[i])));
    out.push_back(static_cast<char>(std::toupper(hex[i + 1])));
  }
  return out;
}

ProxyHarness::Options Recording(RecordingSink& sink) {
  ProxyHarness::Options o;
  o.intercept = {"*.openai.azure.com"};  // the self-check host is not listed
  o.sink = &sink;
  return o;
}

TEST(SelfCheckTest, HttpsIsAnsweredByRelaytapWithTheClientAndCaFingerprint) {
  RecordingSink sink;
  ProxyHarness h(Recording(sink));
  auto c = h.InterceptedClient(kCheckHost);  // trusts the proxy's CA: its leaf verifies
  const auto local = beast::get_lowest_layer(c->tls()).socket().local_endpoint();
  auto res = c->Request(Get("/", kCheckHost));
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  json j = json::parse(res.body());
  EXPECT_EQ(j["proxy"], "relaytap");
  EXPECT_EQ(j["intercepted"], true);
  EXPECT_EQ(j["scheme"], "https");
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_EQ(j["client"], "127.0.0.1:" + std::to_string(local.port()));
  EXPECT_EQ(j["ca_fingerprint"], FingerprintOfFile(h.proxy_ca_pem()));
  EXPECT_EQ(j["ca_fingerprint"].get<std::string>().size(), 95u);  // 32 bytes, colon hex
  // Keep-alive: a second request on the same connection is answered too.
  EXPECT_EQ(c->Request(Get("/again", kCheckHost)).result_int(), 200);
  EXPECT_EQ(h.upstream().request_count(), 0u);  // never dialled
  auto is_check = [](const recorder::Exchange& e) { return e.host == kCheckHost; };
  ASSERT_TRUE(sink.WaitFor<recorder::Exchange>(2, is_check));
  recorder::Exchange e = sink.Of<recorder::Exchange>(is_check)[0];
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.target, "/");
  EXPECT_EQ(e.response_body.content_type, "application/json");
  EXPECT_TRUE(e.local_error_code.empty());
}

TEST(SelfCheckTest, PlainHttpIsAnsweredToo) {
  RecordingSink sink;
  ProxyHarness h(Recording(sink));
  ProxyClient c(h.proxy_port());
  c.Write(std::string("GET http://") + kCheckHost + "/ HTTP/1.1\r\nHost: " + kCheckHost +
          "\r\nConnection: close\r\n\r\n");
  auto res = c.ReadResponse();
  ASSERT_EQ(res.result_int(), 200);
  json j = json::parse(res.body());
  EXPECT_EQ(j["proxy"], "relaytap");
  EXPECT_EQ(j["scheme"], "http");
  EXPECT_EQ(h.upstream().request_count(), 0u);
  ASSERT_TRUE(sink.WaitFor<recorder::Exchange>(
      1, [](const recorder::Exchange& e) { return e.host == kCheckHost && e.status == 200; }));
}

TEST(SelfCheckTest, AnAppThatDoesNotTrustTheCaFailsTheHandshakeAndIsRecordedAsSuch) {
  RecordingSink sink;
  ProxyHarness h(Recording(sink));
  ProxyClient c(h.proxy_port());
  ASSERT_EQ(c.Connect(kCheckHost, 443), 200);
  ::testing::internal::CaptureStderr();
  std::string err;
  EXPECT_FALSE(c.StartTls(kCheckHost, h.upstream_ca_pem(), &err));  // the wrong CA
  const bool recorded =
      sink.WaitFor<recorder::ConnectionClosed>(1, [](const recorder::ConnectionClosed& e) {
        return e.end.reason == recorder::EndReason::kClientRejectedCa;
      });
  const std::string logs = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(recorded);
  // The log says what is wrong and how to fix it, per runtime.
  EXPECT_THAT(logs, HasSubstr("the app does not trust relaytap's CA"));
  EXPECT_THAT(logs, HasSubstr("relaytap ca env"));
  EXPECT_THAT(logs, HasSubstr("NODE_EXTRA_CA_CERTS=" + h.proxy_ca_pem().string()));
  EXPECT_THAT(logs, HasSubstr("REQUESTS_CA_BUNDLE"));
}

TEST(SelfCheckTest, WebSocketAcceptFollowsRfc6455) {
  // The example of RFC 6455 section 1.3.
  EXPECT_EQ(proxy::http_relay::WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(SelfCheckTest, AWebSocketUpgradeGetsTheJsonAsOneMessageAndACleanClose) {
  RecordingSink sink;
  ProxyHarness h(Recording(sink));
  auto c = h.InterceptedClient(kCheckHost);
  namespace websocket = boost::beast::websocket;
  websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws(c->tls());
  beast::get_lowest_layer(c->tls()).expires_after(std::chrono::seconds(30));
  websocket::response_type upgrade;
  boost::system::error_code ec;
  ws.handshake(upgrade, kCheckHost, "/ws", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(upgrade.result_int(), 101);
  EXPECT_EQ(upgrade["x-relaytap-self-check"], "1");
  beast::flat_buffer message;
  ws.read(message, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(ws.got_text());
  json j = json::parse(beast::buffers_to_string(message.data()));
  EXPECT_EQ(j["proxy"], "relaytap");
  EXPECT_EQ(j["scheme"], "https");
  EXPECT_EQ(j["ca_fingerprint"], FingerprintOfFile(h.proxy_ca_pem()));
  // The next read sees relaytap's close (1000) and Beast answers it. relaytap, as the server,
  // then closes the connection first (RFC 6455 section 7.1.1), which Beast's TLS teardown may
  // report as ENOTCONN after the close handshake is done.
  ws.read(message, ec);
  EXPECT_TRUE(ec == websocket::error::closed || ec == boost::asio::error::not_connected)
      << ec.message();
  EXPECT_EQ(ws.reason().code, websocket::close_code::normal);
  EXPECT_EQ(ws.reason().reason, "self-check done");
  EXPECT_EQ(h.upstream().request_count(), 0u);
  ASSERT_TRUE(sink.WaitFor<recorder::Exchange>(
      1, [](const recorder::Exchange& e) { return e.host == kCheckHost && e.status == 101; }));
}

// What relaytap answered itself is recorded (HAR and replay show it) but is not the app's traffic
// to its upstream: stats, report and diff leave it out, so the self-checks and doctor runs of an
// incident do not dilute its failure rates. An app's exchange beside them is counted.
TEST(SelfCheckTest, ItsExchangesAreRecordedButAreNotTheAppsAttempts) {
  const std::filesystem::path dir = FreshDir("self_check_store");
  std::unique_ptr<recorder::Recorder> rec = OpenTestRecorder(dir);
  ASSERT_NE(rec, nullptr);
  ProxyHarness::Options o;
  o.intercept = {"*.openai.azure.com"};
  o.sink = rec.get();
  auto h = std::make_unique<ProxyHarness>(std::move(o));
  ASSERT_EQ(h->InterceptedClient(kCheckHost)->Request(Get("/", kCheckHost)).result_int(), 200);
  {
    auto c = h->InterceptedClient(kCheckHost);
    namespace websocket = boost::beast::websocket;
    websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws(c->tls());
    beast::get_lowest_layer(c->tls()).expires_after(std::chrono::seconds(30));
    boost::system::error_code ec;
    ws.handshake(kCheckHost, "/ws", ec);
    ASSERT_FALSE(ec) << ec.message();
    beast::flat_buffer message;
    for (int i = 0; i < 3 && !ec; ++i) ws.read(message, ec);  // the JSON, then the close
  }
  ASSERT_GT(h->InterceptedClient(kAzureHost)
                ->Request(Get("/openai/v1/responses", kAzureHost))
                .result_int(),
            0);
  h.reset();
  ASSERT_TRUE(rec->Close().ok());

  const StoreAnswers answers = ReadStoreAnswers(TestDbPath(dir));
  EXPECT_EQ(answers.exchanges.size(), 3u) << "HAR keeps what relaytap answered itself";
  ASSERT_EQ(answers.attempts.size(), 1u) << "the app's exchange only";
  EXPECT_EQ(answers.attempts[0].host, kAzureHost);
  EXPECT_FALSE(answers.attempts[0].session);
  EXPECT_EQ(answers.profiles.size(), 1u);
}

}  // namespace
}  // namespace relaytap::testing
