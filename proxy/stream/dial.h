#pragma once
// Dialling upstream: resolve, TCP connect, CONNECT through the upstream proxy when one is set and
// not bypassed for the host, and (for intercepted hosts) a verified TLS client handshake, each
// phase under its own timeout. A failure says which phase failed and why, so the app gets an
// honest 502/504 instead of a hang.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "proxy/config/config.h"
#include "proxy/connection_facts.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "recorder/observation.h"

namespace relaytap::proxy {

// Version, cipher and ALPN of an established TLS connection.
recorder::TlsFacts TlsFactsOf(SSL* ssl);

using recorder::DialStage;
using recorder::DialStageName;  // "dns", "connect", "tls", "proxy"

struct DialResult {
  std::unique_ptr<ByteStream> stream;  // set on success
  DialStage failed_stage = DialStage::kNone;
  bool timed_out = false;
  // Remote mode refused the destination: it resolved to an internal address and no --connect-to
  // rule maps it there (the stage is kConnect: nothing was dialled).
  bool forbidden = false;
  std::string reason;          // human-readable, no secrets
  std::string remote_address;  // "ip:port" actually connected to
  // Through an upstream proxy: its HOST:PORT (never credentials), its status to CONNECT (0: no
  // answer) and the CONNECT's time. dns_us and connect_us are then those of the proxy.
  std::string upstream_proxy;
  int proxy_status = 0;
  int64_t proxy_connect_us = -1;
  int64_t dns_us = -1, connect_us = -1, tls_us = -1;
  std::optional<recorder::TlsFacts> tls;
  bool ok() const { return stream != nullptr; }
};

// A failed dial as the end of a connection or exchange: upstream_<stage>_failed / _timeout (the
// upstream proxy's status with it).
recorder::EndFacts DialEnd(const DialResult& d);

// Copies what a dial learned into the connection's facts: the upstream proxy always, the address,
// timings and TLS facts of the first successful dial.
void NoteDialFacts(const DialResult& d, ConnectionFacts& facts);

// Subject (RFC 2253) of the trust anchor an upstream chain was verified against; without a
// verified chain, the issuer of the last certificate the peer sent. "" without a certificate.
std::string UpstreamChainIssuer(SSL* ssl);

// Dials `target` (after applying --connect-to). With `tls_ctx`, performs a TLS handshake that
// verifies the certificate for `target.host` (SNI and name checks use the original host even
// when --connect-to redirects the TCP connection, or an upstream proxy carries it: its CONNECT
// names the --connect-to target).
Awaitable<DialResult> DialUpstream(const ProxyConfig& config, ssl::context* tls_ctx,
                                   HostPort target);

}  // namespace relaytap::proxy
