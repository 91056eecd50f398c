#include "proxy/tls/contexts.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/tls/cert_authority.h"

namespace relaytap::proxy::tls {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using SslStream = ssl::stream<tcp::socket>;

fs::path ContextsTestRoot() {
  return fs::path(::testing::TempDir()) / ("relaytap_ctx_test_" + std::to_string(::getpid()));
}

// Removes this process's scratch folders when the tests finish.
class ContextsCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(ContextsTestRoot(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kContextsCleanup =
    ::testing::AddGlobalTestEnvironment(new ContextsCleanup);

fs::path FreshCaDir(const std::string& name) {
  fs::path dir = ContextsTestRoot() / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

struct HandshakeResult {
  bool server_done = false;
  bool client_done = false;
  boost::system::error_code server_ec;
  boost::system::error_code client_ec;
  std::string server_sni;
  std::string server_alpn;
  std::string client_alpn;
  std::string client_verify_failure;
  std::string peer_cn;
};

std::string AlpnOf(SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

class ContextsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CertAuthority::LoadOrCreate(
        FreshCaDir(::testing::UnitTest::GetInstance()->current_test_info()->name()),
        {.patterns = {"*.example.test", "fallback.test", "127.0.0.1"}});
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::move(*ca);
    auto server_ctx = MakeDownstreamContext(*ca_);
    ASSERT_TRUE(server_ctx.ok()) << server_ctx.status();
    server_ctx_ = std::move(*server_ctx);
  }

  // One loopback handshake, both sides async on one io_context, bounded by a deadline.
  // `tweak_client` runs after PrepareUpstreamSsl.
  HandshakeResult Handshake(const std::optional<fs::path>& extra_roots, const std::string& host,
                            const std::string& fallback = "api.example.test",
                            const std::function<void(SSL*)>& tweak_client = nullptr) {
    HandshakeResult r;
    auto client_ctx = MakeUpstreamContext(extra_roots);
    EXPECT_TRUE(client_ctx.ok()) << client_ctx.status();
    if (!client_ctx.ok()) return r;

    net::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    std::optional<SslStream> server;
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        r.server_ec = ec;
        r.server_done = true;
        return;
      }
      server.emplace(std::move(socket), *server_ctx_);
      absl::Status st = PrepareDownstreamSsl(server->native_handle(), *ca_, fallback);
      EXPECT_TRUE(st.ok()) << st;
      server->async_handshake(ssl::stream_base::server, [&](boost::system::error_code hec) {
        r.server_ec = hec;
        r.server_sni = ServerNameOf(server->native_handle());
        r.server_alpn = AlpnOf(server->native_handle());
        r.server_done = true;
        server->next_layer().close();
      });
    });

    SslStream client(ioc, **client_ctx);
    absl::Status st = PrepareUpstreamSsl(client.native_handle(), host);
    EXPECT_TRUE(st.ok()) << st;
    if (tweak_client) tweak_client(client.native_handle());
    client.next_layer().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
      if (ec) {
        r.client_ec = ec;
        r.client_done = true;
        return;
      }
      client.async_handshake(ssl::stream_base::client, [&](boost::system::error_code hec) {
        r.client_ec = hec;
        r.client_alpn = AlpnOf(client.native_handle());
        r.client_verify_failure = VerifyFailureOf(client.native_handle());
        if (X509* peer = SSL_get0_peer_certificate(client.native_handle())) {
          char cn[256] = {};
          X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
          r.peer_cn = cn;
        }
        r.client_done = true;
        client.next_layer().close();
      });
    });
    ioc.run_for(std::chrono::seconds(20));
    EXPECT_TRUE(r.server_done && r.client_done) << "handshake timed out";
    return r;
  }

  std::unique_ptr<CertAuthority> ca_;
  std::unique_ptr<ssl::context> server_ctx_;
};

