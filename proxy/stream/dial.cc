#include "proxy/stream/dial.h"

#include <chrono>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/stream/address.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/tls_byte_stream.h"
#include "proxy/tls/contexts.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

int64_t MicrosSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

DialResult Failure(DialStage stage, const error_code& ec, std::string reason = {}) {
  DialResult r;
  r.failed_stage = stage;
  r.timed_out = IsTimeout(ec);
  r.reason = reason.empty() ? DescribeError(ec) : std::move(reason);
  return r;
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
  return e;
}

recorder::TlsFacts TlsFactsOf(SSL* ssl) {
  recorder::TlsFacts f;
  if (ssl == nullptr) return f;
  f.version = SSL_get_version(ssl);
  if (const char* c = SSL_get_cipher_name(ssl)) f.cipher = c;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn != nullptr) f.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  return f;
}

net::awaitable<DialResult> DialUpstream(const ProxyConfig& config, ssl::context* tls_ctx,
                                        HostPort target) {
  auto ex = co_await net::this_coro::executor;
  HostPort dial = ResolveConnectTo(config.connect_to, target);

  auto t0 = Clock::now();
  Resolver resolver(ex);
  Timer timer(ex);
  timer.expires_after(config.connect_timeout);
  auto raced =
      co_await (resolver.async_resolve(dial.host, std::to_string(dial.port)) || timer.async_wait());
  if (raced.index() == 1) {
    co_return Failure(DialStage::kDns, net::error::timed_out,
                      StrCat("resolving ", dial.host, " timed out"));
  }
  auto [rec, endpoints] = std::get<0>(std::move(raced));
  if (rec) {
    co_return Failure(DialStage::kDns, rec,
                      StrCat("cannot resolve ", dial.host, ": ", DescribeError(rec)));
  }
  int64_t dns_us = MicrosSince(t0);
  // Remote mode: nobody on the network may reach this machine's loopback or the site's private
  // ranges through relaytap, unless --connect-to sends the target there on purpose. The check is
  // on the resolved addresses, the ones that are then dialled.
  if (config.allow_remote && !FindConnectTo(config.connect_to, target)) {
    for (const auto& entry : endpoints) {
      if (!IsInternalAddress(entry.endpoint().address())) continue;
      DialResult r;
      r.failed_stage = DialStage::kConnect;
      r.forbidden = true;
      r.reason = StrCat(dial.host, " resolves to ", entry.endpoint().address().to_string(),
                        ", an internal address, which remote mode does not dial (map it with "
                        "--connect-to to allow it)");
      co_return r;
    }
  }

  auto t1 = Clock::now();
  TcpStream tcp_stream(ex);
  tcp_stream.expires_after(config.connect_timeout);
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints);
  if (cec) {
    co_return Failure(
        DialStage::kConnect, cec,
        StrCat("connecting to ", dial.host, ":", dial.port, ": ", DescribeError(cec)));
  }
  tcp_stream.expires_never();
  error_code ignored;
  tcp_stream.socket().set_option(tcp::no_delay(true), ignored);
  std::string remote = StrCat(ep.address().to_string(), ":", ep.port());
  int64_t connect_us = MicrosSince(t1);

  DialResult result;
  result.dns_us = dns_us;
  result.connect_us = connect_us;
  result.remote_address = remote;
  if (tls_ctx == nullptr) {
    result.stream = MakeTcpByteStream(std::move(tcp_stream));
    co_return result;
  }

  auto t2 = Clock::now();
  auto made = TlsByteStream::Create(std::move(tcp_stream), *tls_ctx, TlsRole::kClient);
  if (!made.ok()) co_return Failure(DialStage::kTls, {}, std::string(made.status().message()));
  std::unique_ptr<TlsByteStream> tls_stream = *std::move(made);
  if (absl::Status st = tls::PrepareUpstreamSsl(tls_stream->native_handle(), target.host);
      !st.ok()) {
    co_return Failure(DialStage::kTls, {}, std::string(st.message()));
  }
  error_code hec = co_await tls_stream->Handshake(config.handshake_timeout);
  if (hec) {
    std::string verify = tls::VerifyFailureOf(tls_stream->native_handle());
    co_return Failure(DialStage::kTls, hec,
                      StrCat("TLS handshake with ", target.host, " (", remote, "): ",
                             verify.empty() ? DescribeError(hec)
                                            : StrCat("certificate verify failed: ", verify)));
  }
  result.tls_us = MicrosSince(t2);
  result.tls = TlsFactsOf(tls_stream->native_handle());
  result.stream = std::move(tls_stream);
  co_return result;
}

}  // namespace relaytap::proxy
