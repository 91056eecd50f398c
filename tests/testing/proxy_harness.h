#pragma once
// A proxy and a TLS fake upstream on 127.0.0.1:0, each with its own throwaway CA, plus a blocking
// client that goes through the proxy with CONNECT (or plain absolute-form) and trusts the proxy's
// CA. Every socket operation has a timeout so a hung relay fails one test, not the run.

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/server.h"
#include "tools/fake_upstream/fake_upstream.h"

namespace relaytap::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

inline constexpr char kAzureHost[] = "contoso.openai.azure.com";

// A fresh empty directory under the test temp dir.
std::filesystem::path FreshDir(const std::string& name);

// PEM of a leaf (cert and key) minted by a CA in `ca_dir` for `host`.
struct PemPair {
  std::string cert;
  std::string key;
};
PemPair MintLeafPem(const std::filesystem::path& ca_dir, const std::string& host);

std::string Sha256Hex(std::string_view data);

// A synchronous client connection through the proxy. After Connect() / ConnectTls() it is a
// byte stream (plain or TLS) with 30 s timeouts on every operation.
class ProxyClient {
 public:
  ProxyClient(uint16_t proxy_port);
  ~ProxyClient();

  // Sends CONNECT host:port, returns the proxy's status line code (200 on success).
  int Connect(const std::string& host, uint16_t port, std::string* response_head = nullptr);
  // TLS handshake toward `sni` trusting `ca_pem_file`. Returns false and fills *error on failure.
  bool StartTls(const std::string& sni, const std::filesystem::path& ca_pem_file,
                std::string* error = nullptr);

  void Write(std::string_view bytes);
  // Reads one complete HTTP response (any body framing).
  http::response<http::string_body> ReadResponse(bool head_request = false);
  http::response<http::string_body> Request(http::request<http::string_body> req);
  // Issuer CN of the certificate the server presented (after StartTls).
  std::string PeerIssuerCommonName();

  beast::ssl_stream<beast::tcp_stream>& tls() { return *tls_; }
  beast::tcp_stream& tcp() { return *tcp_; }
  beast::flat_buffer& buffer() { return buffer_; }
  bool is_tls() const { return tls_ != nullptr; }

 private:
  net::io_context ioc_;
  ssl::context ssl_ctx_{ssl::context::tls_client};
  std::unique_ptr<beast::tcp_stream> tcp_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

// Proxy + TLS fake upstream, wired with --connect-to kAzureHost:443 -> fake upstream.
class ProxyHarness {
 public:
  struct Options {
    std::vector<std::string> intercept = proxy::ProxyConfig::DefaultInterceptPatterns();
    std::vector<std::string> extra_connect_to;
    // More host names sent to the fake upstream (whose certificate names only kAzureHost).
    std::vector<std::string> extra_upstream_names;
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds http_idle_timeout{300'000};
    std::chrono::milliseconds head_timeout{30'000};
    std::chrono::milliseconds tunnel_idle_timeout{900'000};
    int max_connections = 0;  // 0: from the open-files limit
    // Remote mode's rules, applied though the harness listens on loopback.
    bool allow_remote = false;
    std::optional<std::filesystem::path> proxy_auth_file;
    std::vector<std::string> allow_clients;
    bool upstream_deflate = true;
    std::unique_ptr<proxy::WsObserverFactory> observers;
    recorder::Sink* sink = nullptr;             // must outlive the harness
    proxy::guard::RetryGuard* guard = nullptr;  // must outlive the harness; null: guard off
    // Faults the fake upstream injects; null: none (only its per-URL switches).
    std::shared_ptr<tools::fake_upstream::FaultModel> upstream_faults;
    // Last changes to the proxy's configuration before it starts (e.g. an upstream proxy).
    std::function<void(proxy::ProxyConfig&)> configure;
  };
  explicit ProxyHarness(Options options);
  ProxyHarness() : ProxyHarness(Options{}) {}
  ~ProxyHarness();

  uint16_t proxy_port() const { return server_->port(); }
  uint16_t upstream_port() const { return upstream_->port(); }
  tools::fake_upstream::FakeUpstream& upstream() { return *upstream_; }
  proxy::Server& server() { return *server_; }
  std::filesystem::path proxy_ca_dir() const { return proxy_ca_dir_; }
  std::filesystem::path proxy_ca_pem() const { return proxy_ca_dir_ / "relaytap-ca.pem"; }
  std::filesystem::path upstream_ca_pem() const { return upstream_ca_dir_ / "relaytap-ca.pem"; }

  // A client that has done CONNECT kAzureHost:443 and TLS with the proxy.
  std::unique_ptr<ProxyClient> InterceptedClient(const std::string& host = kAzureHost);

 private:
  std::filesystem::path proxy_ca_dir_;
  std::filesystem::path upstream_ca_dir_;
  std::unique_ptr<tools::fake_upstream::FakeUpstream> upstream_;
  std::unique_ptr<proxy::Server> server_;
};

}  // namespace relaytap::testing
