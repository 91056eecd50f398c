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
// fine), and an SNI callback that installs the leaf minted by `ca` for the requested name. `ca`
// must outlive the context.
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeDownstreamContext(CertAuthority& ca);

// Before the server handshake on `ssl`: installs the leaf for `fallback_host` (the CONNECT host),
// used when the client sends no SNI. The SNI callback replaces it when SNI names another host.
absl::Status PrepareDownstreamSsl(SSL* ssl, CertAuthority& ca, std::string_view fallback_host);

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
