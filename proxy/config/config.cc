#include "proxy/config/config.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/ascii.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/config/config_keys.h"
#include "proxy/config/route.h"
#include "proxy/tls/name_constraints.h"

namespace relaytap::proxy {
namespace {

absl::StatusOr<uint16_t> ParsePort(std::string_view text, std::string_view what) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return absl::InvalidArgumentError(StrCat("invalid port '", text, "' in ", what));
  }
  return static_cast<uint16_t>(value);
}

// Splits "host:rest" where host may be "[v6]". Returns host (brackets stripped) and the rest
// after the colon. `had_colon` is false when nothing follows the host.
absl::StatusOr<std::pair<std::string, std::string_view>> TakeHost(std::string_view text,
                                                                  std::string_view what) {
  if (text.starts_with("[")) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(StrCat("unclosed '[' in ", what));
    }
    std::string host(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return absl::InvalidArgumentError(StrCat("expected ':' after ']' in ", what));
    }
    return std::make_pair(host, rest.empty() ? rest : rest.substr(1));
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::make_pair(std::string(text), std::string_view());
  return std::make_pair(std::string(text.substr(0, colon)), text.substr(colon + 1));
}

}  // namespace

std::vector<std::string> ProxyConfig::DefaultInterceptPatterns() {
  return {"*.openai.azure.com", "*.cognitiveservices.azure.com", "*.services.ai.azure.com",
          "*.realtimeapi-preview.ai.azure.com", "api.openai.com"};
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  std::string what = StrCat("'", text, "' (expected ADDR:PORT)");
  RELAYTAP_ASSIGN_OR_RETURN(auto parts, TakeHost(text, what));
  if (parts.first.empty() || parts.second.empty()) return absl::InvalidArgumentError(what);
  RELAYTAP_ASSIGN_OR_RETURN(uint16_t port, ParsePort(parts.second, what));
  return HostPort{parts.first, port};
}

absl::StatusOr<ConnectTo> ParseConnectTo(std::string_view text) {
  std::string what = StrCat("--connect-to '", text, "' (expected HOST:PORT:HOST2:PORT2)");
  ConnectTo rule;
  RELAYTAP_ASSIGN_OR_RETURN(auto first, TakeHost(text, what));
  rule.host = AsciiStrToLower(first.first);
  std::string_view rest = first.second;
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return absl::InvalidArgumentError(what);
  if (colon > 0) {
    RELAYTAP_ASSIGN_OR_RETURN(rule.port, ParsePort(rest.substr(0, colon), what));
  }
  rest = rest.substr(colon + 1);
  RELAYTAP_ASSIGN_OR_RETURN(auto second, TakeHost(rest, what));
  rule.to_host = second.first;
  if (second.second.empty() && rest.find(':') == std::string_view::npos) {
    return absl::InvalidArgumentError(what);
  }
  if (!second.second.empty()) {
    RELAYTAP_ASSIGN_OR_RETURN(rule.to_port, ParsePort(second.second, what));
  }
  return rule;
}

const ConnectTo* FindConnectTo(const std::vector<ConnectTo>& rules, const HostPort& target) {
  const std::string host = AsciiStrToLower(target.host);
  for (const ConnectTo& r : rules) {
    if (!r.host.empty() && r.host != host) continue;
    if (r.port != 0 && r.port != target.port) continue;
    return &r;
  }
  return nullptr;
}

HostPort ResolveConnectTo(const std::vector<ConnectTo>& rules, const HostPort& target) {
  const ConnectTo* r = FindConnectTo(rules, target);
  if (r == nullptr) return target;
  return HostPort{r->to_host.empty() ? target.host : r->to_host,
                  r->to_port == 0 ? target.port : r->to_port};
}

bool IsLoopbackHost(std::string_view host) {
  std::string h = AsciiStrToLower(host);
  if (h == "localhost" || h == "::1") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const in6_addr kLoop = IN6ADDR_LOOPBACK_INIT;
    return std::memcmp(&v6, &kLoop, sizeof(v6)) == 0;
  }
  return false;
}

using json = nlohmann::json;

absl::Status MergeConfigFile(const std::filesystem::path& file, ProxyConfig& config) {
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(StrCat("cannot read config file ", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(
        StrCat("config file ", file.string(), " is not a JSON object"));
  }
  for (const auto& [key, value] : doc.items()) {
    absl::Status st = MergeConfigKey(key, value, config);
    if (!st.ok()) {
      return absl::InvalidArgumentError(StrCat(file.string(), ": ", std::string(st.message())));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMetrics(const ProxyConfig& config) {
  if (!config.metrics) return absl::OkStatus();
  const HostPort& m = *config.metrics;
  if (!config.metrics_allow_remote && !IsLoopbackHost(m.host)) {
    return absl::InvalidArgumentError(
        StrCat("refusing --metrics on non-loopback address ", m.host,
               ": pass --metrics-allow-remote if you mean to expose it"));
  }
  if (m.port != 0 && m.port == config.listen.port) {
    return absl::InvalidArgumentError(StrCat("--metrics ", Authority(m),
                                             ": that is the proxy's own port (--listen ",
                                             Authority(config.listen), "); pick another"));
  }
  if (!config.record) {
    return absl::InvalidArgumentError(
        "--metrics counts what the recorder classifies, as the store has it: it needs recording "
        "(drop --no-record)");
  }
  return absl::OkStatus();
}

absl::Status ValidateConfig(const ProxyConfig& config) {
  if (!config.allow_remote && !IsLoopbackHost(config.listen.host)) {
    return absl::InvalidArgumentError(
        StrCat("refusing to listen on non-loopback address ", config.listen.host,
               ": an open intercepting proxy is dangerous; pass --allow-remote if you mean it"));
  }
  if (config.allow_remote && !config.proxy_auth_file && config.allow_clients.empty()) {
    return absl::InvalidArgumentError(
        "--allow-remote needs --proxy-auth-file FILE (Basic proxy credentials) or --allow-client "
        "CIDR (repeatable): an open intercepting proxy on a machine that trusts its CA lets "
        "anyone read and forge this traffic");
  }
  if (config.intercept.empty()) {
    return absl::InvalidArgumentError("no intercept patterns: give at least one --intercept");
  }
  for (const std::string& p : config.intercept) RELAYTAP_RETURN_IF_ERROR(ValidatePattern(p));
  RELAYTAP_RETURN_IF_ERROR(ValidateUpstreamProxy(config));
  RELAYTAP_RETURN_IF_ERROR(ValidateMetrics(config));
  // Each pattern becomes a name constraint of the CA: "*.<DNS name>", a DNS name, an IP, or "*".
  return tls::ConstraintsForPatterns(config.intercept).status();
}

}  // namespace relaytap::proxy
