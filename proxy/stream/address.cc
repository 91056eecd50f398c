#include "proxy/stream/address.h"

#include "base/str_cat.h"

namespace relaytap::proxy {
namespace {

// The address as 16 bytes (IPv4 as IPv4-mapped IPv6), so one comparison serves both families.
net::ip::address_v6::bytes_type Bytes16(const net::ip::address& a) {
  if (a.is_v4()) return net::ip::make_address_v6(net::ip::v4_mapped, a.to_v4()).to_bytes();
  return a.to_v6().to_bytes();
}

}  // namespace

absl::StatusOr<Cidr> ParseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  error_code ec;
  const std::string host(text.substr(0, slash));
  Cidr c;
  c.network = net::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("--allow-client ", text, ": not an address"));
  const int max = c.network.is_v4() ? 32 : 128;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string bits(text.substr(slash + 1));
    if (bits.empty() || bits.size() > 3 ||
        bits.find_first_not_of("0123456789") != std::string::npos || std::stoi(bits) > max) {
      return absl::InvalidArgumentError(
          StrCat("--allow-client ", text, ": prefix length must be 0 to ", max));
    }
    c.prefix = std::stoi(bits);
  }
  return c;
}

bool CidrContains(const Cidr& cidr, const net::ip::address& address) {
  const auto net = Bytes16(cidr.network);
  const auto addr = Bytes16(address);
  // An IPv4 network covers the IPv4-mapped range: its first 96 bits are ::ffff:, so an IPv6
  // address outside it never matches.
  int bits = cidr.network.is_v4() ? cidr.prefix + 96 : cidr.prefix;
  for (size_t i = 0; i < net.size() && bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if ((net[i] & mask) != (addr[i] & mask)) return false;
  }
  return true;
}

bool IsInternalAddress(const net::ip::address& address) {
  if (address.is_unspecified() || address.is_loopback()) return true;
  if (address.is_v6()) {
    const net::ip::address_v6 v6 = address.to_v6();
    if (v6.is_v4_mapped())
      return IsInternalAddress(net::ip::make_address_v4(net::ip::v4_mapped, v6));
    if (v6.is_link_local() || v6.is_site_local() || v6.is_multicast()) return true;
    return (v6.to_bytes()[0] & 0xfe) == 0xfc;  // fc00::/7, unique local
  }
  static const char* const kInternalV4[] = {"0.0.0.0/8",      "10.0.0.0/8",     "100.64.0.0/10",
                                            "127.0.0.0/8",    "169.254.0.0/16", "172.16.0.0/12",
                                            "192.168.0.0/16", "224.0.0.0/4"};
  for (const char* c : kInternalV4) {
    if (CidrContains(*ParseCidr(c), address)) return true;
  }
  return false;
}

}  // namespace relaytap::proxy
