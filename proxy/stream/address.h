#pragma once
// Address ranges: CIDR networks (remote mode's client allowlist) and the internal ranges remote
// mode never dials unless --connect-to maps a target there. Pure.

#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

struct Cidr {
  net::ip::address network;
  int prefix = 0;
};
// "10.0.0.0/8", "fd00::/8", or one address ("192.0.2.7" = /32, "::1" = /128).
absl::StatusOr<Cidr> ParseCidr(std::string_view text);
bool CidrContains(const Cidr& cidr, const net::ip::address& address);

// Loopback, unspecified, link-local, private (RFC 1918, fc00::/7), shared (100.64.0.0/10), and
// IPv4-mapped IPv6 forms of those.
bool IsInternalAddress(const net::ip::address& address);

}  // namespace relaytap::proxy
