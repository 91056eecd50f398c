#include "proxy/tls/host_name.h"

#include <arpa/inet.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "base/str_cat.h"

namespace relaytap::proxy::tls {
namespace {

constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxLabelLength = 63;

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool IsValidLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsLabelChar(c)) return false;
  }
  return true;
}

}  // namespace

std::string_view StripBrackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string CanonicalHost(std::string_view host) {
  host = StripBrackets(host);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  absl::AsciiStrToLower(&out);
  return out;
}

absl::StatusOr<HostName> ParseHostName(std::string_view host) {
  HostName out;
  std::string h(StripBrackets(host));
  if (::inet_pton(AF_INET, h.c_str(), out.ip) == 1) {
    out.ip_len = 4;
  } else if (::inet_pton(AF_INET6, h.c_str(), out.ip) == 1) {
    out.ip_len = 16;
  }
  if (out.ip_len != 0) {
    out.is_ip = true;
    out.text = std::move(h);
    return out;
  }
  if (h.find('*') != std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("refusing wildcard host name '", host, "': a leaf names exactly one host"));
  }
  h = CanonicalHost(h);
  bool valid = !h.empty() && h.size() <= kMaxHostLength;
  for (size_t start = 0; valid && start <= h.size();) {
    size_t dot = h.find('.', start);
    if (dot == std::string::npos) dot = h.size();
    valid = IsValidLabel(std::string_view(h).substr(start, dot - start));
    start = dot + 1;
  }
  if (!valid) {
    return absl::InvalidArgumentError(StrCat("invalid host name '", host, "'"));
  }
  out.text = std::move(h);
  return out;
}

}  // namespace relaytap::proxy::tls