TEST_F(ContextsTest, HandshakeWithSniAndAlpn) {
  HandshakeResult r = Handshake(ca_->cert_path(), "api.example.test", "api.example.test");
  EXPECT_FALSE(r.client_ec) << r.client_ec.message() << " / " << r.client_verify_failure;
  EXPECT_FALSE(r.server_ec) << r.server_ec.message();
  EXPECT_EQ(r.client_verify_failure, "");
  EXPECT_EQ(r.client_alpn, "http/1.1");
  EXPECT_EQ(r.server_alpn, "http/1.1");
  EXPECT_EQ(r.server_sni, "api.example.test");
  EXPECT_EQ(r.peer_cn, "api.example.test");
}

// Issue #14 item 5: the leaf follows the CONNECT host, and an SNI naming another host is refused
// with a handshake_failure alert, never answered with a leaf for the SNI.
TEST_F(ContextsTest, SniOtherThanTheConnectHostIsRefused) {
  HandshakeResult r = Handshake(ca_->cert_path(), "www.example.test", "api.example.test");
  EXPECT_TRUE(r.client_ec);
  EXPECT_TRUE(r.server_ec);
  EXPECT_THAT(r.client_ec.message(), HasSubstr("handshake failure"));
  EXPECT_EQ(r.peer_cn, "");  // no certificate was presented at all
}

TEST_F(ContextsTest, SniMatchesTheConnectHostCaseInsensitively) {
  HandshakeResult r = Handshake(ca_->cert_path(), "API.Example.Test", "api.example.TEST");
  EXPECT_FALSE(r.client_ec) << r.client_ec.message() << " / " << r.client_verify_failure;
  EXPECT_EQ(r.peer_cn, "api.example.test");
}

TEST_F(ContextsTest, NoSniGetsFallbackLeaf) {
  HandshakeResult r = Handshake(ca_->cert_path(), "fallback.test", "fallback.test",
                                [](SSL* ssl) { SSL_set_tlsext_host_name(ssl, nullptr); });
  EXPECT_FALSE(r.client_ec) << r.client_ec.message() << " / " << r.client_verify_failure;
  EXPECT_EQ(r.server_sni, "");
  EXPECT_EQ(r.peer_cn, "fallback.test");
}

TEST_F(ContextsTest, IpLiteralHostVerifiesIpSanWithoutSni) {
  HandshakeResult r = Handshake(ca_->cert_path(), "127.0.0.1", "127.0.0.1");
  EXPECT_FALSE(r.client_ec) << r.client_ec.message() << " / " << r.client_verify_failure;
  EXPECT_FALSE(r.server_ec) << r.server_ec.message();
  EXPECT_EQ(r.server_sni, "");  // no SNI for IP literals
  // No CN: a DNS-like CN ("127.0.0.1") would be checked against the CA's DNS constraints.
  EXPECT_EQ(r.peer_cn, "");
}

TEST_F(ContextsTest, IpMismatchFailsVerification) {
  HandshakeResult r = Handshake(ca_->cert_path(), "127.0.0.1", "fallback.test");
  EXPECT_TRUE(r.client_ec);
  EXPECT_THAT(r.client_verify_failure, HasSubstr("mismatch"));
}

TEST_F(ContextsTest, HostnameMismatchFails) {
  HandshakeResult r = Handshake(ca_->cert_path(), "api.example.test", "api.example.test",
                                [](SSL* ssl) { SSL_set1_host(ssl, "other.example.test"); });
  EXPECT_TRUE(r.client_ec);
  EXPECT_TRUE(r.server_ec);
  EXPECT_EQ(r.server_sni, "api.example.test");
  EXPECT_EQ(r.client_verify_failure, "hostname mismatch");
}

TEST_F(ContextsTest, UntrustedCaFailsVerification) {
  HandshakeResult r = Handshake(std::nullopt, "api.example.test");
  EXPECT_TRUE(r.client_ec);
  EXPECT_NE(r.client_verify_failure, "");
  EXPECT_THAT(r.client_verify_failure, HasSubstr("issuer"));
}

TEST_F(ContextsTest, ClientWithoutAlpnStillHandshakes) {
  HandshakeResult r = Handshake(ca_->cert_path(), "api.example.test", "api.example.test",
                                [](SSL* ssl) { SSL_set_alpn_protos(ssl, nullptr, 0); });
  EXPECT_FALSE(r.client_ec) << r.client_ec.message();
  EXPECT_EQ(r.client_alpn, "");
  EXPECT_EQ(r.server_alpn, "");
}

