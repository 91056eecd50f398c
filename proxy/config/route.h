#pragma once
// Pure routing: does a CONNECT target get intercepted (TLS terminated and relayed as HTTP) or
// tunnelled (a blind byte pump)?

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace relaytap::proxy {

enum class Route { kIntercept, kTunnel };
std::string_view RouteName(Route r);  // "intercept" / "tunnel"

// Patterns: "*" (everything), "*.example.com" (any subdomain at any depth, not the apex),
// "api.openai.com" (exact). Case-insensitive; a trailing dot on the host is ignored.
bool HostMatchesPattern(std::string_view host, std::string_view pattern);
absl::Status ValidatePattern(std::string_view pattern);

// The self-check host (proxy/tls/self_check_host.h) is always intercepted.
Route Decide(std::string_view host, const std::vector<std::string>& intercept_patterns);

}  // namespace relaytap::proxy
