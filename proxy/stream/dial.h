#pragma once
// Dialling upstream: resolve, TCP connect and (for intercepted hosts) a verified TLS client
// handshake, each phase under its own timeout. A failure says which phase failed and why, so the
// app gets an honest 502/504 instead of a hang.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "proxy/config.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "recorder/observation.h"

namespace relaytap::proxy {

// Version, cipher and ALPN of an established TLS connection.
recorder::TlsFacts TlsFactsOf(SSL* ssl);

using recorder::DialStage;
using recorder::DialStageName;  // "dns", "connect", "tls"

struct DialResult {
  std::unique_ptr<ByteStream> stream;  // set on success
  DialStage failed_stage = DialStage::kNone;
  bool timed_out = false;
  // Remote mode refused the destination: it resolved to an internal address and no --connect-to
  // rule maps it there (the stage is kConnect: nothing was dialled).
  bool forbidden = false;
  std::string reason;          // human-readable, no secrets
  std::string remote_address;  // "ip:port" actually connected to
  int64_t dns_us = -1, connect_us = -1, tls_us = -1;
  std::optional<recorder::TlsFacts> tls;
  bool ok() const { return stream != nullptr; }
};

// A failed dial as the end of a connection or exchange: upstream_<stage>_failed / _timeout.
recorder::EndFacts DialEnd(const DialResult& d);

// Dials `target` (after applying --connect-to). With `tls_ctx`, performs a TLS handshake that
// verifies the certificate for `target.host` (SNI and name checks use the original host even
// when --connect-to redirects the TCP connection).
net::awaitable<DialResult> DialUpstream(const ProxyConfig& config, ssl::context* tls_ctx,
                                        HostPort target);

}  // namespace relaytap::proxy
