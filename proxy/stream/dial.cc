#include "proxy/stream/dial.h"

#include <arpa/inet.h>

#include <chrono>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/stream/address.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/tls_byte_stream.h"
#include "proxy/stream/upstream_proxy.h"
#include "proxy/tls/contexts.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

int64_t MicrosSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

// Marks `r` failed at `stage`, keeping what it learned so far.
void Fail(DialResult& r, DialStage stage, const error_code& ec, std::string reason = {}) {
  r.stream.reset();
  r.failed_stage = stage;
  r.timed_out = IsTimeout(ec);
  r.reason = reason.empty() ? DescribeError(ec) : std::move(reason);
}

// Remote mode refused the destination (the stage is kConnect: nothing was dialled).
void Forbid(DialResult& r, std::string reason) {
  r.failed_stage = DialStage::kConnect;
  r.forbidden = true;
  r.reason = std::move(reason);
}

// The stages a failure is put down to: the upstream proxy's for every step toward it.
struct Stages {
  DialStage dns = DialStage::kDns;
  DialStage connect = DialStage::kConnect;
};

// Remote mode through an upstream proxy: the proxy resolves the name, so only an internal address
// written as such (or localhost) can be refused here.
bool IsInternalLiteral(const std::string& host) {
  if (IsLoopbackHost(host)) return true;
  error_code ec;
  const net::ip::address a = net::ip::make_address(host, ec);
  return !ec && IsInternalAddress(a);
}

// Resolves and connects to `to` (the upstream or the upstream proxy). On failure fills `r` and
// returns nullopt.
Awaitable<std::optional<TcpStream>> ConnectTcp(const ProxyConfig& config, const HostPort& to,
                                               bool check_internal, Stages stages, DialResult& r) {
  auto ex = co_await net::this_coro::executor;
  auto t0 = Clock::now();
  Resolver resolver(ex);
  Timer timer(ex);
  timer.expires_after(config.connect_timeout);
  auto raced =
      co_await (resolver.async_resolve(to.host, std::to_string(to.port)) || timer.async_wait());
  if (raced.index() == 1) {
    Fail(r, stages.dns, net::error::timed_out, StrCat("resolving ", to.host, " timed out"));
    co_return std::nullopt;
  }
  auto [rec, endpoints] = std::get<0>(std::move(raced));
  if (rec) {
    Fail(r, stages.dns, rec, StrCat("cannot resolve ", to.host, ": ", DescribeError(rec)));
    co_return std::nullopt;
  }
  r.dns_us = MicrosSince(t0);
  // Remote mode: nobody on the network may reach this machine's loopback or the site's private
  // ranges through relaytap, unless --connect-to sends the target there on purpose. The check is
  // on the resolved addresses, the ones that are then dialled.
  for (const auto& entry : endpoints) {
    if (!check_internal || !IsInternalAddress(entry.endpoint().address())) continue;
    Forbid(r, StrCat(to.host, " resolves to ", entry.endpoint().address().to_string(),
                     ", an internal address, which remote mode does not dial (map it with "
                     "--connect-to to allow it)"));
    co_return std::nullopt;
  }
  auto t1 = Clock::now();
  TcpStream tcp_stream(ex);
  tcp_stream.expires_after(config.connect_timeout);
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints);
  if (cec) {
    Fail(r, stages.connect, cec,
         StrCat("connecting to ", to.host, ":", to.port, ": ", DescribeError(cec)));
    co_return std::nullopt;
  }
  tcp_stream.expires_never();
  error_code ignored;
  tcp_stream.socket().set_option(tcp::no_delay(true), ignored);
  r.remote_address = StrCat(ep.address().to_string(), ":", ep.port());
  r.connect_us = MicrosSince(t1);
  co_return std::optional<TcpStream>(std::move(tcp_stream));
}

// Asks the upstream proxy for a tunnel to `dial`; false (and `r` filled) when it did not give one.
Awaitable<bool> OpenProxyTunnel(const ProxyConfig& config, TcpStream& tcp_stream,
                                const HostPort& dial, DialResult& r) {
  auto t0 = Clock::now();
  ProxyConnectResult pc = co_await ConnectThroughProxy(tcp_stream, *config.upstream_proxy, dial,
                                                       config.connect_timeout);
  r.proxy_status = pc.status;
  if (!pc.ok()) {
    Fail(r, DialStage::kProxy, pc.ec, pc.reason);
    co_return false;
  }
  r.proxy_connect_us = MicrosSince(t0);
  co_return true;
}

// The TCP connection to the upstream proxy and its tunnel to `dial`; every failure on the way is
// the proxy stage's.
Awaitable<std::optional<TcpStream>> ConnectViaProxy(const ProxyConfig& config, const HostPort& dial,
                                                    bool remote_checks, DialResult& r) {
  const HostPort& proxy = config.upstream_proxy->address;
  r.upstream_proxy = Authority(proxy);
  if (remote_checks && IsInternalLiteral(dial.host)) {
    Forbid(r, StrCat(dial.host,
                     " is an internal address, which remote mode does not dial (map "
                     "it with --connect-to to allow it)"));
    co_return std::nullopt;
  }
  std::optional<TcpStream> tcp_stream = co_await ConnectTcp(
      config, proxy, /*check_internal=*/false, Stages{DialStage::kProxy, DialStage::kProxy}, r);
  if (!tcp_stream) {
    r.reason = StrCat("upstream proxy: ", r.reason);
    co_return std::nullopt;
  }
  if (!co_await OpenProxyTunnel(config, *tcp_stream, dial, r)) co_return std::nullopt;
  co_return std::move(tcp_stream);
}

