#pragma once
// ssl::context factories for both sides of an intercepted connection.

#include <boost/asio/ssl.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/tls/cert_authority.h"

namespace relaytap::proxy::tls {

// Server context toward apps: TLS 1.2+, ALPN selects only "http/1.1" (no ALPN from the client is
// fine), and an SNI callback that applies the SniPolicy PrepareDownstreamSsl set. `ca` must
// outlive the context.
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeDownstreamContext(CertAuthority& ca);

enum class SniPolicy {
  // The proxy: the leaf is for the CONNECT host, whatever the SNI; an SNI naming another host
  // (compared case-insensitively, a trailing dot ignored) is refused with a handshake_failure
  // alert. No SNI is fine.
  kMustMatchHost,
  // A local server for several names (replay): the SNI picks the leaf, within the CA's
  // constraints; `host`'s leaf serves clients without SNI.
  kSelectsLeaf,
};

// Before the server handshake on `ssl`: installs the leaf for `host` (the CONNECT host) and
// sets how the SNI callback treats the client's SNI.
absl::Status PrepareDownstreamSsl(SSL* ssl, CertAuthority& ca, std::string_view host,
                                  SniPolicy policy = SniPolicy::kMustMatchHost);

// After a failed server handshake: the SNI refused under kMustMatchHost (printable ASCII, at most
// 253 characters, others shown as '?'), or empty.
std::string RefusedSniOf(SSL* ssl);

// After a completed server handshake: frees what PrepareDownstreamSsl attached for the SNI
// callback, which cannot run again (renegotiation is off; TLS 1.3 has none), so that a session
// idling for hours keeps none of it.
void ReleaseDownstreamName(SSL* ssl);

// The SNI name the client sent on `ssl` after the handshake, or empty.
std::string ServerNameOf(SSL* ssl);

// Client context toward upstream: TLS 1.2+, verify_peer always, the system default roots plus the
// PEM roots in `extra_roots` when given, ALPN offers only "http/1.1".
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeUpstreamContext(
    const std::optional<std::filesystem::path>& extra_roots);

// Before the client handshake on `ssl`: sets SNI (DNS names only) and host name / IP verification
// for `host`.
absl::Status PrepareUpstreamSsl(SSL* ssl, std::string_view host);

// Describes the verification failure on `ssl` after a failed handshake (X509 verify result text),
// or empty if verification did not fail.
std::string VerifyFailureOf(SSL* ssl);

}  // namespace relaytap::proxy::tls
