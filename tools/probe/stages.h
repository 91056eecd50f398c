#pragma once
// The transport stages of a probe (dns, tcp, tls, https), each a coroutine that fills one
// StageResult. They build one connection step by step in a Connection; the WebSocket stages
// (ws_stages.h) continue on it. Built on the proxy's vocabulary (proxy/stream/net.h), its
// --connect-to rules and its upstream TLS context and checks (proxy/tls/contexts.h).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/probe/probe.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::probe {

struct Connection {
  std::vector<tcp::endpoint> endpoints;  // from the dns stage
  std::unique_ptr<TcpStream> plain;      // set once connected (and through the proxy's CONNECT)
  std::unique_ptr<SslStream> tls;        // set once the TLS handshake verified
  beast::flat_buffer buffer;
  std::string remote;  // "ip:port" that answered
};

// Where TCP goes: the proxy, or the URL's host:port after --connect-to.
proxy::HostPort DialTarget(const ProbeOptions& o);
// The authority a proxy is asked to CONNECT to (the URL's, after --connect-to).
proxy::HostPort ConnectAuthority(const ProbeOptions& o);

net::awaitable<StageResult> DnsStage(const ProbeOptions& o, Connection& c);
net::awaitable<StageResult> TcpStage(const ProbeOptions& o, Connection& c);
net::awaitable<StageResult> TlsStage(const ProbeOptions& o, ssl::context& ctx, Connection& c);
net::awaitable<StageResult> HttpsStage(const ProbeOptions& o, Connection& c);

// A fresh connection for the next stage (after the https GET), without recording stages: the
// same dns, tcp and tls steps. Returns the error text, empty on success.
net::awaitable<std::string> Reconnect(const ProbeOptions& o, ssl::context& ctx, Connection& c);

// The Host header value for the URL ("host" or "host:port").
std::string HostHeader(const ProbeUrl& url);

// Azure and OpenAI correlation headers of a response, as a JSON object (only those present).
nlohmann::json CorrelationHeaders(const http::fields& fields);

// The error message of an Azure/OpenAI JSON error body, or the first 200 bytes of the body.
std::string ErrorMessageOf(const std::string& body);

}  // namespace relaytap::tools::probe