// The TCP connection that carries the dial: to the upstream itself, or a tunnel through the
// upstream proxy. (Not `cond ? co_await a : co_await b`: g++ 12 mishandles the temporaries of
// co_await in a conditional expression, and the stream's socket arrived closed.)
Awaitable<std::optional<TcpStream>> OpenTcp(const ProxyConfig& config, const HostPort& target,
                                            const HostPort& dial, bool remote_checks,
                                            DialResult& r) {
  if (UsesUpstreamProxy(config, target)) {
    co_return co_await ConnectViaProxy(config, dial, remote_checks, r);
  }
  co_return co_await ConnectTcp(config, dial, remote_checks, Stages{}, r);
}

// The verified TLS client handshake for `target.host` over the connection.
Awaitable<DialResult> HandshakeTls(const ProxyConfig& config, ssl::context& tls_ctx,
                                   const HostPort& target, TcpStream tcp_stream, DialResult r) {
  auto t0 = Clock::now();
  auto made = TlsByteStream::Create(std::move(tcp_stream.socket()), tls_ctx, TlsRole::kClient);
  absl::Status st =
      made.ok() ? tls::PrepareUpstreamSsl((*made)->native_handle(), target.host) : made.status();
  if (!st.ok()) {
    Fail(r, DialStage::kTls, {}, std::string(st.message()));
    co_return r;
  }
  std::unique_ptr<TlsByteStream> tls_stream = *std::move(made);
  error_code hec = co_await tls_stream->Handshake(config.handshake_timeout);
  if (hec) {
    std::string verify = tls::VerifyFailureOf(tls_stream->native_handle());
    Fail(r, DialStage::kTls, hec,
         StrCat(
             "TLS handshake with ", target.host, " (", r.remote_address,
             r.upstream_proxy.empty() ? "" : " via upstream proxy", "): ",
             verify.empty() ? DescribeError(hec) : StrCat("certificate verify failed: ", verify)));
    co_return r;
  }
  r.tls_us = MicrosSince(t0);
  r.tls = TlsFactsOf(tls_stream->native_handle());
  r.tls->issuer = UpstreamChainIssuer(tls_stream->native_handle());
  r.stream = std::move(tls_stream);
  co_return r;
}

std::string NameText(X509_NAME* name) {
  if (name == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(bio);
  return out;
}

}  // namespace

recorder::EndFacts DialEnd(const DialResult& d) {
  recorder::EndFacts e;
  if (d.forbidden) {
    e.reason = recorder::EndReason::kDestinationForbidden;
    return e;
  }
  e.reason = d.timed_out ? recorder::EndReason::kUpstreamDialTimeout
                         : recorder::EndReason::kUpstreamDialFailed;
  e.dial_stage = d.failed_stage;
  e.proxy_status = d.failed_stage == DialStage::kProxy ? d.proxy_status : 0;
  return e;
}

void NoteDialFacts(const DialResult& d, ConnectionFacts& facts) {
  if (!d.upstream_proxy.empty()) {
    facts.upstream_proxy = d.upstream_proxy;
    facts.proxy_status = d.proxy_status;
  }
  if (!d.ok()) return;
  facts.upstream_address = d.remote_address;
  if (facts.dialled) return;
  facts.dialled = true;
  facts.dns_us = d.dns_us;
  facts.connect_us = d.connect_us;
  facts.proxy_connect_us = d.proxy_connect_us;
  facts.tls_us = d.tls_us;
  facts.upstream_tls = d.tls;
}

recorder::TlsFacts TlsFactsOf(SSL* ssl) {
  recorder::TlsFacts f;
  if (ssl == nullptr) return f;
  f.version = SSL_get_version(ssl);  // static strings: see TlsFacts
  if (const char* c = SSL_get_cipher_name(ssl)) f.cipher = c;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn != nullptr) f.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  return f;
}

std::string UpstreamChainIssuer(SSL* ssl) {
  if (ssl == nullptr) return "";
  if (STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl); chain && sk_X509_num(chain) > 0) {
    return NameText(X509_get_subject_name(sk_X509_value(chain, sk_X509_num(chain) - 1)));
  }
  if (STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl); sent && sk_X509_num(sent) > 0) {
    return NameText(X509_get_issuer_name(sk_X509_value(sent, sk_X509_num(sent) - 1)));
  }
  return "";
}

Awaitable<DialResult> DialUpstream(const ProxyConfig& config, ssl::context* tls_ctx,
                                   HostPort target) {
  const HostPort dial = ResolveConnectTo(config.connect_to, target);
  const bool remote_checks = config.allow_remote && !FindConnectTo(config.connect_to, target);
  DialResult r;
  std::optional<TcpStream> tcp_stream = co_await OpenTcp(config, target, dial, remote_checks, r);
  if (!tcp_stream) co_return r;
  if (tls_ctx == nullptr) {
    r.stream = MakeTcpByteStream(std::move(tcp_stream->socket()));
    co_return r;
  }
  co_return co_await HandshakeTls(config, *tls_ctx, target, std::move(*tcp_stream), std::move(r));
}

}  // namespace relaytap::proxy
