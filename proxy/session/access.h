#pragma once
// Who may use the proxy, and where it may go, when it listens beyond loopback (--allow-remote).
// An open intercepting proxy on a machine that trusts its CA is dangerous: remote mode requires
// Basic proxy credentials (--proxy-auth-file, compared in constant time) or a client allowlist
// (--allow-client CIDR), and refuses to dial loopback, link-local and private addresses for
// anyone unless --connect-to maps the target there.
//
// Thread-safe: immutable after Load().

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/config/config.h"
#include "proxy/stream/address.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

class ProxyAccess {
 public:
  // Reads the auth file (lines "user:password"; blank lines and lines starting with '#' are
  // skipped) and parses the allowlist. Errors name the file or the CIDR, never a credential.
  static absl::StatusOr<ProxyAccess> Load(const ProxyConfig& config);

  bool remote_mode() const { return remote_mode_; }
  bool requires_auth() const { return !tokens_.empty(); }
  // True when there is no allowlist, or `client` is in it.
  bool ClientAllowed(const net::ip::address& client) const;
  // True when no credentials are required, or `proxy_authorization` (the header's value) is
  // "Basic <base64 of one user:password of the file>"; every entry is compared in constant time.
  bool Authorized(std::string_view proxy_authorization) const;

 private:
  bool remote_mode_ = false;
  std::vector<std::string> tokens_;  // base64("user:password"), as the header carries them
  std::vector<Cidr> allow_;
};

}  // namespace relaytap::proxy
