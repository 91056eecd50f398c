#include "tests/testing/proxy_harness.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "proxy/tls/cert_authority.h"
#include "tests/testing/temp_dir.h"

namespace relaytap::testing {
namespace {

constexpr auto kIoTimeout = std::chrono::seconds(30);

std::string KeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

std::filesystem::path FreshDir(const std::string& name) { return FreshTempDir(name); }

PemPair MintLeafPem(const std::filesystem::path& ca_dir, const std::string& host) {
  auto ca = proxy::tls::CertAuthority::LoadOrCreate(
      ca_dir, {.patterns = proxy::ProxyConfig::DefaultInterceptPatterns()});
  if (!ca.ok()) throw std::runtime_error(std::string(ca.status().message()));
  auto leaf = (*ca)->LeafFor(host);
  if (!leaf.ok()) throw std::runtime_error(std::string(leaf.status().message()));
  return PemPair{(*leaf)->cert_pem, KeyPem((*leaf)->key.get())};
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

ProxyClient::ProxyClient(uint16_t proxy_port) {
  tcp_ = std::make_unique<beast::tcp_stream>(ioc_);
  tcp_->expires_after(kIoTimeout);
  tcp_->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), proxy_port));
}

ProxyClient::~ProxyClient() = default;

int ProxyClient::Connect(const std::string& host, uint16_t port, std::string* response_head) {
  std::string req = "CONNECT " + host + ":" + std::to_string(port) + " HTTP/1.1\r\nHost: " + host +
                    ":" + std::to_string(port) + "\r\n\r\n";
  Write(req);
  // Read exactly the CONNECT response head; TLS bytes may follow.
  http::response_parser<http::empty_body> p;
  p.skip(true);
  tcp_->expires_after(kIoTimeout);
  http::read_header(*tcp_, buffer_, p);
  if (response_head) *response_head = std::to_string(p.get().result_int());
  return p.get().result_int();
}

bool ProxyClient::StartTls(const std::string& sni, const std::filesystem::path& ca_pem_file,
                           std::string* error) {
  ssl_ctx_.set_verify_mode(ssl::verify_peer);
  ssl_ctx_.load_verify_file(ca_pem_file.string());
  SSL_CTX_set_min_proto_version(ssl_ctx_.native_handle(), TLS1_2_VERSION);
  tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*tcp_), ssl_ctx_);
  SSL_set_tlsext_host_name(tls_->native_handle(), sni.c_str());
  SSL_set1_host(tls_->native_handle(), sni.c_str());
  beast::get_lowest_layer(*tls_).expires_after(kIoTimeout);
  boost::system::error_code ec;
  tls_->handshake(ssl::stream_base::client, ec);
  if (ec && error) *error = ec.message();
  return !ec;
}

void ProxyClient::Write(std::string_view bytes) {
  if (tls_) {
    beast::get_lowest_layer(*tls_).expires_after(kIoTimeout);
    net::write(*tls_, net::buffer(bytes));
  } else {
    tcp_->expires_after(kIoTimeout);
    net::write(*tcp_, net::buffer(bytes));
  }
}

http::response<http::string_body> ProxyClient::ReadResponse(bool head_request) {
  http::response_parser<http::string_body> p;
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (head_request) p.skip(true);
  if (tls_) {
    beast::get_lowest_layer(*tls_).expires_after(kIoTimeout);
    http::read(*tls_, buffer_, p);
  } else {
    tcp_->expires_after(kIoTimeout);
    http::read(*tcp_, buffer_, p);
  }
  return p.release();
}

http::response<http::string_body> ProxyClient::Request(http::request<http::string_body> req) {
  req.prepare_payload();
  if (tls_) {
    beast::get_lowest_layer(*tls_).expires_after(kIoTimeout);
    http::write(*tls_, req);
  } else {
    tcp_->expires_after(kIoTimeout);
    http::write(*tcp_, req);
  }
  return ReadResponse(req.method() == http::verb::head);
}

std::string ProxyClient::PeerIssuerCommonName() {
  X509* cert = SSL_get1_peer_certificate(tls_->native_handle());
  if (!cert) return "";
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_commonName, buf, sizeof(buf));
  X509_free(cert);
  return buf;
}

ProxyHarness::ProxyHarness(Options options) {
  proxy_ca_dir_ = FreshDir("proxy_ca");
  upstream_ca_dir_ = FreshDir("upstream_ca");
  PemPair leaf = MintLeafPem(upstream_ca_dir_, kAzureHost);
  tools::fake_upstream::Options fo;
  fo.cert_pem = leaf.cert;
  fo.key_pem = leaf.key;
  fo.permessage_deflate = options.upstream_deflate;
  fo.faults = options.upstream_faults;
  auto up = tools::fake_upstream::FakeUpstream::Start(fo);
  if (!up.ok()) throw std::runtime_error(std::string(up.status().message()));
  upstream_ = std::move(*up);

  proxy::ProxyConfig config;
  config.listen = {"127.0.0.1", 0};
  config.ca_dir = proxy_ca_dir_;
  config.upstream_ca = upstream_ca_dir_ / "relaytap-ca.pem";
  config.intercept = options.intercept;
  config.handshake_timeout = options.handshake_timeout;
  config.http_idle_timeout = options.http_idle_timeout;
  config.head_timeout = options.head_timeout;
  config.tunnel_idle_timeout = options.tunnel_idle_timeout;
  config.max_connections = options.max_connections;
  config.allow_remote = options.allow_remote;
  config.proxy_auth_file = options.proxy_auth_file;
  config.allow_clients = options.allow_clients;
  config.threads = 2;
  std::string port = std::to_string(upstream_->port());
  config.connect_to.push_back(
      *proxy::ParseConnectTo(std::string(kAzureHost) + ":443:127.0.0.1:" + port));
  for (const std::string& name : options.extra_upstream_names) {
    config.connect_to.push_back(*proxy::ParseConnectTo(name + ":443:127.0.0.1:" + port));
  }
  for (const std::string& r : options.extra_connect_to) {
    config.connect_to.push_back(*proxy::ParseConnectTo(r));
  }
  if (options.configure) options.configure(config);
  auto server =
      proxy::Server::Start(config, std::move(options.observers), options.sink, options.guard);
  if (!server.ok()) throw std::runtime_error(std::string(server.status().message()));
  server_ = std::move(*server);
}

ProxyHarness::~ProxyHarness() {
  server_->Shutdown(std::chrono::milliseconds(2000));
  upstream_->Stop();
}

std::unique_ptr<ProxyClient> ProxyHarness::InterceptedClient(const std::string& host) {
  auto c = std::make_unique<ProxyClient>(proxy_port());
  if (c->Connect(host, 443) != 200) throw std::runtime_error("CONNECT refused");
  std::string error;
  if (!c->StartTls(host, proxy_ca_pem(), &error)) {
    throw std::runtime_error("TLS with the proxy failed: " + error);
  }
  return c;
}

}  // namespace relaytap::testing
