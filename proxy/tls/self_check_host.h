#pragma once
// relaytap's self-check host: requests through the proxy to https://check.relaytap.invalid/ (or
// plain http://) are answered by relaytap itself, never dialled. The name is always intercepted
// and always inside the CA's name constraints, whatever the intercept patterns say. `.invalid`
// (RFC 2606) can never resolve, so the answer can only have come from relaytap.

#include <string_view>

#include "base/ascii.h"

namespace relaytap::proxy {

inline constexpr std::string_view kSelfCheckHost = "check.relaytap.invalid";

// Case-insensitive; a trailing dot is ignored.
inline bool IsSelfCheckHost(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return AsciiStrToLower(host) == kSelfCheckHost;
}

}  // namespace relaytap::proxy