TEST_F(ContextsTest, ClientOfferingOnlyH2GetsNoAlpn) {
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  HandshakeResult r = Handshake(ca_->cert_path(), "api.example.test", "api.example.test",
                                [](SSL* ssl) { SSL_set_alpn_protos(ssl, kH2, sizeof(kH2)); });
  EXPECT_FALSE(r.client_ec) << r.client_ec.message();
  EXPECT_EQ(r.client_alpn, "");
  EXPECT_EQ(r.server_alpn, "");
}

TEST_F(ContextsTest, ServerPicksHttp11AmongOffers) {
  static constexpr unsigned char kBoth[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  HandshakeResult r = Handshake(ca_->cert_path(), "api.example.test", "api.example.test",
                                [](SSL* ssl) { SSL_set_alpn_protos(ssl, kBoth, sizeof(kBoth)); });
  EXPECT_FALSE(r.client_ec) << r.client_ec.message();
  EXPECT_EQ(r.client_alpn, "http/1.1");
}

TEST_F(ContextsTest, Tls12HandshakeUsesConnectHostLeaf) {
  HandshakeResult r = Handshake(ca_->cert_path(), "api.example.test", "api.example.test",
                                [](SSL* ssl) { SSL_set_max_proto_version(ssl, TLS1_2_VERSION); });
  EXPECT_FALSE(r.client_ec) << r.client_ec.message() << " / " << r.client_verify_failure;
  EXPECT_EQ(r.peer_cn, "api.example.test");
  EXPECT_EQ(r.client_alpn, "http/1.1");
}

TEST_F(ContextsTest, TlsOnePointOneIsRefused) {
  HandshakeResult r =
      Handshake(ca_->cert_path(), "api.example.test", "api.example.test", [](SSL* ssl) {
        SSL_set_min_proto_version(ssl, TLS1_VERSION);
        SSL_set_max_proto_version(ssl, TLS1_1_VERSION);
      });
  EXPECT_TRUE(r.client_ec);
  EXPECT_TRUE(r.server_ec);
}

// Idle sessions must not hold OpenSSL's record buffers (issue #5, idle memory): both contexts
// release them, and every SSL made from them inherits the mode.
TEST_F(ContextsTest, BothContextsReleaseRecordBuffersWhenIdle) {
  EXPECT_NE(SSL_CTX_get_mode(server_ctx_->native_handle()) & SSL_MODE_RELEASE_BUFFERS, 0u);
  auto client_ctx = MakeUpstreamContext(std::nullopt);
  ASSERT_TRUE(client_ctx.ok()) << client_ctx.status();
  EXPECT_NE(SSL_CTX_get_mode((*client_ctx)->native_handle()) & SSL_MODE_RELEASE_BUFFERS, 0u);
  SSL* ssl = SSL_new((*client_ctx)->native_handle());
  ASSERT_NE(ssl, nullptr);
  EXPECT_NE(SSL_get_mode(ssl) & SSL_MODE_RELEASE_BUFFERS, 0u);
  SSL_free(ssl);
}

TEST(UpstreamContextTest, BadExtraRootsAreErrors) {
  fs::path dir = FreshCaDir("bad_roots");
  fs::create_directories(dir);
  auto missing = MakeUpstreamContext(dir / "nope.pem");
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope.pem"));
  std::ofstream(dir / "empty.pem") << "no certificates here\n";
  auto empty = MakeUpstreamContext(dir / "empty.pem");
  EXPECT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("empty.pem"));
  EXPECT_TRUE(MakeUpstreamContext(std::nullopt).ok());
}

TEST(UpstreamContextTest, VerifyFailureOfFreshSslIsEmpty) {
  auto ctx = MakeUpstreamContext(std::nullopt);
  ASSERT_TRUE(ctx.ok());
  SSL* ssl = SSL_new((*ctx)->native_handle());
  EXPECT_EQ(VerifyFailureOf(ssl), "");
  EXPECT_EQ(ServerNameOf(ssl), "");
  SSL_free(ssl);
}

}  // namespace
}  // namespace relaytap::proxy::tls
