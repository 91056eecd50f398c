#include "proxy/config/route.h"

#include <cctype>

#include "base/ascii.h"
#include "proxy/tls/self_check_host.h"

namespace relaytap::proxy {
namespace {

std::string Normalize(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return AsciiStrToLower(host);
}

}  // namespace

std::string_view RouteName(Route r) { return r == Route::kIntercept ? "intercept" : "tunnel"; }

bool HostMatchesPattern(std::string_view host_in, std::string_view pattern_in) {
  if (pattern_in == "*") return true;
  std::string host = Normalize(host_in);
  std::string pattern = Normalize(pattern_in);
  if (pattern.starts_with("*.")) {
    std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return host == pattern;
}

absl::Status ValidatePattern(std::string_view pattern) {
  if (pattern == "*") return absl::OkStatus();
  std::string_view rest = pattern.starts_with("*.") ? pattern.substr(2) : pattern;
  if (rest.empty()) {
    return absl::InvalidArgumentError(std::string("empty intercept pattern: '") +
                                      std::string(pattern) + "'");
  }
  for (char c : rest) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          c == ':' || c == '[' || c == ']')) {
      return absl::InvalidArgumentError(
          std::string("intercept pattern '") + std::string(pattern) +
          "' may only hold host name characters, with '*.' as a prefix or '*' alone");
    }
  }
  return absl::OkStatus();
}

Route Decide(std::string_view host, const std::vector<std::string>& intercept_patterns) {
  if (IsSelfCheckHost(host)) return Route::kIntercept;  // answered by relaytap itself
  for (const std::string& p : intercept_patterns) {
    if (HostMatchesPattern(host, p)) return Route::kIntercept;
  }
  return Route::kTunnel;
}

}  // namespace relaytap::proxy
