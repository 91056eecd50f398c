#pragma once
// The names relaytap's CA will put in a leaf: one DNS name (lower-cased, no trailing dot, labels
// of 1..63 letters, digits, '-' or '_' without a leading or trailing '-', 253 in all) or one
// IPv4/IPv6 literal (brackets removed). No wildcard: `*` anywhere is refused.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace relaytap::proxy::tls {

struct HostName {
  std::string text;  // "api.example.com", "127.0.0.1", "::1"
  bool is_ip = false;
  unsigned char ip[16] = {};
  int ip_len = 0;  // 4 or 16 when is_ip
};

// InvalidArgument naming the host for anything else.
absl::StatusOr<HostName> ParseHostName(std::string_view host);

// "[::1]" without its brackets; any other text as it is.
std::string_view StripBrackets(std::string_view host);

// Lower-cased, brackets and one trailing dot removed: the form in which two names are compared.
std::string CanonicalHost(std::string_view host);

}  // namespace relaytap::proxy::tls
