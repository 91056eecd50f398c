// The upstream proxy settings of ProxyConfig (--upstream-proxy and its companions): parsing the
// URL, taking it from the environment when asked, reading the credentials, and the checks.
#include <arpa/inet.h>

#include <fstream>
#include <sstream>

#include "base/ascii.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/config/config.h"
#include "proxy/config/route.h"

namespace relaytap::proxy {
namespace {

bool IsIpLiteral(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding of the userinfo; nullopt on a broken escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::Status CheckCredentials(std::string_view credentials, std::string_view source) {
  if (credentials.find(':') == std::string_view::npos || credentials.front() == ':' ||
      credentials.find_first_of("\r\n") != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(source, ": credentials must be USER:PASS"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadCredentialsFile(const std::filesystem::path& path) {
  const std::string what = StrCat("--upstream-proxy-auth-file ", path.string());
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat(what, ": cannot read it"));
  std::stringstream text;
  text << in.rdbuf();
  std::string credentials(StripAsciiWhitespace(text.str()));
  RELAYTAP_RETURN_IF_ERROR(CheckCredentials(credentials, what));
  return credentials;
}

// The proxy's address is relaytap's own listen address: every CONNECT would come back to it.
bool IsOwnListenAddress(const HostPort& proxy, const HostPort& listen) {
  if (proxy.port != listen.port) return false;
  if (AsciiStrToLower(proxy.host) == AsciiStrToLower(listen.host)) return true;
  const bool listen_any = listen.host == "0.0.0.0" || listen.host == "::";
  return IsLoopbackHost(proxy.host) && (listen_any || IsLoopbackHost(listen.host));
}

// NO_PROXY as curl reads it: "host" and ".host" both cover the host and its subdomains, "*"
// everything. Entries the pattern syntax cannot say are set aside.
void AddNoProxy(std::string_view value, ProxyConfig& config) {
  for (std::string_view entry : SplitHttpList(value)) {
    entry = StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    if (entry == "*") {
      config.no_upstream_proxy_for.push_back("*");
      continue;
    }
    if (entry.starts_with("*.")) entry.remove_prefix(1);
    if (entry.starts_with(".")) entry.remove_prefix(1);
    const std::string host = AsciiStrToLower(entry);
    const bool ip = IsIpLiteral(host);
    const bool host_port = !ip && host.find(':') != std::string::npos;
    if (host.find('/') != std::string::npos || host_port || !ValidatePattern(host).ok()) {
      config.no_proxy_ignored.emplace_back(entry);
      continue;
    }
    config.no_upstream_proxy_for.push_back(host);
    if (!ip) config.no_upstream_proxy_for.push_back("*." + host);
  }
}

}  // namespace

absl::StatusOr<UpstreamProxy> ParseUpstreamProxyUrl(std::string_view url) {
  // The message names the URL only without its userinfo.
  std::string_view rest = url;
  constexpr std::string_view kScheme = "http://";
  if (!StartsWithIgnoreCase(rest, kScheme)) {
    return absl::InvalidArgumentError(
        "--upstream-proxy: expected http://[USER:PASS@]HOST:PORT or env (only http:// proxies, "
        "reached with CONNECT)");
  }
  rest.remove_prefix(kScheme.size());
  if (rest.ends_with("/")) rest.remove_suffix(1);
  UpstreamProxy proxy;
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::optional<std::string> credentials = PercentDecode(rest.substr(0, at));
    if (!credentials) {
      return absl::InvalidArgumentError("--upstream-proxy: a broken %-escape in USER:PASS");
    }
    RELAYTAP_RETURN_IF_ERROR(CheckCredentials(*credentials, "--upstream-proxy"));
    proxy.credentials = *std::move(credentials);
    rest.remove_prefix(at + 1);
  }
  absl::StatusOr<HostPort> address = ParseHostPort(rest);
  if (!address.ok() || rest.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("--upstream-proxy: 'http://", rest, "' needs HOST:PORT (and no path)"));
  }
  proxy.address = *std::move(address);
  return proxy;
}

absl::Status ResolveUpstreamProxy(ProxyConfig& config, EnvLookup getenv) {
  if (config.upstream_proxy_from_env) {
    const char* value = getenv("HTTPS_PROXY");
    if (value == nullptr || *value == '\0') value = getenv("https_proxy");
    if (value == nullptr || *value == '\0') {
      return absl::InvalidArgumentError(
          "--upstream-proxy env: neither HTTPS_PROXY nor https_proxy is set");
    }
    absl::StatusOr<UpstreamProxy> proxy = ParseUpstreamProxyUrl(value);
    if (!proxy.ok()) {
      return absl::InvalidArgumentError(
          StrCat("--upstream-proxy env (HTTPS_PROXY): ", std::string(proxy.status().message())));
    }
    config.upstream_proxy = *std::move(proxy);
    const char* no_proxy = getenv("NO_PROXY");
    if (no_proxy == nullptr || *no_proxy == '\0') no_proxy = getenv("no_proxy");
    if (no_proxy != nullptr) AddNoProxy(no_proxy, config);
  }
  const bool has_auth = config.upstream_proxy_auth_file || !config.upstream_proxy_auth_env.empty();
  if (has_auth && !config.upstream_proxy) {
    return absl::InvalidArgumentError(
        "--upstream-proxy-auth-file / --upstream-proxy-auth-env need --upstream-proxy");
  }
  if (config.upstream_proxy_auth_file) {
    RELAYTAP_ASSIGN_OR_RETURN(config.upstream_proxy->credentials,
                              ReadCredentialsFile(*config.upstream_proxy_auth_file));
  }
  if (!config.upstream_proxy_auth_env.empty()) {
    const std::string what = StrCat("--upstream-proxy-auth-env ", config.upstream_proxy_auth_env);
    const char* value = getenv(config.upstream_proxy_auth_env.c_str());
    if (value == nullptr || *value == '\0') {
      return absl::InvalidArgumentError(StrCat(what, ": the variable is not set"));
    }
    RELAYTAP_RETURN_IF_ERROR(CheckCredentials(value, what));
    config.upstream_proxy->credentials = value;
  }
  return absl::OkStatus();
}

absl::Status ValidateUpstreamProxy(const ProxyConfig& config) {
  for (const std::string& p : config.no_upstream_proxy_for) {
    absl::Status st = ValidatePattern(p);
    if (!st.ok()) {
      return absl::InvalidArgumentError(
          StrCat("--no-upstream-proxy-for: ", std::string(st.message())));
    }
  }
  if (config.upstream_proxy && IsOwnListenAddress(config.upstream_proxy->address, config.listen)) {
    return absl::InvalidArgumentError(
        StrCat("--upstream-proxy ", config.upstream_proxy->Display(),
               " is relaytap's own listen address: every CONNECT would come back to relaytap (a "
               "loop); name the site's proxy instead"));
  }
  return absl::OkStatus();
}

bool UsesUpstreamProxy(const ProxyConfig& config, const HostPort& target) {
  if (!config.upstream_proxy) return false;
  for (const std::string& p : config.no_upstream_proxy_for) {
    if (HostMatchesPattern(target.host, p)) return false;
  }
  return true;
}

}  // namespace relaytap::proxy
